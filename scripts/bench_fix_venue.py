"""What ``bench_fix.py`` measures against: a 3-node cluster (``venue node`` processes, the
process-level tests' ``LocalCluster``), BTC-USD listed and one funded account for each
benchmark session, and a ``venue fix-gateway`` process whose config has one order-entry
session per load connection (``LOAD1``..``LOADn``, accounts 201..) with a throttle the load
never reaches; or the QuickFIX reference acceptor (``bench_fix_quickfix.py``). Everything
binds 127.0.0.1 and is stopped by PID."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root

from tests.cluster.processes import LocalCluster
from venue.cluster.cli_cluster import wait_for_leader
from venue.cluster.client import VenueClient
from venue.cluster.nodeconfig import DEMO_PRINCIPAL, OPERATOR_PRINCIPAL
from venue.codecs import Deposit
from venue.gateways.fix import local

SCRIPTS = Path(__file__).resolve().parent
FIRST_ACCOUNT = 201
BALANCE = 10**16  # never exhausted by a bounded run
THROTTLE_PER_S = 10_000_000  # above any rate the load offers
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``; by PID only."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)


class VenueUnderTest:
    """The cluster and the gateway; ``sessions`` are ``(SenderCompID, password)``."""

    def __init__(self, folder: Path, connections: int, durability: str,
                 store_sync: bool = True) -> None:
        self.folder = folder
        self.store_sync = store_sync
        self.cluster = LocalCluster(folder, 3, durability=durability)
        self.sessions = [(f"LOAD{i + 1}", secrets.token_hex(6)) for i in range(connections)]
        self.accounts = [FIRST_ACCOUNT + i for i in range(connections)]
        self.gateway: subprocess.Popen | None = None
        self.port = free_port()
        self.leader = 0

    def start(self) -> None:
        self.leader = self.cluster.start_all()
        config = self.cluster.configs[1]
        asyncio.run(self._fund(config.cluster_id, config.credentials[OPERATOR_PRINCIPAL]))
        self._write_gateway_config(config.cluster_id, config.credentials[DEMO_PRINCIPAL])
        self.gateway = local.start_gateway(self.folder)
        if not local.wait_listening("127.0.0.1", self.port, self.gateway):
            raise SystemExit("the gateway did not start:\n"
                             + (self.folder / "fix-gateway.log").read_text()[-3000:])

    async def _fund(self, cluster_id: str, credential: str) -> None:
        client = VenueClient(self.cluster.addresses, cluster_id=cluster_id,
                             principal=OPERATOR_PRINCIPAL, credential=credential)
        await client.start()
        try:
            await client.submit(local.DEMO_INSTRUMENTS[0])  # BTC-USD
            for account in self.accounts:
                for asset in (local.USD, local.BTC_ASSET):
                    await client.submit(Deposit(account, asset, BALANCE,
                                                f"bench-{account}-{asset}"))
        finally:
            await client.close()

    def _write_gateway_config(self, cluster_id: str, credential: str) -> None:
        sessions = [{"target_comp_id": sender, "account": account, "password": password,
                     "throttle_per_s": THROTTLE_PER_S, "cancel_on_disconnect": False}
                    for (sender, password), account in zip(self.sessions, self.accounts,
                                                            strict=True)]
        (self.folder / local.GATEWAY_FILE).write_text(json.dumps({
            "cluster": {"addresses": self.cluster.addresses, "cluster_id": cluster_id,
                        "principal": DEMO_PRINCIPAL, "credential": credential},
            "listen": ["127.0.0.1", self.port], "data_dir": "fix-gateway",
            "sender_comp_id": "VENUE", "sessions": sessions,
            "store_sync": self.store_sync}, indent=2) + "\n")

    def problems(self) -> dict[str, int]:
        """Warning and error lines of the gateway's and the nodes' logs (failed submits,
        elections, exceptions), without their timestamps, with how often each appeared."""
        counts: dict[str, int] = {}
        for path in [self.folder / "fix-gateway.log", *sorted(self.folder.glob("node-*.log"))]:
            text = path.read_text(errors="replace") if path.exists() else ""
            for line in text.splitlines():
                if "ERROR" in line or "Traceback" in line or "WARNING" in line:
                    message = line.split(" ", 2)[-1] if line[:2].isdigit() else line
                    key = f"{path.name}: {message[:160]}"
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def current_leader(self) -> int:
        return wait_for_leader(self.folder, 10)

    def stop(self) -> None:
        stop_process(self.gateway)
        self.cluster.stop_all()


class QuickFixUnderTest:
    """The QuickFIX reference acceptor, sessions ``LOAD1``..``LOADn``."""

    def __init__(self, folder: Path, connections: int) -> None:
        self.folder = folder
        self.sessions = [(f"LOAD{i + 1}", "unused") for i in range(connections)]
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.folder / "quickfix.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "bench_fix_quickfix.py"), "--port", str(self.port),
             "--sessions", str(len(self.sessions)), "--folder", str(self.folder / "qf")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if not local.wait_listening("127.0.0.1", self.port, self.process, timeout_s=20):
            raise SystemExit("the QuickFIX acceptor did not start:\n"
                             + (self.folder / "quickfix.log").read_text()[-3000:])

    def stop(self) -> None:
        stop_process(self.process)
