"""A running venue for end-to-end WebSocket tests: a real 3-node cluster (``venue node``
processes), the demo reference data and balances, and a ``venue ws-gateway`` process with
a token per demo account, all on 127.0.0.1 and stopped by PID at the end; and a small
asyncio client on the ``websockets`` library."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.cluster.processes import LocalCluster, stop_process
from venue.cluster.nodeconfig import DEMO_PRINCIPAL
from venue.gateways.ws import local

from ..running_cluster import free_port, start_seeded

WAIT_S = 20.0
LIMITS = {"messages_per_s": 20_000, "outgoing_messages_max": 500}


class WsVenue:
    def __init__(self, folder: Path) -> None:
        self.cluster = LocalCluster(folder)
        self.folder = folder
        self.gateway: subprocess.Popen | None = None

    def start(self) -> None:
        start_seeded(self.cluster, self.folder)
        config = self.cluster.configs[1]
        self.gateway, lines = local.start_local(
            self.folder, self.cluster.addresses, config.cluster_id, DEMO_PRINCIPAL,
            config.credentials[DEMO_PRINCIPAL], free_port(), limits=LIMITS)
        assert self.gateway is not None, (self.folder / local.WS_LOG_FILE).read_text()
        self.config = local.load(self.folder)
        assert lines == local.describe(self.config)
        assert lines[0] == f"  WebSocket JSON API: {self.url}"

    def start_gateway(self) -> None:
        self.gateway = local.start_ws_gateway(self.folder)
        if not local.wait_listening(self.config.host, self.config.port, self.gateway):
            raise AssertionError((self.folder / local.WS_LOG_FILE).read_text())

    def kill_gateway(self) -> None:
        assert self.gateway is not None
        os.kill(self.gateway.pid, signal.SIGKILL)
        self.gateway.wait(10)

    @property
    def url(self) -> str:
        return f"ws://{self.config.host}:{self.config.port}/"

    def token(self, name: str) -> str:
        return next(entry.token for entry in self.config.tokens if entry.name == name)

    def stats(self) -> dict[str, int]:
        url = f"http://{self.config.host}:{self.config.port}/stats"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        stop_process(self.gateway)
        self.cluster.stop_all()


@pytest.fixture(scope="module")
def ws_venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsVenue]:
    running = WsVenue(tmp_path_factory.mktemp("ws-venue"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


class WsClient:
    """One client connection; every message it receives is kept in ``seen``."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict] = []
        self._unread: list[dict] = []

    @classmethod
    async def open(cls, url: str, token: str | None = None) -> WsClient:
        client = cls(await connect(url, compression=None))
        if token is not None:
            await client.send({"type": "auth", "token": token})
            reply = await client.expect(lambda m: m["type"] in ("authenticated", "error"))
            assert reply["type"] == "authenticated", reply
        return client

    async def send(self, message: dict) -> None:
        await self.connection.send(json.dumps(message))

    async def expect(self, predicate: Callable[[dict], bool],
                     timeout_s: float = WAIT_S) -> dict:
        """The first message not yet returned that fits ``predicate`` (reading more as
        needed, within ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for index, message in enumerate(self._unread):
                if predicate(message):
                    del self._unread[index]
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such message within {timeout_s} s; "
                                     f"seen: {self.seen[-10:]}")
            raw = await asyncio.wait_for(self.connection.recv(), remaining)
            self.seen.append(json.loads(raw))
            self._unread.append(self.seen[-1])

    async def order_update(self, client_order_id: str, status: str) -> dict:
        return await self.expect(lambda m: m["type"] == "order" and m["status"] == status
                                 and m["client_order_id"] == client_order_id)

    async def close(self) -> None:
        await self.connection.close()
