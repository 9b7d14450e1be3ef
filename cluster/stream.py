"""``EventStream``: the asyncio shell of a read-only subscription to a cluster's event
stream (``StreamSubscription`` does the protocol). Every applied entry's outcomes arrive
once, in log order, from a given position: catch-up from the event store, then live; a
dropped connection or a stopped node is followed by a reconnect to another node that
resumes at the next position, so a consumer never sees a gap or a repeat.

    stream = EventStream(["127.0.0.1:7201", ...], from_position=1, principal="history",
                         credential=token)
    await stream.start()
    async for position, outcomes in stream: ...
    async for entry in stream.entries(): ...  # StreamedEntry: also the entry's timestamp
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

from venue.codecs import Schema
from venue.codecs.schema import Outcome

from .client_session import ProtocolViolation, StreamItem, StreamSubscription

log = logging.getLogger("venue.stream")
READ_SIZE_BYTES = 256 * 1024
BACKOFF_S_MIN, BACKOFF_S_MAX = 0.02, 1.0


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


class StreamedEntry(NamedTuple):
    """One applied entry of the stream: its position, log timestamp and outcomes."""

    position: int
    timestamp_ns: int
    outcomes: list[Outcome]


class StreamGone(Exception):
    """The stream cannot continue from the position needed (e.g. no node stores it)."""


class EventStream:
    def __init__(self, addresses: list[str], from_position: int = 1, *, principal: str,
                 credential: str, schema: Schema | None = None,
                 queue_entries_max: int = 10_000,
                 preferred: Callable[[], str | None] | None = None) -> None:
        """``principal`` and ``credential``: of the cluster's credentials, as a client
        session uses (the stream holds every account's orders)."""
        if not addresses:
            raise ValueError("give at least one node address")
        self.addresses = list(addresses)
        self.schema = schema or Schema()
        self.subscription = StreamSubscription(from_position, principal=principal,
                                               credential=credential)
        self._queue: asyncio.Queue[StreamItem | BaseException] = asyncio.Queue(
            queue_entries_max)
        self._preferred = preferred
        self._task: asyncio.Task[None] | None = None
        self._next_address = 0
        self.reconnects = 0
        self.last_error = ""

    @property
    def next_position(self) -> int:
        return self.subscription.next_position

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> tuple[int, list[Outcome]]:
        item = await self._next_item()
        return item.position, self.schema.decode_outcomes(item.event_bytes)

    async def entries(self) -> AsyncIterator[StreamedEntry]:
        """Like iterating the stream, with each entry's log timestamp."""
        while True:
            yield await self.next_entry()

    async def next_entry(self) -> StreamedEntry:
        """The next entry. Safe to cancel (``asyncio.wait_for``): an entry is never lost."""
        item = await self._next_item()
        return StreamedEntry(item.position, item.timestamp_ns,
                             self.schema.decode_outcomes(item.event_bytes))

    def ready_entries(self) -> int:
        """How many entries are already received and waiting (batching readers use it)."""
        return self._queue.qsize()

    async def _next_item(self) -> StreamItem:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def _address(self) -> str:
        preferred = self._preferred() if self._preferred is not None else None
        if preferred in self.addresses:
            return preferred
        return self.addresses[self._next_address % len(self.addresses)]

    async def _run(self) -> None:
        backoff_s = BACKOFF_S_MIN
        gone = 0
        while True:
            address = self._address()
            try:
                await self._connection(address)
            except (TimeoutError, OSError, ConnectionError) as exc:
                self.last_error = f"{address}: {type(exc).__name__}: {exc}"
            except StreamGone as exc:
                self.last_error = f"{address}: {exc}"
                gone += 1
                if gone >= 2 * len(self.addresses):  # no node has the position: give up
                    await self._queue.put(exc)
                    return
            self.reconnects += 1
            self._next_address += 1
            await asyncio.sleep(backoff_s)
            backoff_s = min(BACKOFF_S_MAX, backoff_s * 2)

    async def _connection(self, address: str) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*_split(address)), 2)
        try:
            self.subscription.connection_made()
            writer.write(self.subscription.data_to_send())
            while True:
                data = await reader.read(READ_SIZE_BYTES)
                if not data:
                    raise ConnectionError("the node closed the stream")
                for event in self.subscription.receive_data(data):
                    if isinstance(event, ProtocolViolation):
                        raise StreamGone(str(event))
                    await self._queue.put(event)  # a full queue stops reading: back-pressure
        finally:
            writer.close()
