"""``venue console``: the operator console's process. It follows the cluster's event stream
into a ``ConsoleState``, asks every node for its status, and pushes each browser tab the
state it shows (at most every ``push_interval_ms``, only when something changed); operator
actions go to the cluster as commands (through one ``VenueClient`` session) or as admin
requests to a node."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging

from venue.cluster.client import VenueClient, node_status, request_once
from venue.cluster.stream import EventStream
from venue.codecs.client import AdminRequest, AdminResult

from .actions import ActionHandler, TokenCheck
from .config import ConsoleConfig
from .hub import Hub, Tab
from .nodes import NodeTable
from .state import ConsoleState

log = logging.getLogger("venue.console")
SESSION_START_TIMEOUT_S = 24 * 3600.0  # keep trying in the background; the page says so


class Console:
    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.limits = config.limits
        self.state = ConsoleState(config.limits)
        self.nodes = NodeTable(list(config.addresses))
        self.client = VenueClient(list(config.addresses), cluster_id=config.cluster_id,
                                  principal=config.principal, credential=config.credential)
        self.stream = EventStream(list(config.addresses), 1, principal=config.principal,
                                  credential=config.credential,
                                  preferred=lambda: self.nodes.leader_address())
        self.hub = Hub(config, self._handler)
        self.hub.on_watch = self._send_now
        self.session_ready = False
        self.feed_error = ""
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await self.stream.start()
        for job in (self._start_session(), self._consume(), self._poll_nodes(), self._push()):
            self._tasks.append(loop.create_task(job))
        await self.hub.start()
        log.info("console: listening on http://%s:%d/", self.config.host, self.hub.port)

    async def close(self) -> None:
        await self.hub.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.stream.close()
        await self.client.close()

    def _handler(self, tokens: TokenCheck) -> ActionHandler:
        return ActionHandler(tokens, self.client.submit, self._admin,
                             float(self.limits.action_timeout_s))

    async def _admin(self, action: str, node_id: int) -> list[tuple[int, bool, str]]:
        if action == "snapshot":
            targets = self.nodes.known_nodes() if node_id == 0 else [
                (node_id, self.nodes.address_of(node_id))]
        else:  # transfer-leader goes to the leader
            targets = [(node_id, self.nodes.leader_address())]
        answers = []
        for target, address in targets:
            if address is None:
                answers.append((target, False, "no such node reachable, or no leader"))
                continue
            request = AdminRequest(self.config.principal, self.config.credential, action,
                                   node_id if action != "snapshot" else 0)
            try:
                result = await request_once(address, request, AdminResult,
                                            float(self.limits.action_timeout_s))
            except Exception as exc:  # one node's failure does not hide the others' answers
                answers.append((target, False, f"error: {type(exc).__name__}: {exc}"))
            else:
                answers.append((target, result.ok, result.text))
        return answers

    async def _start_session(self) -> None:
        await self.client.start(SESSION_START_TIMEOUT_S)
        self.session_ready = True
        self._changed.set()

    async def _consume(self) -> None:
        try:
            async for position, outcomes in self.stream:
                self.state.apply(position, outcomes)
                self._changed.set()
        except Exception as exc:  # the page shows that its feed stopped, and why
            self.feed_error = f"{type(exc).__name__}: {exc}"
            log.error("console: the event stream stopped: %s", self.feed_error)
            self._changed.set()

    async def _poll_nodes(self) -> None:
        interval_s = self.limits.status_interval_ms / 1000

        async def ask(address: str) -> dict | str:
            try:
                return await node_status(address, timeout_s=max(interval_s, 1.0))
            except Exception as exc:  # whatever went wrong, the row says the node is out
                return f"unreachable ({type(exc).__name__})"

        while True:
            answers = await asyncio.gather(*(ask(a) for a in self.nodes.addresses))
            if any([self.nodes.update(a, s) for a, s in zip(self.nodes.addresses, answers,
                                                            strict=True)]):
                self._changed.set()
            await asyncio.sleep(interval_s)

    async def _push(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            self.hub.broadcast(functools.partial(self._message, shared=self._shared(),
                                                 cache={}))
            await asyncio.sleep(self.limits.push_interval_ms / 1000)

    def _send_now(self, tab: Tab) -> None:
        """A tab opened or chose another instrument or account: send it its state now."""
        tab.push(self._message(tab, self._shared(), {}))

    def _shared(self) -> dict:
        return {"type": "state", "position": self.state.position,
                "session_ready": self.session_ready, "feed_error": self.feed_error,
                "nodes": self.nodes.view(), "instruments": self.state.instruments_view(),
                "trades": self.state.trades_view()}

    def _message(self, tab: Tab, shared: dict, cache: dict[tuple[int, int], str]) -> str:
        instrument_id = tab.instrument_id
        if not instrument_id and shared["instruments"]:
            instrument_id = shared["instruments"][0]["instrument_id"]
        key = (instrument_id, tab.account)
        if key not in cache:
            cache[key] = json.dumps({
                **shared, "book": self.state.book_view(instrument_id),
                "orders": self.state.orders_view(tab.account) if tab.account else None})
        return cache[key]


async def run_console(config: ConsoleConfig, stop: asyncio.Event) -> None:
    console = Console(config)
    await console.start()
    try:
        await stop.wait()
    finally:
        await console.close()
