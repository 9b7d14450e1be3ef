"""``VenueClient``: the asyncio client of a cluster, used by gateways, tools and scripts.

It keeps one session across any number of connections: it connects to any node, follows
``Redirect`` to the leader, reconnects (with backoff, trying every node) when a connection
drops or the leader changes, resumes the session and resends only what the cluster has not
applied (``ClientSession``, sans-I/O, does the bookkeeping). ``submit`` returns the events
the command produced, exactly once, however many failovers happen in between.

    client = VenueClient(["127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203"],
                         cluster_id="venue-local", principal="demo", credential=token)
    await client.start()
    events = await client.submit(Deposit(101, 1, 10**10))
    await client.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import msgspec

from venue.codecs import Command, DecodeError, Event, Schema
from venue.codecs.client import GetStatus, NodeStatus

from .client_session import (
    ClientSession,
    CommandRefused,
    CommandResult,
    ConnectionRefused,
    ProtocolViolation,
    Redirected,
    SessionReady,
)

READ_SIZE_BYTES = 256 * 1024
BACKOFF_S_MIN = 0.02
BACKOFF_S_MAX = 1.0
READ_CHECK_S = 0.25
CONNECT_TIMEOUT_S = 2.0  # no Connected within this: try another node
DEADLINE_CHECK_S = 0.1  # how often commands past their timeout are failed
REPLY_TIMEOUT_S = 3.0  # commands waiting and the node silent this long: try another node
_encoder = msgspec.msgpack.Encoder(order="deterministic")


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


class VenueClient:
    def __init__(self, addresses: list[str], *, cluster_id: str, principal: str,
                 credential: str, schema: Schema | None = None) -> None:
        if not addresses:
            raise ValueError("give at least one node address")
        self.addresses = list(addresses)
        self.session = ClientSession(cluster_id=cluster_id, principal=principal,
                                     credential=credential)
        self.schema = schema or Schema()
        self._waiting: dict[int, asyncio.Future] = {}
        self._deadlines: dict[int, float] = {}  # seq -> loop time its future fails at
        self._deadline_task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None
        self._next_address = 0
        self._write_scheduled = False
        self.reconnects = 0
        self.last_error = ""

    @property
    def address(self) -> str:
        """The node this client talks to now (the leader, once redirects are followed)."""
        return self.addresses[self._next_address % len(self.addresses)]

    async def start(self, timeout_s: float = 10.0) -> int:
        """Connect and open the session; return its id."""
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        self._deadline_task = loop.create_task(self._sweep_deadlines())
        await asyncio.wait_for(self._ready.wait(), timeout_s)
        return self.session.session_id

    async def close(self) -> None:
        """End the session for good and disconnect."""
        if self._writer is not None and self.session.ready:
            self.session.close()
            self._write()
        for task in (self._task, self._deadline_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        waiting, self._waiting = self._waiting, {}
        self._deadlines.clear()
        for future in waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the client closed before the reply"))

    async def submit(self, command: Command | bytes, timeout_s: float = 30.0) -> list[Event]:
        """Apply one command exactly once; return its events (``send``, awaited)."""
        return await self.send(command, timeout_s)

    def send(self, command: Command | bytes, timeout_s: float = 30.0) -> asyncio.Future:
        """Submit one command without a task or a coroutine per command (what a gateway
        with thousands in flight wants): the future gets the command's events, or
        TimeoutError once ``timeout_s`` has passed without a reply (checked every
        ``DEADLINE_CHECK_S``: one sweep instead of a timer per command). A timed-out
        command may still apply; its seq is never reused."""
        raw = command if isinstance(command, bytes) else _encoder.encode(command)
        seq = self.session.submit(raw)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting[seq] = future
        self._deadlines[seq] = loop.time() + timeout_s
        if not self._write_scheduled:  # every submit of this loop pass in one write
            self._write_scheduled = True
            loop.call_soon(self._write)
        return future

    def _expire(self, now: float) -> None:
        """Fail the futures whose deadline passed (and forget cancelled ones)."""
        for seq, deadline in list(self._deadlines.items()):
            future = self._waiting.get(seq)
            if future is None or future.done():
                self._waiting.pop(seq, None)
                del self._deadlines[seq]
            elif deadline <= now:
                del self._waiting[seq], self._deadlines[seq]
                future.set_exception(TimeoutError(f"no reply to command {seq} in time"))

    # -- the connection loop -------------------------------------------------------------

    async def _run(self) -> None:
        backoff_s = BACKOFF_S_MIN
        while True:
            address = self.addresses[self._next_address % len(self.addresses)]
            try:
                redirected = await self._connection(address)
                backoff_s = BACKOFF_S_MIN
            except (TimeoutError, OSError, ConnectionError) as exc:
                self.last_error = f"{address}: {type(exc).__name__}: {exc}"
                redirected = False
            self._writer = None
            if self.session.session_id == 0:  # not yet opened: start() keeps waiting
                self._ready.clear()
            self.session.connection_lost()
            self.reconnects += 1
            if not redirected:
                self._next_address += 1
                await asyncio.sleep(backoff_s)
                backoff_s = min(BACKOFF_S_MAX, backoff_s * 2)

    async def _connection(self, address: str) -> bool:
        """Serve one connection; True if it ended with a redirect to follow at once."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*_split(address)), 2)
        self._writer = writer
        try:
            self.session.connection_made(time.monotonic_ns())
            self._write()
            ticker = asyncio.get_running_loop().create_task(self._keepalive())
            connected_ns = last_data_ns = time.monotonic_ns()
            try:
                while True:
                    try:
                        data = await asyncio.wait_for(reader.read(READ_SIZE_BYTES),
                                                      READ_CHECK_S)
                    except TimeoutError:
                        self._check_silence(connected_ns, last_data_ns)
                        continue
                    if not data:
                        raise ConnectionError("the node closed the connection")
                    last_data_ns = time.monotonic_ns()
                    outcome = self._handle(self.session.receive_data(data))
                    self._write()
                    if outcome is not None:
                        return outcome
            finally:
                ticker.cancel()
        finally:
            writer.close()

    def _check_silence(self, connected_ns: int, last_data_ns: int) -> None:
        """A node that accepted the connection but does not answer (stopped, overloaded,
        cut off) is given up on: before the session is ready after ``CONNECT_TIMEOUT_S``,
        after it when commands wait longer than ``REPLY_TIMEOUT_S`` without a byte."""
        now_ns = time.monotonic_ns()
        if not self.session.ready:
            if now_ns - connected_ns > CONNECT_TIMEOUT_S * 1e9:
                raise TimeoutError("no answer to Connect")
        elif self._waiting and now_ns - last_data_ns > REPLY_TIMEOUT_S * 1e9:
            raise TimeoutError("no reply from the node")

    def _handle(self, events: list) -> bool | None:
        """Act on the session's events; a bool ends the connection (True: redirected)."""
        for event in events:
            if isinstance(event, CommandResult):
                future = self._waiting.pop(event.client_seq, None)
                self._deadlines.pop(event.client_seq, None)
                if future is not None and not future.done():
                    try:
                        future.set_result(self.schema.decode_events(event.events))
                    except DecodeError as exc:  # applied, but not in our schema: say so
                        future.set_exception(DecodeError(
                            f"command {event.client_seq} was applied at {event.position}, "
                            f"but its events do not decode with this client's schema (pass "
                            f"the modules' event types in schema=): {exc}"))
            elif isinstance(event, SessionReady):
                self._ready.set()
            elif isinstance(event, Redirected):
                if event.address in self.addresses:
                    self._next_address = self.addresses.index(event.address)
                    return True
                return False
            elif isinstance(event, CommandRefused):
                self.last_error = f"refused {event.client_seq}: {event.reason}"
                return False  # reconnect: the leader may have moved; unacked are resent
            elif isinstance(event, ConnectionRefused | ProtocolViolation):
                self.last_error = str(event)
                return False
        return None

    async def _sweep_deadlines(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(DEADLINE_CHECK_S)
            self._expire(loop.time())

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.session.tick(time.monotonic_ns())
            self._write()

    def _write(self) -> None:
        self._write_scheduled = False
        data = self.session.data_to_send()
        if data and self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)  # closing: what is unacknowledged is resent on connect


async def request_once(address: str, frame: msgspec.Struct, reply_type: type,
                       timeout_s: float = 2.0):
    """Send one frame that needs no session (``GetStatus``, ``AdminRequest``) on a fresh
    connection and return the node's one answer, decoded as ``reply_type``."""
    from venue.codecs.framing import FramedChannel

    reader, writer = await asyncio.wait_for(asyncio.open_connection(*_split(address)),
                                            timeout_s)
    try:
        channel = FramedChannel()
        channel.write(frame)
        writer.write(channel.data_to_send())
        decoder = msgspec.msgpack.Decoder(reply_type)
        while True:
            data = await asyncio.wait_for(reader.read(READ_SIZE_BYTES), timeout_s)
            if not data:
                raise ConnectionError("the node closed the connection")
            for reply in channel.receive_data(data):
                return decoder.decode(reply)
    finally:
        writer.close()


async def node_status(address: str, timeout_s: float = 2.0) -> dict:
    """Ask one node for its status (no session needed)."""
    reply = await request_once(address, GetStatus(), NodeStatus, timeout_s)
    return json.loads(reply.report)
