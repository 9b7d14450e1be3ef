"""The asyncio shell around ``FixAcceptorCore``: a TCP server, a timer, and nothing else.

Every read goes to the core, then ``flush()`` makes the session stores durable (one commit)
and writes what the sessions produced. A counterparty that stops reading while its
connection's output grows past ``output_buffer_bytes_max`` is disconnected with a log line,
so that one slow client cannot exhaust the gateway's memory or hold up other sessions.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

from .acceptor_core import FixAcceptorCore

log = logging.getLogger("venue.fix")


class _FixProtocol(asyncio.Protocol):
    def __init__(self, acceptor: FixAcceptor, conn_id: int) -> None:
        self.acceptor = acceptor
        self.conn_id = conn_id
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        if not self.acceptor.core.connect(self.conn_id, time.time_ns()):
            transport.abort()  # type: ignore[attr-defined]
            return
        self.acceptor._protocols[self.conn_id] = self
        if self.acceptor.reading_paused:
            transport.pause_reading()  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.acceptor.core.receive_data(self.conn_id, data, time.time_ns())
        self.acceptor.schedule_flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.acceptor._protocols.pop(self.conn_id, None)
        self.acceptor.core.connection_lost(self.conn_id, time.time_ns())


class FixAcceptor:
    def __init__(self, core: FixAcceptorCore, host: str = "127.0.0.1", port: int = 0, *,
                 tick_interval_s: float = 0.1,
                 output_buffer_bytes_max: int = 8 * 1024 * 1024) -> None:
        self.core = core
        self.host, self.port = host, port
        self.tick_interval_s = tick_interval_s
        self.output_buffer_bytes_max = output_buffer_bytes_max
        self._protocols: dict[int, _FixProtocol] = {}
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.slow_consumers = 0
        self.reading_paused = False
        self._flush_scheduled = False

    def pause_reading(self) -> None:
        """Stop reading from every connection (the application behind is saturated)."""
        if not self.reading_paused:
            self.reading_paused = True
            for protocol in self._protocols.values():
                if protocol.transport is not None and not protocol.transport.is_closing():
                    protocol.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused:
            self.reading_paused = False
            for protocol in self._protocols.values():
                if protocol.transport is not None and not protocol.transport.is_closing():
                    protocol.transport.resume_reading()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _FixProtocol(self, next(self._ids)), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = loop.create_task(self._tick_loop())
        log.info("FIX acceptor listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for protocol in list(self._protocols.values()):
            if protocol.transport is not None:
                protocol.transport.abort()
        self.core.commit()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval_s)
            self.core.tick(time.time_ns())
            self.flush()

    def schedule_flush(self) -> None:
        """Flush once the reads ready in this pass of the event loop are all taken in: one
        store commit (a synced LMDB write) for all of them, not one per read."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Commit the session stores, then write every connection's output and close the
        connections the core has finished with."""
        self._flush_scheduled = False
        self.core.commit()
        for conn_id, protocol in list(self._protocols.items()):
            transport = protocol.transport
            if transport is None or transport.is_closing():
                continue
            data = self.core.data_to_send(conn_id)
            if data:
                transport.write(data)
                if transport.get_write_buffer_size() > self.output_buffer_bytes_max:
                    self.slow_consumers += 1
                    log.warning("FIX connection %d: the client is not reading (%d bytes "
                                "waiting); disconnecting", conn_id,
                                transport.get_write_buffer_size())
                    transport.abort()
                    continue
            reason = self.core.close_reason(conn_id)
            if reason is not None:
                log.info("FIX connection %d closed: %s", conn_id, reason)
                transport.close()  # after what is buffered has been written
