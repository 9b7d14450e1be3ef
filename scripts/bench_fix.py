"""FIX gateway end to end: orders per second and round-trip latency (NewOrderSingle in,
first ExecutionReport out) through one ``venue fix-gateway`` in front of a 3-node cluster,
a QuickFIX acceptor measured the same way as the reference, and the tag=value codec alone
(both twins, ``bench_fix_codec``'s functions).

* Load: a separate process (``bench_fix_load.py``) with ``--connections`` FIX sessions on
  distinct funded accounts; open loop at fixed aggregate rates (planned send times, latency
  from the planned time), ``--runs`` runs of each rate, median of each percentile; then a
  closed loop (``--window`` orders in flight per connection) for the throughput.
* QuickFIX (``bench_fix_quickfix.py``): answers each NewOrderSingle with an ExecutionReport
  New from ``fromApp`` at once. No cluster behind it: the floor of a FIX engine's own cost
  in this language binding.
* On a 2-core machine the 3 nodes, the gateway and the load generator share the CPUs.

    python scripts/bench_fix.py            # full: several minutes
    python scripts/bench_fix.py --quick    # under a minute
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fix_codec import codec_rates, prepared
from bench_fix_venue import QuickFixUnderTest, VenueUnderTest
from benchlib import figure, median, print_environment, print_json_line
from cluster_load import profile_top, py_spy_record

from venue.codecs import tagvalue
from venue.engine import book

SCRIPTS = Path(__file__).resolve().parent
RATES_FULL = (1_000, 2_000, 5_000, 10_000, 20_000)
RATES_QUICK = (1_000, 5_000)
LATENCY_RATE, P99_TARGET_MS = 5_000, 5.0
TARGETS = {"parse_per_s": 1_000_000, "encode_per_s": 500_000, "orders_per_s": 20_000}
LOAD_TIMEOUT_S = 900.0
KEYS = ("p50", "p99", "p99.9", "max_ms", "orders_per_s", "missing", "session_rejects",
        "business_rejects", "duplicate_first", "unknown_reports")


def codec_figures(args: argparse.Namespace) -> dict[str, float]:
    """parse_per_s / encode_per_s of both twins, interleaved runs, medians."""
    chunks, _, bodies = prepared(args.messages, args.seed)
    runs = codec_rates(chunks, bodies, args.messages, args.codec_runs, with_get3=False)
    for name, values in runs.items():
        spread = " ".join(f"{value:,.0f}" for value in values)
        print(f"codec {name:<16} median {median(values):>12,.0f} msg/s   runs {spread}")
    return {name: median(values) for name, values in runs.items()}


def plan(args: argparse.Namespace) -> list[dict]:
    steps: list[dict] = [{"kind": "open", "rate": 1_000, "duration_s": 1.0,
                          "record": False}]  # warm-up
    for rate in args.rates:
        steps += [{"kind": "open", "rate": rate, "duration_s": args.duration_s}
                  for _ in range(args.runs)]
    steps += [{"kind": "closed", "window": args.window, "duration_s": args.duration_s}
              for _ in range(args.runs)]
    for step in steps:
        step["drain_s"] = args.drain_s
    if args.profile:
        steps.append({"kind": "closed", "window": args.window, "duration_s": args.duration_s,
                      "mark": "profile"})
    return steps


def drive(port: int, sessions: list[tuple[str, str]], steps: list[dict],
          profiled: dict[Path, int]) -> list[dict]:
    """Run the load process; its step results, in order. When the load reaches the step
    marked ``profile``, py-spy samples each process of ``profiled`` (output path: pid)."""
    command = [sys.executable, str(SCRIPTS / "bench_fix_load.py"), "--port", str(port),
               "--sessions", ",".join(f"{s}={p}" for s, p in sessions),
               "--plan", json.dumps(steps)]
    results: list[dict] = []
    samplers: list[subprocess.Popen] = []
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as load:
        print(f"# load generator pid {load.pid}", flush=True)
        for line in load.stdout:
            record = json.loads(line)
            if record.get("mark") == "profile":
                for path, pid in profiled.items():
                    sampler = py_spy_record(pid, steps[-1]["duration_s"], path)
                    samplers += [sampler] if sampler is not None else []
            elif "step" in record:
                results.append(record)
                print_step(record)
            elif "skipped" in record:
                print(f"# skipped open {record['skipped']['rate']:,}/s: a lower rate "
                      "saturated (missing reports or p99 over 1 s)", flush=True)
            elif "error" in record:
                print(f"# {record['error']}", flush=True)
            if time.monotonic() > deadline:
                load.kill()
                raise SystemExit("the load generator overran its time")
        load.wait(30)
    for sampler in samplers:
        sampler.wait(60)
    return results


def print_step(record: dict) -> None:
    step = record["step"]
    what = (f"open {step['rate']:>7,}/s" if step["kind"] == "open"
            else f"closed w={step['window']}")
    extra = "" if step.get("record", True) else "  (not counted)"
    problems = {k: record[k] for k in KEYS[5:] if record.get(k)}
    print(f"  {what:<16} {record['orders_per_s']:>9,.0f} orders/s  p50 {record['p50']:8.2f}  "
          f"p99 {record['p99']:8.2f}  p99.9 {record['p99.9']:8.2f}  max "
          f"{record['max_ms']:8.2f} ms  first reports {record['first_exec_types']}, "
          f"{record['reports']:,} reports in all"
          f"{'  ' + str(problems) if problems else ''}{extra}", flush=True)


def summarise_steps(results: list[dict]) -> dict[str, dict[str, float]]:
    """Median of each figure over the runs of each step ("open 5000", "closed")."""
    groups: dict[str, list[dict]] = {}
    for record in results:
        step = record["step"]
        if step.get("mark") or not step.get("record", True):
            continue
        key = f"open {step['rate']}" if step["kind"] == "open" else "closed"
        groups.setdefault(key, []).append(record)
    return {key: {name: median([r[name] for r in runs]) for name in KEYS} | {"runs": len(runs)}
            for key, runs in groups.items()}


def measure_venue(args: argparse.Namespace, folder: Path) -> tuple[dict, dict[str, list]]:
    venue = VenueUnderTest(folder / "venue", args.connections, args.durability,
                           store_sync=not args.no_store_sync)
    try:
        venue.start()
        gateway_pid = venue.gateway.pid
        print(f"# venue: 3 nodes ({args.durability}), leader node {venue.leader}; gateway pid "
              f"{gateway_pid} on 127.0.0.1:{venue.port}; {args.connections} sessions; "
              f"session store {'synced' if venue.store_sync else 'not synced'}",
              flush=True)
        profiled = {folder / "gateway-py-spy.txt": gateway_pid,
                    folder / "leader-py-spy.txt": venue.cluster.processes[venue.leader].pid}
        results = drive(venue.port, venue.sessions, plan(args), profiled)
        profile = {path.name.split("-")[0]: profile_top(path, 12)
                   for path in profiled if path.exists()}
        print(f"# leader at the end: node {venue.current_leader()} (at the start: node "
              f"{venue.leader})")
        for line, count in venue.problems().items():
            print(f"# log, {count} times: {line}")
    finally:
        venue.stop()
    return summarise_steps(results), profile


def measure_quickfix(args: argparse.Namespace, folder: Path) -> dict:
    reference = QuickFixUnderTest(folder / "quickfix", args.connections)
    (folder / "quickfix").mkdir(parents=True, exist_ok=True)
    try:
        reference.start()
        print(f"# quickfix acceptor pid {reference.process.pid} on 127.0.0.1:"
              f"{reference.port}", flush=True)
        steps = [step for step in plan(args) if not step.get("mark")]
        results = drive(reference.port, reference.sessions, steps, {})
    finally:
        reference.stop()
    return summarise_steps(results)


def print_side_by_side(venue: dict, quickfix: dict) -> None:
    print("# medians of the runs, latency ms from the planned send time to the first "
          "ExecutionReport; venue | quickfix")
    for key in venue:
        cells = []
        for summary in (venue, quickfix):
            s = summary.get(key)
            cells.append("—" if s is None else
                         f"{s['orders_per_s']:>8,.0f}/s {s['p50']:7.2f} {s['p99']:8.2f} "
                         f"{s['p99.9']:8.2f} {s['max_ms']:8.2f} missing {s['missing']:.0f}")
        print(f"  {key:<12} {cells[0]}  |  {cells[1]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="under a minute")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rates", type=int, nargs="+", default=None)
    parser.add_argument("--runs", type=int, default=3, help="runs of each step")
    parser.add_argument("--duration-s", type=float, default=5.0, help="per step")
    parser.add_argument("--window", type=int, default=32, help="closed loop, per connection")
    parser.add_argument("--durability", default="fsync", choices=["fsync", "replicated"])
    parser.add_argument("--messages", type=int, default=100_000, help="codec")
    parser.add_argument("--codec-runs", type=int, default=5)
    parser.add_argument("--drain-s", type=float, default=10.0,
                        help="after a step, wait this long for missing reports")
    parser.add_argument("--no-quickfix", action="store_true")
    parser.add_argument("--no-store-sync", action="store_true",
                        help="the gateway's session store unsynced (store_sync false)")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration_s, args.messages, args.codec_runs = 1, 2.0, 50_000, 3
        args.drain_s = 3.0
        args.no_profile = True
    args.rates = tuple(args.rates or (RATES_QUICK if args.quick else RATES_FULL))
    args.profile = not args.no_profile
    return args


def finite(value: float) -> float | None:
    """JSON has no infinity: a percentile past the answered orders is null."""
    return value if math.isfinite(value) else None


def report(args: argparse.Namespace, codec: dict, venue: dict, quickfix: dict,
           profile: dict[str, list]) -> None:
    closed = venue.get("closed", {})
    at_rate = venue.get(f"open {LATENCY_RATE}", {})
    orders_per_s = closed.get("orders_per_s", 0.0)
    p99 = at_rate.get("p99", float("inf"))
    for name, target in TARGETS.items():
        value = orders_per_s if name == "orders_per_s" else codec[name]
        print(f"# target {name} >= {target:,}: {value:,.0f} "
              f"{'met' if value >= target else 'NOT met'}")
    print(f"# target p99 < {P99_TARGET_MS:g} ms at {LATENCY_RATE:,}/s: {p99:.2f} ms "
          f"{'met' if p99 < P99_TARGET_MS else 'NOT met'}")
    for process, lines in profile.items():
        print(f"# py-spy of the {process} during the extra closed-loop step:")
        for line in lines:
            print(f"#   {line}")
    figures = [figure(name, value, "msg/s") for name, value in codec.items()]
    figures.append(figure("orders_per_s", orders_per_s, "orders/s"))
    for key, summary in venue.items():
        if key.startswith("open "):
            rate = key.split()[1]
            figures += [figure(f"p99_ms_at_{rate}", summary["p99"], "ms"),
                        figure(f"p50_ms_at_{rate}", summary["p50"], "ms"),
                        figure(f"missing_at_{rate}", summary["missing"], "orders")]
    if quickfix:
        figures.append(figure("quickfix_orders_per_s",
                              quickfix.get("closed", {}).get("orders_per_s", 0.0), "orders/s"))
        figures += [figure(f"quickfix_p99_ms_at_{key.split()[1]}", s["p99"], "ms")
                    for key, s in quickfix.items() if key.startswith("open ")]
    for item in figures:
        item["value"] = finite(item["value"])
    print_json_line("bench_fix", figures, name="bench_fix", quick=args.quick,
                    connections=args.connections, durability=args.durability,
                    store_sync=not args.no_store_sync,
                    seed=args.seed, runs=args.runs)


def main() -> None:
    args = parse_args()
    print_environment()
    print(f"# codec: {tagvalue.IMPLEMENTATION}; book: {book.IMPLEMENTATION}")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"# {os.cpu_count()} cores shared by 3 nodes, the gateway and the load generator "
          f"(and other work on the machine); {args.connections} FIX connections, rates "
          f"{', '.join(f'{r:,}' for r in args.rates)}/s, {args.runs} x {args.duration_s:g} s "
          f"per step; closed loop {args.window} in flight per connection; GTC limits of "
          f"one price, buy on even connections and sell on odd ones (~half trade)")
    started = time.monotonic()
    codec = codec_figures(args)
    with tempfile.TemporaryDirectory(prefix="venue-bench-fix-") as folder:
        venue, profile = measure_venue(args, Path(folder))
        quickfix = {} if args.no_quickfix else measure_quickfix(args, Path(folder))
    print_side_by_side(venue, quickfix)
    print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{time.monotonic() - started:.0f} s")
    report(args, codec, venue, quickfix, profile)


if __name__ == "__main__":
    main()
