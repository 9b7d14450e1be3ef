"""Load for ``bench_cluster.py``: a local cluster of ``venue node`` subprocesses, a steady
order mix per client session, closed- and open-loop drivers over ``VenueClient``, and
latency summaries shared with the pysyncobj peer (``pysyncobj_peer.py``).

Open loop: every command has a planned send time (``start + k / rate``); its latency is
measured from that planned time, so a stall in the cluster or in the load generator shows
up as latency instead of as a lower send rate (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root

from tests.cluster.processes import LocalCluster
from venue.cluster.client import VenueClient
from venue.codecs import (
    AddInstrument,
    CancelOrder,
    Deposit,
    OrderType,
    Side,
    SubmitOrder,
    TimeInForce,
)

INSTRUMENT_ID = 1
QUOTE_ASSET, BASE_ASSET = 1, 2
MID_PRICE = 6_500_000
BALANCE = 10**15  # never exhausted by a bounded run
DRAIN_TIMEOUT_S = 10.0
PERCENTILES = (("p50", 0.50), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999))
_encoder = msgspec.msgpack.Encoder(order="deterministic")


class ProcessCluster(LocalCluster):
    """``nodes`` ``venue node`` processes on 127.0.0.1, stopped by PID: the process-level
    tests' ``LocalCluster``, with the benchmark's durability mode."""

    def __init__(self, folder: Path, durability: str, nodes: int) -> None:
        super().__init__(folder, nodes, durability=durability)


class OrderFlow:
    """One session's steady mix: GTC limit orders a few ticks around one price (some
    cross and fill), and cancels of the session's oldest orders, so the book and the
    balances stay level however long it runs."""

    def __init__(self, account: int, seed: int, cancel_share: float = 0.45,
                 open_orders_max: int = 64) -> None:
        self.account = account
        self.rng = random.Random(seed)
        self.cancel_share = cancel_share
        self.open_orders_max = open_orders_max
        self.open: deque[str] = deque()
        self.counter = 0

    def next_command(self) -> bytes:
        self.counter += 1
        rng = self.rng
        if self.open and (len(self.open) >= self.open_orders_max
                          or rng.random() < self.cancel_share):
            return _encoder.encode(CancelOrder(self.account, INSTRUMENT_ID, f"x{self.counter}",
                                               orig_client_order_id=self.open.popleft()))
        client_order_id = f"o{self.counter}"
        self.open.append(client_order_id)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        return _encoder.encode(SubmitOrder(
            self.account, INSTRUMENT_ID, client_order_id, side, OrderType.LIMIT,
            TimeInForce.GTC, price=MID_PRICE + rng.randint(-8, 8), quantity=rng.randint(1, 10)))

    def payload_size_bytes(self) -> int:
        return len(_encoder.encode(SubmitOrder(
            self.account, INSTRUMENT_ID, "o100000", Side.BUY, OrderType.LIMIT,
            TimeInForce.GTC, price=MID_PRICE, quantity=5)))


async def set_up_market(client: VenueClient, accounts: list[int]) -> None:
    await client.submit(AddInstrument(INSTRUMENT_ID, "BTC-USD", base_asset=BASE_ASSET,
                                      quote_asset=QUOTE_ASSET, price_decimals=2,
                                      quantity_decimals=4))
    for account in accounts:
        await client.submit(Deposit(account, QUOTE_ASSET, BALANCE))
        await client.submit(Deposit(account, BASE_ASSET, BALANCE))


@dataclass
class LoadResult:
    offered_per_s: float  # 0 for a closed loop
    sent: int
    completed: int
    elapsed_s: float
    latencies_ns: list[int] = field(default_factory=list)

    @property
    def rate_per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> dict[str, float]:
        return summarise(self.latencies_ns, self.sent - self.completed)


def summarise(latencies_ns: list[int], lost: int) -> dict[str, float]:
    """Percentiles in milliseconds; commands never answered count as infinitely late."""
    ordered = sorted(latencies_ns)
    total = len(ordered) + lost
    result: dict[str, float] = {"samples": total, "lost": lost}
    for name, quantile in PERCENTILES:
        rank = max(1, math.ceil(quantile * total)) - 1
        result[name] = ordered[rank] / 1e6 if rank < len(ordered) else math.inf
    return result


async def closed_loop(clients: list[VenueClient], flows: list[OrderFlow], window: int,
                      duration_s: float) -> LoadResult:
    """Each session keeps ``window`` commands in flight until ``duration_s`` is up."""
    latencies: list[int] = []
    end_ns = time.monotonic_ns() + int(duration_s * 1e9)
    counts = [0, 0]  # sent, completed

    async def worker(client: VenueClient, flow: OrderFlow) -> None:
        while time.monotonic_ns() < end_ns:
            sent_ns = time.monotonic_ns()
            counts[0] += 1
            await client.submit(flow.next_command(), timeout_s=DRAIN_TIMEOUT_S)
            latencies.append(time.monotonic_ns() - sent_ns)
            counts[1] += 1

    started_ns = time.monotonic_ns()
    await asyncio.gather(*(worker(client, flow) for client, flow in zip(clients, flows, strict=True)
                           for _ in range(window)))
    elapsed_s = (time.monotonic_ns() - started_ns) / 1e9
    return LoadResult(0.0, counts[0], counts[1], elapsed_s, latencies)


async def open_loop(clients: list[VenueClient], flows: list[OrderFlow], rate_per_s: float,
                    duration_s: float, window: int) -> LoadResult:
    """Offer ``rate_per_s`` in total, split evenly over the sessions, for ``duration_s``;
    at most ``window`` commands in flight per session (a late command waits, and its
    wait counts in its latency)."""
    loop = asyncio.get_running_loop()
    latencies: list[int] = []
    in_flight = [0] * len(clients)
    counts = [0, 0]
    start_ns = time.monotonic_ns() + 20_000_000
    interval_ns = len(clients) * 1e9 / rate_per_s
    per_session = int(duration_s * rate_per_s / len(clients))

    def finished(task: asyncio.Task, planned_ns: int, index: int) -> None:
        in_flight[index] -= 1
        if not task.cancelled() and task.exception() is None:
            latencies.append(time.monotonic_ns() - planned_ns)
            counts[1] += 1

    async def sender(index: int) -> None:
        client, flow = clients[index], flows[index]
        offset_ns = int(interval_ns * index / len(clients))  # sessions interleave
        for k in range(per_session):
            planned_ns = start_ns + offset_ns + int(k * interval_ns)
            delay_ns = planned_ns - time.monotonic_ns()
            if delay_ns > 0:
                await asyncio.sleep(delay_ns / 1e9)
            while in_flight[index] >= window:
                await asyncio.sleep(0.0005)
            in_flight[index] += 1
            counts[0] += 1
            task = loop.create_task(client.submit(flow.next_command(),
                                                  timeout_s=DRAIN_TIMEOUT_S))
            task.add_done_callback(lambda t, p=planned_ns, i=index: finished(t, p, i))

    await asyncio.gather(*(sender(index) for index in range(len(clients))))
    deadline = time.monotonic() + DRAIN_TIMEOUT_S + 1
    while sum(in_flight) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    elapsed_s = (time.monotonic_ns() - start_ns) / 1e9
    return LoadResult(rate_per_s, counts[0], counts[1], elapsed_s, latencies)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of process ``pid`` (None: this process), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU microseconds per command of each node process and of the load generator
    over one run: on a 2-core machine their sum bounds the throughput at
    2,000,000 / sum commands/s, whatever the pipeline does."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.before = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def per_command_us(self, commands: int) -> dict[str, float]:
        return {name: 1e6 * (cpu_seconds(pid) - self.before[name]) / max(1, commands)
                for name, pid in self.pids.items()}


def probe_disk(commits: int = 300, pause_s: float = 0.001) -> dict[str, float]:
    """Synced LMDB commits of one 500-byte record on the temporary directory's disk
    (where the benchmark's nodes keep their data), ``pause_s`` apart: p50 / p99 / max in
    ms. The fsync figures move with this; printed beside them."""
    import lmdb

    with tempfile.TemporaryDirectory(prefix="venue-disk-probe-") as folder:
        env = lmdb.open(folder, map_size=64 << 20, sync=True, metasync=True)
        took = []
        try:
            for index in range(commits):
                started = time.perf_counter()
                with env.begin(write=True) as txn:
                    txn.put(index.to_bytes(8, "big"), bytes(500))
                took.append((time.perf_counter() - started) * 1e3)
                time.sleep(pause_s)  # paced like a lightly loaded node, not a tight loop
        finally:
            env.close()
    took.sort()
    return {"p50": took[len(took) // 2], "p99": took[int(len(took) * 0.99)], "max": took[-1]}


def thinned(latencies_ns: list[int], points_max: int = 20_000) -> list[float]:
    """Sorted latencies in milliseconds, at most ``points_max`` of them, for a plot."""
    ordered = sorted(latencies_ns)
    step = max(1, len(ordered) // points_max)
    return [value / 1e6 for value in ordered[::step]]


def py_spy_record(pid: int, duration_s: float, path: Path) -> subprocess.Popen | None:
    """Start sampling ``pid`` with py-spy (raw folded stacks); None if py-spy is missing."""
    try:
        return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration",
                                 str(max(1, round(duration_s))), "--format", "raw",
                                 "--nonblocking", "-o", str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        return None


def profile_top(path: Path, count: int) -> list[str]:
    """The ``count`` functions with most samples on top of the stack (self) and anywhere
    in it (inclusive, less the frames of nearly every sample: ``main``, the event loop),
    from py-spy's folded output."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames, weight = stack.split(";"), int(samples)
        total += weight
        own[frames[-1]] = own.get(frames[-1], 0) + weight
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + weight
    lines = [f"{total} samples"]
    for title, table in (("self", own), ("inclusive", inclusive)):
        ranked = sorted(((frame, n) for frame, n in table.items() if n < 0.97 * total),
                        key=lambda item: -item[1])[:count]  # not the event loop's frames
        lines += [f"{title:>9} {100 * n / total:5.1f}%  {frame}" for frame, n in ranked]
    return lines
