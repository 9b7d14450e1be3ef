"""History ingest rate: events/s from a recorded event stream into SQLite and PostgreSQL.

The stream is recorded once per run of the script: exchange-core's workload
(``matching_workload.py``, seeded) goes through the real engine (refdata, risk and matching
modules) as log entries of ``--commands-per-entry`` commands, and each applied entry's
canonical event bytes and timestamp are kept, as the event stream delivers them. Timed:
what the history process does with each entry once it has the bytes: decode the outcomes,
fold them (``HistoryFolder``), and write a transaction (rows + high-water mark) every
``--batch-entries`` entries (the process's default, as in a catch-up) and again every 20
(live flow, where little is ready at once), into a fresh database each run. Every
event of the stream counts, including the ones the history does not store (book levels,
balances): the figure is the stream rate the read model keeps up with.

PostgreSQL: ``--postgres DSN``, or a throwaway server started from the distribution's
binaries (``/usr/lib/postgresql/*/bin``, fsync on, as the default config has it), or
skipped with the reason printed. Several runs, medians; the environment is printed; the
last line is one JSON object.

    python scripts/bench_history.py            # 200,000 commands x 5 runs
    python scripts/bench_history.py --quick    # under a minute
    python scripts/bench_history.py --live     # and through a live 3-node cluster's stream
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_workload as workload
import msgspec
from benchlib import figure, median, print_environment, print_json_line
from matching_engine_path import build_entries, load_modules

from venue.codecs import LogEntry
from venue.engine import Engine
from venue.gateways.history.backends import HistoryDatabase, open_history
from venue.gateways.history.fold import HistoryFolder

SEED = 20_261_202
SMALL_BATCH_ENTRIES = 20  # live flow: the stream has little ready, transactions are small


def record_stream(commands: int, commands_per_entry: int) -> list[tuple[int, int, bytes]]:
    """(position, timestamp_ns, event bytes) of every entry the engine applied."""
    modules, reason = load_modules()
    if not modules:
        raise SystemExit(f"the engine modules do not load: {reason}")
    raw = workload.exchange_core(SEED, commands)
    load = {part: [workload._typed(list(row)) for row in rows] for part, rows in raw.items()}
    entries, _ = build_entries(load, accounts=1_000, batch_commands=commands_per_entry)
    engine = Engine(modules)
    decoder = msgspec.msgpack.Decoder(LogEntry)
    stream = []
    for raw in entries:
        entry = decoder.decode(raw)
        applied = engine.apply(entry)
        stream.append((entry.index, entry.timestamp_ns, applied.event_bytes))
    return stream


def ingest(database: HistoryDatabase, stream: list, batch_entries: int) -> tuple[float, int]:
    """(seconds, events) to fold and write the whole stream."""
    schema = Engine(load_modules()[0]).schema
    decode = schema.decode_outcomes
    folder = HistoryFolder(1)
    events = 0
    started = time.perf_counter()
    for position, timestamp_ns, event_bytes in stream:
        folder.add(position, timestamp_ns, decode(event_bytes))
        if folder.batch.entries >= batch_entries:
            batch = folder.take()
            events += batch.events
            database.write(batch)
    batch = folder.take()
    events += batch.events
    database.write(batch)
    return time.perf_counter() - started, events


def measure(name: str, fresh_database, stream: list, runs: int, batch_entries: int) -> float:
    rates = []
    for run in range(runs):
        database = fresh_database(run)
        try:
            seconds, events = ingest(database, stream, batch_entries)
            fills = len(database.table_rows("fills"))
        finally:
            database.close()
        rates.append(events / seconds)
    spread = ", ".join(f"{rate:,.0f}" for rate in rates)
    print(f"{name:<9} median {median(rates):>10,.0f} events/s   runs: {spread}   "
          f"({events:,} events, {len(stream):,} entries, {fills:,} fills)")
    return median(rates)


class ThrowawayPostgres:
    """initdb + pg_ctl on a free 127.0.0.1 port (as the postgres user when we are root)."""

    def __init__(self) -> None:
        folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        self.bin_dir = Path(folders[0]) if folders else None
        self.folder = Path(tempfile.mkdtemp(prefix="venue-bench-postgres-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)

    def start(self) -> str:
        assert self.bin_dir is not None
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        data = str(self.folder / "data")
        self._run(str(self.bin_dir / "initdb"), "-D", data, "-A", "trust", "-U", "postgres")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", data, "-l", str(self.folder / "log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} "
                        f"-c unix_socket_directories={self.folder}", "-w", "start")
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def stop(self) -> None:
        if self.bin_dir is not None and (self.folder / "data" / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                      "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def postgres_factory(dsn: str):
    import psycopg

    def fresh(run: int) -> HistoryDatabase:
        name = f"bench_history_{run}"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name}")
            connection.execute(f"CREATE DATABASE {name}")
        return open_history(postgres=f"{dsn} dbname={name}")

    return fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands-per-entry", type=int, default=20)
    parser.add_argument("--batch-entries", type=int, default=2_000)
    parser.add_argument("--postgres", help="a DSN (default: a throwaway local server)")
    parser.add_argument("--quick", action="store_true", help="60,000 commands x 3 runs")
    parser.add_argument("--live", action="store_true",
                        help="also read a live 3-node cluster's stream (bench_history_live)")
    parser.add_argument("--live-orders", type=int, default=50_000)
    args = parser.parse_args()
    if args.quick:
        args.commands, args.runs = 60_000, 3
    print_environment()
    print(f"# seed {SEED}, {args.commands:,} commands, {args.commands_per_entry} per entry, "
          f"{args.batch_entries:,} entries per transaction, {args.runs} runs")
    stream = record_stream(args.commands, args.commands_per_entry)
    folder = Path(tempfile.mkdtemp(prefix="venue-bench-history-"))
    made = iter(range(1_000_000))

    def fresh_sqlite(run: int) -> HistoryDatabase:
        return open_history(folder / f"run-{next(made)}.db")

    server, postgres = _postgres(args)
    figures = []
    try:
        backends = {"sqlite": fresh_sqlite, **({"postgres": postgres} if postgres else {})}
        for name, fresh in backends.items():
            rate = measure(name, fresh, stream, args.runs, args.batch_entries)
            small = measure(f"{name}/{SMALL_BATCH_ENTRIES}", fresh, stream, args.runs,
                            SMALL_BATCH_ENTRIES)
            figures += [figure(f"{name}_events_per_s", rate, "events/s"),
                        figure(f"{name}_events_per_s_small_batches", small, "events/s")]
        if args.live:
            from bench_history_live import measure_live

            live = measure_live(backends, args.live_orders, min(args.runs, 3), SEED)
            figures += [figure(f"{name}_live_events_per_s", rate, "events/s")
                        for name, rate in live.items()]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if server is not None:
            server.stop()
    print_json_line("bench_history", figures, name="bench_history")
    return 0


def _postgres(args: argparse.Namespace):
    """(the throwaway server or None, a factory of fresh databases or None)."""
    server = None
    dsn = args.postgres
    if dsn is None:
        server = ThrowawayPostgres()
        if server.bin_dir is None:
            print("postgres: skipped (no server binaries in /usr/lib/postgresql/*/bin; "
                  "apt-get install postgresql, or give --postgres DSN)")
            return None, None
        dsn = server.start()
    base = " ".join(part for part in dsn.split() if not part.startswith("dbname="))
    return server, postgres_factory(base)


if __name__ == "__main__":
    sys.exit(main())
