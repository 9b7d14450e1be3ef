"""A running venue for end-to-end FIX tests: a real 3-node cluster (``venue node``
processes), the demo reference data and balances, and a ``venue fix-gateway`` process with
the demo sessions, all on 127.0.0.1 and stopped by PID at the end."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.processes import LocalCluster, stop_process
from venue.cluster.nodeconfig import DEMO_PRINCIPAL
from venue.gateways.fix import local

from ..running_cluster import free_port, start_seeded
from .fixclient import FixClient


class Venue:
    def __init__(self, folder: Path) -> None:
        self.cluster = LocalCluster(folder)
        self.folder = folder
        self.gateway: subprocess.Popen | None = None

    def start(self) -> None:
        start_seeded(self.cluster, self.folder)
        config = self.cluster.configs[1]
        local.write_local_gateway(self.folder, self.cluster.addresses, config.cluster_id,
                                  DEMO_PRINCIPAL, config.credentials[DEMO_PRINCIPAL],
                                  free_port())
        self.config = local.load(self.folder)
        self.start_gateway()

    def start_gateway(self) -> None:
        self.gateway = local.start_gateway(self.folder)
        if not local.wait_listening(self.config.host, self.config.port, self.gateway):
            raise AssertionError((self.folder / "fix-gateway.log").read_text())

    def kill_gateway(self) -> None:
        assert self.gateway is not None
        os.kill(self.gateway.pid, signal.SIGKILL)
        self.gateway.wait(10)

    def client(self, target: str) -> FixClient:
        entry = next(e for e in self.config.sessions
                     if e.fix.session_id.target_comp_id == target)
        client = FixClient(self.config.host, self.config.port, target)
        reply = client.logon(entry.fix.password)
        assert reply.msg_type == b"A", reply.raw
        return client

    def stop(self) -> None:
        stop_process(self.gateway)
        self.cluster.stop_all()


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    running = Venue(tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()
