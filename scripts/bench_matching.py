"""Matching throughput and latency: the Cython book, the pure-Python book, the engine path.

Workloads (``matching_workload.py``, seeded, generated once and written to a file that every
implementation replays): ``exchange_core`` (exchange-core's test generator mix around a
moving last trade price, ~1,000 resting orders in ~750 levels), ``insert_only`` (Liquibook's
passive-insert test) and ``deep_queue`` (100,000 orders at one price swept by large IOC
takers). Closed loop: one command after the other, no pacing.

For each workload the two books run interleaved in the same process: one warm-up run each,
then ``--runs`` measured runs, medians. Every run is gated: both books must end in the same
``to_state()`` and give the same hash over their event streams (canonical msgpack, XXH3-128
chain per chunk of commands), or the script stops. Latency percentiles come from a separate
pass with ``perf_counter_ns`` around each command, so the timer does not distort throughput.
The engine path (commands -> matching + risk modules -> events, encoded and hash-chained) is
in ``matching_engine_path.py``. Last line: one JSON object.

    python scripts/bench_matching.py            # 1,000,000 commands x 5 runs
    python scripts/bench_matching.py --quick    # under a minute
    python scripts/bench_matching.py --profile  # cProfile of one Cython exchange_core run
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_workload as workload
from benchlib import figure, median, print_environment, print_json_line
from matching_engine_path import measure_engine, measure_engine_latency

from venue.engine.book import CyOrderBook, PyOrderBook

SUBMIT, CANCEL, REDUCE, MOVE = workload.SUBMIT, workload.CANCEL, workload.REDUCE, workload.MOVE
CHUNK_COMMANDS = 100  # commands per hash-chain step (untimed), as in one log entry: events
# live as long as one entry's do in the engine (a longer chunk keeps thousands of events
# alive, which measured 2-3x slower from cache misses and collector work alone)
ENCODER = msgspec.msgpack.Encoder(order="deterministic")
ENGINE_LATENCY_COMMANDS = 30_000  # the engine's per-command latency pass (one per entry)


def apply_commands(book, commands: list[tuple], events: list) -> None:
    """Replay ``commands`` on ``book``: the closed loop every measurement runs."""
    submit, cancel, reduce, replace = book.submit, book.cancel, book.reduce, book.replace
    for kind, order_id, account, client_order_id, side, price, quantity, tif in commands:
        if kind == MOVE:
            replace(order_id, price, quantity, events)
        elif kind == SUBMIT:
            submit(order_id, account, client_order_id, side, price, quantity,
                   time_in_force=tif, events=events)
        elif kind == CANCEL:
            cancel(order_id, events)
        else:
            reduce(order_id, quantity, events)


def timed_run(book_class: type, load: dict) -> tuple[int, tuple, bytes]:
    """(nanoseconds spent in the book, final state, event-stream hash). Only the replay of
    the steady-state commands is timed; the prefill and the hashing between chunks are not."""
    book = book_class(workload.INSTRUMENT_ID)
    events: list = []
    apply_commands(book, load["prefill"], events)
    head = xxhash.xxh3_128(ENCODER.encode(events)).digest()
    events.clear()
    commands = load["commands"]
    elapsed_ns = 0
    for start in range(0, len(commands), CHUNK_COMMANDS):
        chunk = commands[start:start + CHUNK_COMMANDS]
        started = time.perf_counter_ns()
        apply_commands(book, chunk, events)
        elapsed_ns += time.perf_counter_ns() - started
        head = xxhash.xxh3_128(head + ENCODER.encode(events)).digest()
        events.clear()
    return elapsed_ns, book.to_state(), head


def latency_run(book_class: type, load: dict, commands_max: int | None = None) -> list[int]:
    """Nanoseconds per steady-state command, one ``perf_counter_ns`` pair around each (the
    dispatch of ``apply_commands`` inlined, so only it and the book call are timed)."""
    book = book_class(workload.INSTRUMENT_ID)
    events: list = []
    apply_commands(book, load["prefill"], events)
    submit, cancel, reduce, replace = book.submit, book.cancel, book.reduce, book.replace
    clock = time.perf_counter_ns
    samples = []
    for index, (kind, order_id, account, client_order_id, side, price, quantity, tif) in \
            enumerate(load["commands"][:commands_max]):
        if index % CHUNK_COMMANDS == 0:
            events.clear()
        started = clock()
        if kind == MOVE:
            replace(order_id, price, quantity, events)
        elif kind == SUBMIT:
            submit(order_id, account, client_order_id, side, price, quantity,
                   time_in_force=tif, events=events)
        elif kind == CANCEL:
            cancel(order_id, events)
        else:
            reduce(order_id, quantity, events)
        samples.append(clock() - started)
    return samples


def percentile(ordered: list[int], fraction: float) -> int:
    return ordered[min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.5) - 1))]


def books() -> list[tuple[str, type]]:
    if CyOrderBook is None:
        raise SystemExit("the Cython book is not compiled: run `pip install -e .` first")
    return [("cython", CyOrderBook), ("python", PyOrderBook)]


def measure_books(name: str, load: dict, runs: int, per_command: float = 1.0,
                  unit: str = "commands/s") -> dict[str, list[float]]:
    """Commands/s (or ``per_command`` times that, in ``unit``) per implementation and run,
    the two interleaved; every run gated."""
    commands = len(load["commands"]) * per_command
    rates: dict[str, list[float]] = {label: [] for label, _ in books()}
    for run in range(runs + 1):  # run 0 is the warm-up
        results = {label: timed_run(cls, load) for label, cls in books()}
        (_, state_cy, head_cy), (_, state_py, head_py) = results["cython"], results["python"]
        if state_cy != state_py:
            raise SystemExit(f"{name} run {run}: the books end in different states")
        if head_cy != head_py:
            raise SystemExit(f"{name} run {run}: the books' event streams differ "
                             f"({head_cy.hex()} vs {head_py.hex()})")
        if run:
            for label, (elapsed_ns, _, _) in results.items():
                rates[label].append(commands / (elapsed_ns / 1e9))
    for label, values in rates.items():
        spread = ", ".join(f"{value:,.0f}" for value in values)
        print(f"{name:<14} {label:<7} median {median(values):>12,.0f} {unit:<12} "
              f"runs: {spread}")
    print(f"{name:<14} speedup {median(rates['cython']) / median(rates['python']):.1f}x   "
          f"(gated: same final state and event hash {head_cy.hex()[:16]}...)")
    return rates


def measure_latency(load: dict) -> dict[str, dict[str, int]]:
    figures = {}
    for label, cls in books():
        latency_run(cls, load, len(load["commands"]) // 10)  # warm-up
        ordered = sorted(latency_run(cls, load))
        figures[label] = {name: percentile(ordered, fraction) for name, fraction in
                          (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999))}
        cells = "   ".join(f"{key} {value:,} ns" for key, value in figures[label].items())
        print(f"latency        {label:<7} {cells}")
    return figures


def build(args: argparse.Namespace) -> tuple[dict, dict]:
    path = args.workload_file
    if path is None:
        path = str(Path(tempfile.mkdtemp(prefix="venue-bench-")) / "matching.msgpack")
    loads = {
        "exchange_core": workload.exchange_core(args.seed, args.commands),
        "insert_only": workload.insert_only(args.seed, args.inserts),
        "deep_queue": workload.deep_queue(args.seed, args.deep_makers),
    }
    workload.write_workloads(path, loads, {"seed": args.seed, "commands": args.commands})
    meta, loads = workload.read_workloads(path)
    print(f"# workload file: {path}")
    return meta, loads


def describe(loads: dict) -> None:
    core = loads["exchange_core"]
    counts = workload.mix(core["commands"])
    total = len(core["commands"])
    shares = ", ".join(f"{name} {count / total:.1%}" for name, count in sorted(counts.items()))
    print(f"# exchange_core: {len(core['prefill']):,} prefill + {total:,} commands: {shares}")
    print(f"# insert_only: {len(loads['insert_only']['commands']):,} passive GTC inserts")
    deep = loads["deep_queue"]
    print(f"# deep_queue: {len(deep['prefill']):,} sells at one price (timed as inserts), "
          f"then {len(deep['commands']):,} IOC takers sweeping them")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small run, under a minute (about 30 s on an idle 2-core box)")
    parser.add_argument("--commands", type=int, default=1_000_000,
                        help="exchange_core steady-state commands")
    parser.add_argument("--inserts", type=int, default=500_000)
    parser.add_argument("--deep-makers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workload-file", default=None,
                        help="where to write the command stream (default: a temp dir)")
    parser.add_argument("--engine-commands", type=int, default=None,
                        help="replay only this prefix of exchange_core through the engine "
                             "(default: all of it)")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.commands, args.inserts, args.runs = 200_000, 50_000, 3
        args.engine_commands = args.engine_commands or 30_000
    return args


def measure_deep_queue(load: dict, runs: int) -> tuple[dict, dict]:
    """The deep-queue test in two timed parts: building the queue (commands/s), then
    sweeping it (makers filled per second)."""
    inserts = measure_books("deep_insert", {"prefill": [], "commands": load["prefill"]}, runs)
    fills_per_taker = len(load["prefill"]) / len(load["commands"])
    sweeps = measure_books("deep_sweep", load, runs, fills_per_taker, "fills/s")
    return inserts, sweeps


def headline(rates: dict, latency: dict, insert: dict, deep_insert: dict, sweep: dict,
             engine_rate: float | None) -> list[dict[str, object]]:
    """The JSON line's figures: medians, the speedup measured in the same run."""
    cython, python = median(rates["cython"]), median(rates["python"])
    figures = [
        figure("cython.commands_per_s", cython, "commands/s"),
        figure("python.commands_per_s", python, "commands/s"),
        figure("speedup", cython / python, "x"),
        figure("engine.commands_per_s", engine_rate, "commands/s") if engine_rate
        else {"name": "engine.commands_per_s", "value": None, "unit": "commands/s"},
    ]
    figures += [figure(f"engine.latency_{name}_ns", value, "ns")
                for name, value in latency.get("engine", {}).items()]
    for label in ("cython", "python"):
        figures += [figure(f"{label}.latency_{name}_ns", value, "ns")
                    for name, value in latency[label].items()]
        figures += [figure(f"{label}.insert_only.commands_per_s", median(insert[label]),
                           "commands/s"),
                    figure(f"{label}.deep_queue_insert.commands_per_s",
                           median(deep_insert[label]), "commands/s"),
                    figure(f"{label}.deep_queue_sweep.fills_per_s", median(sweep[label]),
                           "fills/s")]
    return figures


def main() -> None:
    args = parse_args()
    print_environment()
    print(f"# seed {args.seed}, {args.runs} runs + warm-up, Cython and Python interleaved")
    _, loads = build(args)
    describe(loads)
    gc.collect()
    gc.freeze()  # the workloads are the harness's data: keep them out of the collector's scans
    core = loads["exchange_core"]
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(timed_run, CyOrderBook, core)
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    rates = measure_books("exchange_core", core, args.runs)
    latency = measure_latency(core)
    insert = measure_books("insert_only", loads["insert_only"], args.runs)
    deep_insert, sweep = measure_deep_queue(loads["deep_queue"], args.runs)
    engine_load = {"prefill": core["prefill"], "commands": core["commands"][:args.engine_commands]}
    engine_rate = None if args.skip_engine else measure_engine(engine_load, args.runs)
    if not args.skip_engine:
        engine_latency = measure_engine_latency(core, min(len(engine_load["commands"]),
                                                          ENGINE_LATENCY_COMMANDS))
        if engine_latency is not None:
            latency["engine"] = engine_latency
    print_json_line("matching", headline(rates, latency, insert, deep_insert, sweep, engine_rate),
                    seed=args.seed, runs=args.runs, quick=args.quick, commands=args.commands,
                    engine_commands=len(engine_load["commands"]))


if __name__ == "__main__":
    main()
