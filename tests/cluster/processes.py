"""A real local cluster for process-level tests: ``venue node`` processes on 127.0.0.1,
stopped by PID at the end whatever happened."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from venue.cluster.cli_cluster import wait_for_leader
from venue.cluster.client import VenueClient, node_status
from venue.cluster.nodeconfig import (
    DEMO_PRINCIPAL,
    free_base_port,
    load_config,
    write_local_cluster,
)
from venue.cluster.recovery import recover
from venue.cluster.store import DataStore
from venue.codecs import Schema
from venue.engine import Engine

PORTS_PER_NODE = 3
REPO_ROOT = Path(__file__).resolve().parents[2]  # so nodes can load test modules
START_TIMEOUT_S = 30


class LocalCluster:
    def __init__(self, folder: Path, nodes: int = 3, snapshot_interval_entries: int = 50_000,
                 **options) -> None:
        self.folder = folder
        self.paths = write_local_cluster(folder, nodes, free_base_port(nodes),
                                         snapshot_interval_entries=snapshot_interval_entries,
                                         **options)
        self.configs = {load_config(path).node_id: load_config(path) for path in self.paths}
        self.processes: dict[int, subprocess.Popen] = {}

    @property
    def addresses(self) -> list[str]:
        return [f"{c.me.client[0]}:{c.me.client[1]}" for _, c in sorted(self.configs.items())]

    def start(self, node_id: int, join: bool = False, env: dict[str, str] | None = None
              ) -> None:
        log = (self.folder / f"node-{node_id}.log").open("ab")
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
        self.processes[node_id] = subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "node", "--config",
             str(self.configs[node_id].path), *(["--join"] if join else [])],
            stdout=log, stderr=subprocess.STDOUT, env=environment)
        log.close()

    def start_all(self, env_of: dict[int, dict[str, str]] | None = None) -> int:
        for node_id in self.configs:
            self.start(node_id, env=(env_of or {}).get(node_id))
        leader = wait_for_leader(self.folder, START_TIMEOUT_S)
        if not leader:
            raise AssertionError(f"no leader: {self.logs()}")
        return leader

    def kill(self, node_id: int, signum: int = signal.SIGKILL) -> None:
        process = self.processes[node_id]
        os.kill(process.pid, signum)
        if signum in (signal.SIGKILL, signal.SIGTERM):
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def submit(self, *commands) -> list[list]:
        """Apply ``commands`` in order through a fresh client session; their events."""
        async def run() -> list[list]:
            client = self.client()
            await client.start()
            try:
                return [await client.submit(command) for command in commands]
            finally:
                await client.close()

        return asyncio.run(run())

    def applied_index(self) -> int:
        """The highest index any node has applied."""
        return max(self.status(node_id)["applied_index"] for node_id in self.configs)

    def wipe(self, node_id: int) -> None:
        shutil.rmtree(self.configs[node_id].data_dir)

    def status(self, node_id: int) -> dict:
        client = self.configs[node_id].me.client
        return asyncio.run(node_status(f"{client[0]}:{client[1]}"))

    def wait_until(self, predicate, timeout_s: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (TimeoutError, OSError, ConnectionError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {self.logs()}")

    def credential(self) -> tuple[str, str]:
        """The demo principal and its credential (a client session or a subscription)."""
        config = next(iter(self.configs.values()))
        return DEMO_PRINCIPAL, config.credentials[DEMO_PRINCIPAL]

    def client(self, schema: Schema | None = None) -> VenueClient:
        config = next(iter(self.configs.values()))
        return VenueClient(self.addresses, cluster_id=config.cluster_id,
                           principal=DEMO_PRINCIPAL,
                           credential=config.credentials[DEMO_PRINCIPAL], schema=schema)

    def engine_of(self, node_id: int) -> Engine:
        """The node's state, rebuilt from its data directory (the node must be stopped)."""
        with DataStore(self.configs[node_id].data_dir, readonly=True) as store:
            return recover(store, store.load_modules())

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}"
                         for path in sorted(self.folder.glob("node-*.log")))


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a helper process (a gateway, the history writer) by PID: SIGTERM, then SIGKILL
    if it has not exited within 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
