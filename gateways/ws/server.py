"""The WebSocket gateway process: the asyncio shell around ``WsGatewayCore``.

Commands go to the cluster through one ``VenueClient`` session (exactly once across
failovers); every order update and all market data come from the cluster's event stream
(``EventStream``), folded by the core. On start the gateway replays the stream from
position 1 to rebuild its read model (instruments, its accounts' orders, books) and opens
the port only once it has caught up. It keeps no delivery position: after a gateway
restart clients reconnect, authenticate and subscribe again, and get fresh snapshots
(order updates that happened while it was down are not resent; the FIX gateway's
committed stream position is the model if that is ever needed).

One port serves both: a WebSocket upgrade on any path is the JSON API; plain HTTP GETs
are answered by ``http.py`` (``/health``, ``/stats``, and static files under
``gateways/ws/static/`` for a page served later).

Each connection has a writer task that takes the core's queued messages and awaits
``send`` (which waits while the socket's buffer is above ``write_limit``); a client that
does not read lets the core's queue grow to its limit, and is then closed with code 1008
and the reason. A message above ``message_size_bytes_max`` closes with 1009 (the
``websockets`` library's ``max_size``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Coroutine

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from venue.gateways.link import ClusterLink

from .config import WsGatewayConfig
from .core import WsGatewayCore
from .http import answer_http

log = logging.getLogger("venue.ws")
CATCH_UP_TIMEOUT_S = 60.0
WRITE_LIMIT_BYTES = 64 * 1024
CLOSE_TIMEOUT_S = 2.0
FLUSH_ENTRIES_MAX = 100  # stream entries folded before the writers get to run


class WsGateway:
    def __init__(self, config: WsGatewayConfig) -> None:
        self.config = config
        self.core = WsGatewayCore(config.accounts_by_token(), config.limits)
        self.link = ClusterLink(config.addresses, cluster_id=config.cluster_id,
                                principal=config.principal, credential=config.credential,
                                name="WS gateway")
        self.stream = self.link.stream
        self._server: Server | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._caught_up = asyncio.Event()
        self._catch_up_to = 0
        self._ids = itertools.count(1)
        self._wake: dict[int, asyncio.Event] = {}
        self._sockets: dict[int, ServerConnection] = {}
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._catch_up_to = await self.link.start()
        self._consumer = asyncio.get_running_loop().create_task(self._consume())
        if self._catch_up_to <= 0:
            self._caught_up.set()
        await asyncio.wait_for(self._caught_up.wait(), CATCH_UP_TIMEOUT_S)
        self._server = await serve(
            self._connection, self.config.host, self.config.port,
            process_request=self._http, compression=None,
            max_size=self.config.limits.message_size_bytes_max, max_queue=16,
            write_limit=WRITE_LIMIT_BYTES, close_timeout=CLOSE_TIMEOUT_S)
        log.info("WS gateway: caught up at %d, listening on %s:%d", self.core.position,
                 self.config.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        await self.link.close()

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        return answer_http(connection, request, self.core.stats)

    # -- connections -----------------------------------------------------------------------

    async def _connection(self, websocket: ServerConnection) -> None:
        conn_id = next(self._ids)
        refused = self.core.connect(conn_id)
        if refused is not None:
            await websocket.close(1013, refused)
            return
        self._wake[conn_id] = wake = asyncio.Event()
        self._sockets[conn_id] = websocket
        writer = asyncio.get_running_loop().create_task(self._write(conn_id, websocket, wake))
        try:
            async for data in websocket:
                self.core.receive(conn_id, data, time.time_ns())
                self.flush()
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.core.disconnect(conn_id)
            self._wake.pop(conn_id, None)
            self._sockets.pop(conn_id, None)

    async def _write(self, conn_id: int, websocket: ServerConnection,
                     wake: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await wake.wait()
                wake.clear()
                for data in self.core.data_to_send(conn_id):
                    await websocket.send(data.decode())

    def flush(self) -> None:
        """Send the commands clients asked for (one the cluster link cannot take now is
        refused to its account's connections), wake the writers of connections with
        messages, and close those the core closes."""
        for command in self.core.commands_to_send():
            if not self.link.submit(command):
                self.core.refuse(command, "venue busy: too many commands in flight, try again")
        for conn_id in self.core.ready():
            wake = self._wake.get(conn_id)
            if wake is not None:
                wake.set()
        for closing in self.core.closing():
            websocket = self._sockets.get(closing.conn_id)
            if websocket is not None:
                log.warning("WS gateway: closing connection %d: %s", closing.conn_id,
                            closing.reason)
                self._spawn(self._close_after_pending(closing.conn_id, websocket,
                                                      closing.code, closing.reason))

    async def _close_after_pending(self, conn_id: int, websocket: ServerConnection,
                                   code: int, reason: str) -> None:
        pending = self.core.data_to_send(conn_id)  # e.g. the error that explains the close
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                for data in pending:
                    await websocket.send(data.decode())
        try:
            async with asyncio.timeout(2 * CLOSE_TIMEOUT_S):
                await websocket.close(code, reason)
        except TimeoutError:  # a client that reads nothing never sees the close frame
            websocket.transport.abort()

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- commands and the stream -----------------------------------------------------------

    async def _consume(self) -> None:
        unflushed = 0
        async for position, outcomes in self.stream:
            self.core.apply(position, [event for outcome in outcomes
                                       for event in outcome.events])
            unflushed += 1
            if self.stream._queue.empty() or unflushed >= FLUSH_ENTRIES_MAX:
                self.flush()  # a burst is flushed once, or every FLUSH_ENTRIES_MAX
                unflushed = 0
                await asyncio.sleep(0)  # a queue that has items never yields: let writers run
            if position >= self._catch_up_to:
                self._caught_up.set()


async def run_gateway(config: WsGatewayConfig, stop: asyncio.Event) -> None:
    gateway = WsGateway(config)
    await gateway.start()
    print(f"venue ws-gateway: WebSocket JSON API on ws://{config.host}:{gateway.port}/, "
          f"{len(config.tokens)} tokens, cluster {config.cluster_id}", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.close()
