"""Engine throughput: decode -> dispatch -> a trivial module -> encode events -> hash chain,
without storage and with batched LMDB appends (log entries, then events).

Seeded workload of ``Increment`` commands (random keys) from several client sessions,
``--batch`` commands per log entry, pre-encoded as the log would hold them. One warm-up run,
then ``--runs`` measured runs; medians reported. Last line: one JSON object.

    python scripts/bench_engine.py            # full: 1,000,000 commands x 5 runs
    python scripts/bench_engine.py --quick    # under a minute
    python scripts/bench_engine.py --profile  # cProfile of one no-storage run
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line

from venue.cluster.store import DataStore, Durability
from venue.codecs import (
    ClientCommand,
    CommandBatch,
    EntryKind,
    LogEntry,
    SessionOpen,
)
from venue.engine import Engine
from venue.engine.modules.counter import CounterModule, Increment

COUNTER_SPEC = "venue.engine.modules.counter:CounterModule"


def build_workload(commands: int, batch: int, sessions: int, seed: int) -> list[bytes]:
    """Encoded log entries: ``sessions`` session opens, then command batches."""
    rng = random.Random(seed)
    encoder = msgspec.msgpack.Encoder()
    entries: list[bytes] = []
    timestamp_ns = 1_700_000_000_000_000_000
    for index in range(1, sessions + 1):
        entries.append(encoder.encode(LogEntry(index, 1, timestamp_ns, EntryKind.SESSION_OPEN,
                                               encoder.encode(SessionOpen(f"client-{index}")))))
    next_seq = dict.fromkeys(range(1, sessions + 1), 1)
    index = sessions
    for start in range(0, commands, batch):
        rows = []
        for _ in range(min(batch, commands - start)):
            session = rng.randint(1, sessions)
            command = Increment(rng.randrange(10_000), rng.randint(1, 9))
            rows.append(ClientCommand(session, next_seq[session],
                                      encoder.encode(command)))
            next_seq[session] += 1
        index += 1
        timestamp_ns += 1_000
        entries.append(encoder.encode(LogEntry(index, 1, timestamp_ns, EntryKind.COMMAND_BATCH,
                                               encoder.encode(CommandBatch(rows)))))
    return entries


def run_memory(entries: list[bytes]) -> tuple[float, bytes]:
    decoder = msgspec.msgpack.Decoder(LogEntry)
    engine = Engine([CounterModule()])
    apply = engine.apply
    started = time.perf_counter()
    for raw in entries:
        apply(decoder.decode(raw))
    return time.perf_counter() - started, engine.chain.head


def run_lmdb(entries: list[bytes], durability: Durability, entries_per_txn: int
             ) -> tuple[float, bytes]:
    decoder = msgspec.msgpack.Decoder(LogEntry)
    engine = Engine([CounterModule()])
    with tempfile.TemporaryDirectory(prefix="venue-bench-") as directory:
        store = DataStore(directory, create=True, module_specs=[COUNTER_SPEC],
                          durability=durability)
        started = time.perf_counter()
        for start in range(0, len(entries), entries_per_txn):
            group = [decoder.decode(raw) for raw in entries[start:start + entries_per_txn]]
            store.append(group)
            applied = [engine.apply(entry) for entry in group]
            store.put_events([(a.index, a.chain_hash, a.event_bytes) for a in applied])
        elapsed = time.perf_counter() - started
        store.close()
    return elapsed, engine.chain.head


def measure(label: str, runner, commands: int, runs: int) -> tuple[float, bytes]:
    runner()  # warm-up
    rates, heads = [], []
    for _ in range(runs):
        elapsed, head = runner()
        rates.append(commands / elapsed)
        heads.append(head)
    if len(set(heads)) != 1:
        raise SystemExit(f"{label}: runs disagree on the chain head: not deterministic")
    rate = median(rates)
    spread = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"{label:<34} median {rate:>12,.0f} commands/s   runs: {spread}")
    return rate, heads[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100, help="commands per log entry")
    parser.add_argument("--entries-per-txn", type=int, default=32,
                        help="log entries per LMDB write transaction")
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.commands, args.runs = 200_000, 3
    print_environment()
    print(f"# workload: {args.commands:,} Increment commands, {args.batch}/entry, "
          f"{args.sessions} sessions, {args.entries_per_txn} entries/LMDB txn, "
          f"seed {args.seed}, {args.runs} runs + warm-up")
    entries = build_workload(args.commands, args.batch, args.sessions, args.seed)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run_memory, entries)
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    memory, head = measure("no storage", lambda: run_memory(entries), args.commands, args.runs)
    lmdb_rates = {}
    for durability in (Durability.FSYNC, Durability.REPLICATED):
        rate, lmdb_head = measure(
            f"LMDB batched ({durability.value})",
            lambda d=durability: run_lmdb(entries, d, args.entries_per_txn),
            args.commands, args.runs)
        if lmdb_head != head:
            raise SystemExit("LMDB run produced a different chain head")
        lmdb_rates[durability] = rate
    print(f"# chain head {head.hex()}")
    print_json_line("engine", [
        figure("commands_per_s", memory, "commands/s"),
        figure("commands_per_s_lmdb", lmdb_rates[Durability.FSYNC], "commands/s"),
        figure("commands_per_s_lmdb_replicated", lmdb_rates[Durability.REPLICATED],
               "commands/s"),
    ], durability="fsync", batch=args.batch, quick=args.quick)


if __name__ == "__main__":
    main()
