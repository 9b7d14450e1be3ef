"""WebSocket order round trips through a 3-node cluster: ``venue node`` processes, a
``venue ws-gateway`` process, and a few WebSocket clients (the ``websockets`` library) in
this process, all on 127.0.0.1.

A round trip is a ``submit`` sent to the first ``order`` message about it (``accepted``):
gateway decode and checks, the cluster session, Raft replication to a majority (with the
chosen durability), the engine, the event stream back to the gateway, and the JSON update.
Every order is a limit IOC far from any price, so the book stays empty and each order is
one command (accepted, then its IOC remainder cancelled).

* closed loop: each connection keeps ``--window`` orders in flight; orders_per_s is the
  completion rate (the maximum this machine sustains);
* open loop: orders sent on a fixed schedule at each ``--rates`` total rate, latency
  measured from the scheduled send time (no coordinated omission); bounded: a run stops
  when more than ``OUTSTANDING_MAX`` orders are unanswered and is reported as overloaded.

Seeded (order sides and prices), several runs of each, medians; the environment is
printed; the last line is one JSON object. ``--quick`` takes under a minute.

    python scripts/bench_ws.py [--quick] [--connections 4] [--durability fsync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import environment, figure, median
from websockets.asyncio.client import ClientConnection, connect

from tests.cluster.processes import LocalCluster
from venue.cluster.nodeconfig import DEMO_PRINCIPAL, OPERATOR_PRINCIPAL
from venue.gateways.fix import local as fix_local
from venue.gateways.ws import local

OUTSTANDING_MAX = 5_000
DRAIN_TIMEOUT_S = 10.0
LIMITS = {"messages_per_s": 10_000_000, "outgoing_messages_max": 1_000_000,
          "outgoing_bytes_max": 1 << 30}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Load:
    """One connection: sends submits, times each to its first order update."""

    def __init__(self, connection: ClientConnection, name: str, rng: random.Random) -> None:
        self.connection, self.name, self.rng = connection, name, rng
        self.sent_at: dict[str, float] = {}
        self.latencies_s: list[float] = []
        self.sequence = 0
        self.done = asyncio.Event()
        self.freed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if message["type"] == "order" and message["status"] in ("accepted", "rejected"):
                started = self.sent_at.pop(message["client_order_id"], None)
                if started is not None:
                    self.latencies_s.append(time.perf_counter() - started)
                    self.freed.set()
            elif message["type"] == "error":
                raise SystemExit(f"the gateway answered an error: {message}")

    async def submit(self, started: float | None = None) -> None:
        self.sequence += 1
        client_order_id = f"{self.name}-{self.sequence}"
        buy = self.rng.random() < 0.5
        ticks = self.rng.randrange(0, 1_000)
        price = f"{1_000 + ticks}.00" if buy else f"{900_000 + ticks}.00"
        self.sent_at[client_order_id] = started if started is not None else \
            time.perf_counter()
        await self.connection.send(json.dumps({
            "type": "submit", "client_order_id": client_order_id, "symbol": "BTC-USD",
            "side": "buy" if buy else "sell", "order_type": "limit",
            "time_in_force": "ioc", "price": price, "quantity": "0.0001"}))

    def reset(self) -> None:
        self.latencies_s = []

    async def drain(self) -> bool:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.sent_at and time.monotonic() < deadline:
            self.freed.clear()
            try:
                await asyncio.wait_for(self.freed.wait(), 0.2)
            except TimeoutError:
                pass
        return not self.sent_at


async def open_loads(url: str, tokens: list[str], connections: int, seed: int
                     ) -> list[Load]:
    loads = []
    for n in range(connections):
        connection = await connect(url, compression=None, max_queue=None)
        await connection.send(json.dumps({"type": "auth",
                                          "token": tokens[n % len(tokens)]}))
        reply = json.loads(await connection.recv())
        assert reply["type"] == "authenticated", reply
        loads.append(Load(connection, f"c{n}-{seed}", random.Random(seed * 100 + n)))
    return loads


async def closed_loop(loads: list[Load], window: int, duration_s: float) -> dict:
    for load in loads:
        load.reset()
    stop_at = time.perf_counter() + duration_s

    async def keep_full(load: Load) -> None:
        while time.perf_counter() < stop_at:
            while len(load.sent_at) < window:
                await load.submit()
            load.freed.clear()
            await load.freed.wait()

    started = time.perf_counter()
    await asyncio.gather(*(keep_full(load) for load in loads))
    elapsed_s = time.perf_counter() - started
    await asyncio.gather(*(load.drain() for load in loads))
    latencies = [s for load in loads for s in load.latencies_s]
    return {"orders_per_s": len(latencies) / elapsed_s, **percentiles(latencies)}


async def open_loop(loads: list[Load], rate_per_s: float, duration_s: float) -> dict:
    for load in loads:
        load.reset()
    interval_s = len(loads) / rate_per_s
    overloaded = False

    async def schedule(load: Load, offset_s: float) -> None:
        nonlocal overloaded
        start = time.perf_counter() + offset_s
        count = int(duration_s / interval_s)
        for k in range(count):
            due = start + k * interval_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if sum(len(other.sent_at) for other in loads) > OUTSTANDING_MAX:
                overloaded = True
                return
            await load.submit(started=due)

    await asyncio.gather(*(schedule(load, n * interval_s / len(loads))
                           for n, load in enumerate(loads)))
    drained = all(await asyncio.gather(*(load.drain() for load in loads)))
    latencies = [s for load in loads for s in load.latencies_s]
    return {"overloaded": overloaded or not drained, "completed": len(latencies),
            **percentiles(latencies)}


def percentiles(latencies_s: list[float]) -> dict[str, float]:
    if not latencies_s:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "p999_ms": float("nan")}
    ordered = sorted(latencies_s)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "p999_ms": at(0.999),
            "mean_ms": statistics.fmean(ordered) * 1000}


def start_venue(folder: Path, durability: str) -> tuple[LocalCluster, object, object]:
    cluster = LocalCluster(folder, 3, durability=durability)
    cluster.start_all()
    config = cluster.configs[1]
    credentials = config.credentials
    fix_local.seed_demo(folder, cluster.addresses, config.cluster_id, OPERATOR_PRINCIPAL,
                        credentials[OPERATOR_PRINCIPAL])
    local.write_local_ws_gateway(folder, cluster.addresses, config.cluster_id,
                                 DEMO_PRINCIPAL, credentials[DEMO_PRINCIPAL], free_port(),
                                 limits=LIMITS)
    ws_config = local.load(folder)
    gateway = local.start_ws_gateway(folder)
    if not local.wait_listening(ws_config.host, ws_config.port, gateway):
        cluster.stop_all()
        raise SystemExit((folder / local.WS_LOG_FILE).read_text()[-3000:])
    return cluster, gateway, ws_config


async def measure(url: str, tokens: list[str], args: argparse.Namespace) -> dict:
    closed: list[dict] = []
    opened: dict[int, list[dict]] = {rate: [] for rate in args.rates}
    for run in range(args.runs):
        loads = await open_loads(url, tokens, args.connections, args.seed + run)
        await closed_loop(loads, args.window, min(1.0, args.duration_s))  # warm-up
        closed.append(await closed_loop(loads, args.window, args.duration_s))
        print(f"run {run + 1} closed loop: {closed[-1]['orders_per_s']:,.0f} orders/s, "
              f"p50 {closed[-1]['p50_ms']:.2f} ms, p99 {closed[-1]['p99_ms']:.2f} ms",
              flush=True)
        for rate in args.rates:
            result = await open_loop(loads, rate, args.duration_s)
            opened[rate].append(result)
            print(f"run {run + 1} open loop {rate}/s: p50 {result['p50_ms']:.2f} ms, "
                  f"p99 {result['p99_ms']:.2f} ms, p99.9 {result['p999_ms']:.2f} ms, "
                  f"{result['completed']} orders"
                  f"{', OVERLOADED' if result['overloaded'] else ''}", flush=True)
        for load in loads:
            await load.connection.close()
    return {"closed": closed, "open": opened}


def report(results: dict, args: argparse.Namespace) -> list[dict]:
    closed = results["closed"]
    figures = [figure("orders_per_s", median([r["orders_per_s"] for r in closed]),
                      "orders/s"),
               figure("closed_loop_p50_ms", median([r["p50_ms"] for r in closed]), "ms"),
               figure("closed_loop_p99_ms", median([r["p99_ms"] for r in closed]), "ms")]
    for rate, runs in results["open"].items():
        for key in ("p50_ms", "p99_ms", "p999_ms"):
            figures.append(figure(f"{key.removesuffix('_ms')}_ms_at_{rate}",
                                  median([r[key] for r in runs]), "ms"))
        figures.append(figure(f"overloaded_runs_at_{rate}",
                              sum(1 for r in runs if r["overloaded"]), "runs"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, under a minute")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--window", type=int, default=8, help="closed loop: in flight each")
    parser.add_argument("--rates", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=5.0)
    parser.add_argument("--durability", choices=["fsync", "replicated"], default="fsync")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration_s = 2, 2.0
    from importlib import metadata

    for key, value in {**environment(), "websockets_version": metadata.version("websockets"),
                       "durability": args.durability,
                       "connections": args.connections, "window": args.window,
                       "rates": args.rates, "runs": args.runs,
                       "duration_s": args.duration_s, "seed": args.seed}.items():
        print(f"# {key}: {value}")
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as folder:
        cluster, gateway, ws_config = start_venue(Path(folder), args.durability)
        try:
            url = f"ws://{ws_config.host}:{ws_config.port}/"
            tokens = [entry.token for entry in ws_config.tokens]
            results = asyncio.run(measure(url, tokens, args))
        finally:
            gateway.terminate()
            try:
                gateway.wait(10)
            except Exception:
                gateway.kill()
                gateway.wait(10)
            cluster.stop_all()
    print(json.dumps({"name": "bench_ws", "figures": report(results, args),
                      "durability": args.durability, "connections": args.connections}))


if __name__ == "__main__":
    main()
