"""The live path of ``bench_history.py --live``: a real 3-node cluster (``venue node``
processes on 127.0.0.1, fsync durability), the demo instruments and balances, a seeded load
of limit orders submitted through a cluster session (untimed), then, timed, the history
writer (``HistoryWriter``, as ``venue history`` runs it) reading the whole stream from
position 1 over TCP and writing it into a fresh database, until its high-water mark
reaches the cluster's applied index. That is a catch-up: the node paces it
(``CATCH_UP_ENTRIES_PER_CALL`` entries a tick), the reader batches what is ready.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import median

from venue.cluster.cli_cluster import start_nodes, stop_pids, wait_for_leader
from venue.cluster.client import VenueClient, node_status
from venue.cluster.nodeconfig import (
    DEMO_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    free_base_port,
    load_config,
    write_local_cluster,
)
from venue.codecs import OrderType, Side, SubmitOrder, TimeInForce
from venue.gateways.fix import local
from venue.gateways.history.backends import HistoryDatabase
from venue.gateways.history.process import HistoryWriter

LOAD_CHUNK = 100
PRICE = 5_000_000  # BTC-USD 50000.00


async def _load(addresses: list[str], cluster_id: str, credential: str, orders: int,
                seed: int) -> None:
    rng = random.Random(seed)
    client = VenueClient(addresses, cluster_id=cluster_id, principal=DEMO_PRINCIPAL,
                         credential=credential)
    await client.start()
    try:
        for start in range(0, orders, LOAD_CHUNK):
            commands = [SubmitOrder(101 + n % 2, 1, f"L{start + n}",
                                    Side.SELL if n % 2 == 0 else Side.BUY, OrderType.LIMIT,
                                    TimeInForce.GTC, PRICE + rng.randint(-20, 20),
                                    rng.randint(1, 20) * 100)
                        for n in range(LOAD_CHUNK)]
            await asyncio.gather(*(client.submit(command) for command in commands))
    finally:
        await client.close()


async def _catch_up(database: HistoryDatabase, addresses: list[str], target: int,
                    credential: str) -> tuple[float, int, int, int]:
    """(seconds, events, entries, transactions) for the writer to reach ``target`` from
    position 1."""
    writer = HistoryWriter(database, addresses, principal=DEMO_PRINCIPAL,
                           credential=credential)
    started = time.perf_counter()
    task = asyncio.get_running_loop().create_task(writer.run())
    deadline = time.monotonic() + 600
    while writer.position < target:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise SystemExit(f"live: the writer stalled at {writer.position} of {target}")
        await asyncio.sleep(0.002)  # polling the writer's own progress counter
    seconds = time.perf_counter() - started
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return seconds, writer.events_written, writer.entries_written, writer.batches_written


def measure_live(backends: dict[str, Callable[[int], HistoryDatabase]], orders: int,
                 runs: int, seed: int) -> dict[str, float]:
    """Median events/s per backend; the cluster is started once and stopped by PID."""
    folder = Path(tempfile.mkdtemp(prefix="venue-bench-history-live-"))
    processes = {}
    try:
        paths = write_local_cluster(folder, 3, free_base_port(3))
        config = load_config(paths[0])
        addresses = [f"{load_config(p).me.client[0]}:{load_config(p).me.client[1]}"
                     for p in paths]
        processes = start_nodes(folder)
        if not wait_for_leader(folder, 30):
            raise SystemExit("live: no leader within 30 s")
        local.seed_demo(folder, addresses, config.cluster_id, OPERATOR_PRINCIPAL,
                        config.credentials[OPERATOR_PRINCIPAL])
        asyncio.run(_load(addresses, config.cluster_id, config.credentials[DEMO_PRINCIPAL],
                          orders, seed))
        target = asyncio.run(node_status(addresses[0]))["applied_index"]
        rates = {}
        for name, fresh in backends.items():
            runs_rates = []
            for run in range(runs):
                database = fresh(1_000 + run)
                try:
                    seconds, events, entries, batches = asyncio.run(
                        _catch_up(database, addresses, target,
                                  config.credentials[DEMO_PRINCIPAL]))
                finally:
                    database.close()
                runs_rates.append(events / seconds)
            spread = ", ".join(f"{rate:,.0f}" for rate in runs_rates)
            print(f"live {name:<9} median {median(runs_rates):>10,.0f} events/s   runs: "
                  f"{spread}   ({events:,} events, {entries:,} entries from a 3-node "
                  f"cluster; last run {batches} transactions)")
            rates[name] = median(runs_rates)
        return rates
    finally:
        stop_pids({node_id: process.pid for node_id, process in processes.items()})
        shutil.rmtree(folder, ignore_errors=True)
