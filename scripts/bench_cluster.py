"""Cluster throughput and latency: a 3-node venue cluster on this machine (subprocesses),
client sessions submitting new orders and cancels through ``VenueClient``, in both
durability modes, with pysyncobj measured beside it in the same run as the peer reference.

* Closed loop: every session keeps ``--window`` commands in flight; committed throughput is
  commands acknowledged per second (``--runs`` runs, median).
* Open loop: fixed offered rates, each command with a planned send time; latency is
  measured from the planned time (a stall is not hidden); p50, p99, p99.9, p99.99. A sweep
  stops at the first rate the system cannot keep up with.
* pysyncobj: 3 SyncObj processes replicating an append of a payload as large as one
  encoded order, driven the same two ways (``pysyncobj_peer.py``).

    python scripts/bench_cluster.py            # full: several minutes
    python scripts/bench_cluster.py --quick    # under a minute
    python scripts/bench_cluster.py --profile  # also py-spy the leader under closed load
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line
from cluster_load import (
    PERCENTILES,
    CpuMeter,
    LoadResult,
    OrderFlow,
    ProcessCluster,
    closed_loop,
    open_loop,
    probe_disk,
    profile_top,
    py_spy_record,
    set_up_market,
    thinned,
)
from pysyncobj_peer import PeerCluster

from venue.cluster.client import node_status
from venue.cluster.gctune import tune_gc
from venue.cluster.nodeconfig import free_base_port

RATES_FULL = (100, 250, 500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000,
              30_000, 50_000, 75_000, 100_000)
RATES_QUICK = (100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
P99_MS_MAX = 10.0  # "highest rate with p99 under 10 ms"
SATURATED_P99_MS = 200.0  # past this the sweep stops: higher rates only queue up more
TARGETS = {"fsync": (50_000, 10.0), "replicated": (10_000, 1.0)}  # rate, p99 ms
RATIO_TARGET = 25.0
OPEN_WINDOW = 1024  # in flight per session in the open loop (unacked_commands_max 4096)


def saturated(summary: dict[str, float]) -> bool:
    return summary["lost"] > 0 or summary["p99"] > SATURATED_P99_MS


def best_rate(sweep: dict[float, dict[str, float]], p99_ms_max: float) -> float:
    """The highest offered rate whose p99 is under ``p99_ms_max`` with nothing lost."""
    rates = [rate for rate, s in sweep.items() if s["lost"] == 0 and s["p99"] < p99_ms_max]
    return max(rates, default=0.0)


def median_summary(summaries: list[dict[str, float]]) -> dict[str, float]:
    return {key: median([s[key] for s in summaries]) for key in summaries[0]}


def print_closed(label: str, rates: list[float], summary: dict[str, float]) -> None:
    spread = " ".join(f"{rate:,.0f}" for rate in rates)
    print(f"{label:<22} closed loop: median {median(rates):>9,.0f} commands/s   runs: "
          f"{spread}   latency p50 {summary['p50']:.2f} ms, p99 {summary['p99']:.2f} ms")


def print_sweep_row(label: str, rate: float, summary: dict[str, float],
                    runs: list[dict[str, float]]) -> None:
    cells = "  ".join(f"{name} {summary[name]:8.2f}" for name, _ in PERCENTILES)
    p99s = " ".join(f"{s['p99']:.1f}" for s in runs)
    lost = f"  lost {summary['lost']:.0f}" if summary["lost"] else ""
    print(f"{label:<22} {rate:>8,.0f}/s  {cells} ms  (p99 runs: {p99s}){lost}", flush=True)


async def measure_venue(cluster: ProcessCluster, args: argparse.Namespace, label: str,
                        leader: int) -> dict:
    leader_pid = cluster.processes[leader].pid
    leader_address = cluster.addresses[leader - 1]
    clients = [cluster.client() for _ in range(args.clients)]
    for client in clients:
        await client.start()
    flows = [OrderFlow(1000 + index, args.seed * 1000 + index)
             for index in range(args.clients)]
    await set_up_market(clients[0], [flow.account for flow in flows])
    await closed_loop(clients, flows, args.window, args.warmup_s)  # warm-up
    first_index = (await node_status(leader_address))["last_index"]
    meter = CpuMeter({**{("leader" if node_id == leader else f"follower {node_id}"):
                         process.pid for node_id, process in cluster.processes.items()},
                      "load generator": None})
    closed = [await closed_loop(clients, flows, args.window, args.duration_s)
              for _ in range(args.runs)]
    entries = (await node_status(leader_address))["last_index"] - first_index
    rates = [result.rate_per_s for result in closed]
    print_closed(label, rates, median_summary([r.summary() for r in closed]))
    commands = sum(result.completed for result in closed)
    print(f"# {label}: {commands / max(1, entries):.1f} commands per log entry in the "
          f"closed loop ({entries:,} entries)")
    cpu = meter.per_command_us(commands)
    print(f"# {label}: CPU per command in the closed loop: "
          + ", ".join(f"{name} {us:.1f} us" for name, us in sorted(cpu.items()))
          + f"; sum {sum(cpu.values()):.1f} us, so {os.cpu_count()} cores allow at most "
          f"{os.cpu_count() * 1e6 / max(1e-9, sum(cpu.values())):,.0f} commands/s")
    profile = []
    if args.profile:
        profile = await profile_closed(clients, flows, args, leader_pid, label)
    sweep, curves = {}, {}
    for rate in args.rates:
        runs: list[LoadResult] = [
            await open_loop(clients, flows, rate, args.rate_duration_s, OPEN_WINDOW)
            for _ in range(args.rate_runs)]
        summary = median_summary([run.summary() for run in runs])
        print_sweep_row(label, rate, summary, [run.summary() for run in runs])
        sweep[rate], curves[rate] = summary, thinned(runs[-1].latencies_ns)
        if saturated(summary):
            break
    for client in clients:
        await client.close()
    return {"closed": rates, "sweep": sweep, "curves": curves, "profile": profile,
            "cpu_us": cpu}


async def profile_closed(clients, flows, args, leader_pid: int, label: str) -> list[str]:
    path = Path(tempfile.mkdtemp(prefix="venue-py-spy-")) / f"leader-{label}.txt"
    sampler = py_spy_record(leader_pid, args.duration_s, path)
    if sampler is None:
        return ["py-spy is not installed: pip install py-spy"]
    result = await closed_loop(clients, flows, args.window, args.duration_s + 1)
    await asyncio.to_thread(sampler.wait, 30)
    if not path.exists():
        return [f"py-spy wrote nothing (exit {sampler.returncode}; it needs ptrace rights)"]
    print(f"# py-spy of the leader (pid {leader_pid}) under closed load "
          f"({result.rate_per_s:,.0f} commands/s while sampled): {path}")
    lines = profile_top(path, 14)
    for line in lines:
        print(f"#   {line}")
    return lines


def run_venue(mode: str, args: argparse.Namespace) -> dict:
    import uvloop

    with tempfile.TemporaryDirectory(prefix=f"venue-bench-{mode}-") as folder:
        cluster = ProcessCluster(Path(folder), mode, args.nodes)
        try:
            leader = cluster.start_all()
            pid = cluster.processes[leader].pid
            print(f"# {mode}: {args.nodes} nodes up, leader node {leader} (pid {pid})",
                  flush=True)
            return uvloop.run(measure_venue(cluster, args, mode, leader))
        finally:
            cluster.stop_all()


def run_peer(args: argparse.Namespace, payload_bytes: int) -> dict:
    label = "pysyncobj"
    with tempfile.TemporaryDirectory(prefix="venue-bench-pysyncobj-") as folder:
        base = free_base_port(args.nodes, __import__("random").Random(args.seed + 7))
        peer = PeerCluster(Path(folder), base, payload_bytes, batch=args.peer_batch)
        try:
            peer.start()
            window = args.clients * args.window
            peer.run({"op": "closed", "window": window, "duration_s": args.warmup_s})
            closed = [peer.run({"op": "closed", "window": window,
                                "duration_s": args.duration_s}) for _ in range(args.runs)]
            rates = [run["completed"] / run["elapsed_s"] for run in closed]
            print_closed(label, rates, median_summary(closed))
            sweep = {}
            for rate in args.rates:
                runs = [peer.run({"op": "open", "rate": rate, "window": OPEN_WINDOW,
                                  "duration_s": args.rate_duration_s})
                        for _ in range(args.rate_runs)]
                sweep[rate] = median_summary(runs)
                print_sweep_row(label, rate, sweep[rate], runs)
                if saturated(sweep[rate]):
                    break
        finally:
            peer.stop()
    return {"closed": rates, "sweep": sweep}


def plot(mode: str, result: dict, peer: dict | None, plot_dir: Path) -> Path | None:
    """Left: latency by percentile at each offered rate; right: p50..p99.99 against the
    offered rate, with pysyncobj's p99 for reference."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("# matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return None
    figure_, (spectrum, by_rate) = plt.subplots(1, 2, figsize=(13, 5))
    for rate, curve in result["curves"].items():
        count = len(curve)
        tail = [1 / (1 - (k + 0.5) / count) for k in range(count)]  # 1/(1-q)
        spectrum.plot(tail, curve, label=f"{rate:,.0f}/s")
    spectrum.set(xscale="log", yscale="log", xlabel="percentile (1/(1-q): 10 = p90, "
                 "100 = p99, ...)", ylabel="latency from planned send, ms",
                 title=f"venue {mode}: latency by percentile, open loop")
    spectrum.legend(fontsize=7)
    rates = list(result["sweep"])
    for name, _ in PERCENTILES:
        by_rate.plot(rates, [result["sweep"][r][name] for r in rates], marker="o",
                     label=f"venue {name}")
    if peer:
        peer_rates = list(peer["sweep"])
        by_rate.plot(peer_rates, [peer["sweep"][r]["p99"] for r in peer_rates], "k--",
                     marker="x", label="pysyncobj p99")
    target_rate, target_ms = TARGETS[mode]
    by_rate.axhline(target_ms, color="red", linewidth=0.8, label=f"{target_ms:g} ms")
    by_rate.axvline(target_rate, color="red", linestyle=":", linewidth=0.8,
                    label=f"target {target_rate:,}/s")
    by_rate.set(xscale="log", yscale="log", xlabel="offered commands/s",
                ylabel="latency, ms", title=f"venue {mode} vs pysyncobj: percentiles")
    by_rate.legend(fontsize=7)
    figure_.tight_layout()
    path = plot_dir / f"bench_cluster_{mode}.png"
    figure_.savefig(path, dpi=110)
    plt.close(figure_)
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--modes", nargs="*", default=["fsync", "replicated"],
                        choices=["fsync", "replicated"])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4, help="client sessions")
    parser.add_argument("--window", type=int, default=16,
                        help="commands in flight per session, closed loop")
    parser.add_argument("--runs", type=int, default=5, help="closed-loop runs")
    parser.add_argument("--duration-s", type=float, default=5.0, help="per closed run")
    parser.add_argument("--warmup-s", type=float, default=2.0)
    parser.add_argument("--rates", type=float, nargs="+", default=None)
    parser.add_argument("--rate-runs", type=int, default=3, help="open-loop runs per rate")
    parser.add_argument("--rate-duration-s", type=float, default=5.0)
    parser.add_argument("--no-peer", action="store_true", help="skip pysyncobj")
    parser.add_argument("--peer-batch", action="store_true",
                        help="pysyncobj's batching mode (default: its latency mode)")
    parser.add_argument("--plot-dir", type=Path, default=None)
    parser.add_argument("--profile", action="store_true", help="py-spy the leader")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration_s, args.warmup_s = 3, 1.0, 0.5
        args.rate_runs, args.rate_duration_s = 1, 1.5
    args.rates = tuple(args.rates or (RATES_QUICK if args.quick else RATES_FULL))
    args.plot_dir = args.plot_dir or Path(tempfile.mkdtemp(prefix="venue-bench-plots-"))
    args.plot_dir.mkdir(parents=True, exist_ok=True)
    return args


def report_targets(results: dict[str, dict], peer: dict | None) -> dict[str, float]:
    best = {mode: best_rate(result["sweep"], P99_MS_MAX) for mode, result in results.items()}
    print("# highest offered rate with p99 under 10 ms: "
          + ", ".join(f"{mode} {rate:,.0f}/s" for mode, rate in best.items())
          + (f", pysyncobj {best_rate(peer['sweep'], P99_MS_MAX):,.0f}/s" if peer else ""))
    for mode, result in results.items():
        target_rate, target_ms = TARGETS[mode]
        reached = best_rate(result["sweep"], target_ms)
        verdict = "met" if reached >= target_rate else "NOT met"
        print(f"# target {mode}: >= {target_rate:,}/s with p99 < {target_ms:g} ms: {verdict}"
              f" (highest rate with p99 < {target_ms:g} ms: {reached:,.0f}/s; closed loop "
              f"{median(result['closed']):,.0f}/s)")
    ratios = {}
    if peer:
        peer_best = best_rate(peer["sweep"], P99_MS_MAX)
        for mode, rate in best.items():
            ratios[mode] = rate / peer_best if peer_best else 0.0
            verdict = "met" if ratios[mode] >= RATIO_TARGET else "NOT met"
            print(f"# {mode} vs pysyncobj (highest rate with p99 < 10 ms): "
                  f"{ratios[mode]:.2f}x, target >= {RATIO_TARGET:g}x: {verdict}")
    return ratios


def print_disk(when: str) -> None:
    disk = probe_disk()
    print(f"# disk {when}: a synced LMDB commit takes p50 {disk['p50']:.2f}, p99 "
          f"{disk['p99']:.2f}, max {disk['max']:.2f} ms (300 commits, 1 ms apart)", flush=True)


def main() -> None:
    args = parse_args()
    print_environment()
    payload_bytes = OrderFlow(1, 1).payload_size_bytes()
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"# note: on {os.cpu_count()} cores the {args.nodes} nodes, the clients and the "
          "load generator (one process) share the CPUs; another engineer's work on the "
          "same machine shows up as noise")
    print(f"# workload: {args.clients} sessions, closed-loop window {args.window}/session, "
          f"new orders around one price (~45% cancels), {payload_bytes}-byte commands; "
          f"{args.runs} closed runs of {args.duration_s:g} s + warm-up; open loop "
          f"{args.rate_runs} x {args.rate_duration_s:g} s per rate; seed {args.seed}")
    print_disk("at start")
    tune_gc()  # the load generator too, as the nodes and gateways (gctune.py)
    started = time.monotonic()
    results = {mode: run_venue(mode, args) for mode in args.modes}
    peer = None if args.no_peer else run_peer(args, payload_bytes)
    ratios = report_targets(results, peer)
    for mode, result in results.items():
        path = plot(mode, result, peer, args.plot_dir)
        if path:
            print(f"# plot {mode}: {path}")
    print_disk("at end")
    print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{time.monotonic() - started:.0f} s")
    figures = []
    for mode, result in results.items():
        suffix = "" if mode == "fsync" else f"_{mode}"
        p99_rate = best_rate(result["sweep"], P99_MS_MAX)
        figures += [figure(f"commands_per_s{suffix}", median(result["closed"]), "commands/s"),
                    figure(f"rate_p99_under_10ms{suffix}", p99_rate, "commands/s")]
    if peer:
        figures += [figure("pysyncobj_commands_per_s", median(peer["closed"]), "commands/s"),
                    figure("pysyncobj_rate_p99_under_10ms",
                           best_rate(peer["sweep"], P99_MS_MAX), "commands/s")]
        figures += [figure("vs_pysyncobj" if mode == "fsync" else f"vs_pysyncobj_{mode}",
                           ratio, "x") for mode, ratio in ratios.items()]
    print_json_line("cluster", figures, durability=args.modes, nodes=args.nodes,
                    quick=args.quick)


if __name__ == "__main__":
    main()
