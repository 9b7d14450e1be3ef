"""The client side of the client protocol, sans-I/O: exactly-once across reconnects.

``ClientSession`` numbers commands (``client_seq`` 1, 2, ...), keeps every command until its
``Reply`` arrives (at most ``unacked_commands_max``: beyond that ``submit`` raises
``BackPressure``), and on each new connection resumes the session: it sends ``Connect`` with
its session id and the position of the last reply it saw, learns from ``Connected`` which
commands the cluster already applied, and resends only the others, in order. Replies are
delivered once each, in position order; a replayed one already seen is dropped. The asyncio
shell (or a test) moves the bytes and reconnects, to the leader a ``Redirect`` names.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from venue.codecs.client import (
    Connect,
    Connected,
    ConnectRefused,
    Disconnect,
    Keepalive,
    NodeFrame,
    Redirect,
    Reply,
    StreamEntry,
    Submit,
    SubmitRefused,
    Subscribe,
)
from venue.codecs.errors import FrameError
from venue.codecs.framing import FramedChannel

UNACKED_COMMANDS_MAX_DEFAULT = 4096
KEEPALIVE_INTERVAL_NS_DEFAULT = 1_000_000_000
FRAME_SIZE_BYTES_MAX_DEFAULT = 16 * 1024 * 1024

_decoder = msgspec.msgpack.Decoder(NodeFrame)


class BackPressure(Exception):
    """Too many commands await their reply; wait for some before submitting more."""


class SessionReady(NamedTuple):
    session_id: int
    last_client_seq: int


class CommandResult(NamedTuple):
    client_seq: int
    position: int
    events: bytes


class CommandRefused(NamedTuple):
    """The node did not take the command into the log; ``resend_unacked`` retries it."""

    client_seq: int
    reason: str


class Redirected(NamedTuple):
    leader_id: int
    address: str


class ConnectionRefused(NamedTuple):
    reason: str


class ProtocolViolation(NamedTuple):
    """The node sent bytes that break the protocol; drop the connection."""

    reason: str


class StreamItem(NamedTuple):
    position: int
    event_bytes: bytes
    timestamp_ns: int = 0  # the entry's log timestamp


ClientEvent = (SessionReady | CommandResult | CommandRefused | Redirected | ConnectionRefused
               | ProtocolViolation | StreamItem)


class _Connection(FramedChannel):
    """A framed connection whose incoming frames are node frames."""

    def frames(self, data: bytes) -> list[msgspec.Struct] | ProtocolViolation:
        try:
            return [_decoder.decode(frame) for frame in self.receive_data(data)]
        except (FrameError, msgspec.DecodeError, msgspec.ValidationError,
                UnicodeDecodeError) as exc:
            return ProtocolViolation(f"bad frame from the node: {exc}")


class ClientSession:
    """One client session across any number of connections. Not thread-safe."""

    def __init__(self, *, cluster_id: str, principal: str, credential: str,
                 unacked_commands_max: int = UNACKED_COMMANDS_MAX_DEFAULT,
                 keepalive_interval_ns: int = KEEPALIVE_INTERVAL_NS_DEFAULT,
                 frame_size_bytes_max: int = FRAME_SIZE_BYTES_MAX_DEFAULT) -> None:
        if unacked_commands_max < 1:
            raise ValueError("unacked_commands_max must be at least 1")
        self.cluster_id = cluster_id
        self.principal = principal
        self._credential = credential
        self.unacked_commands_max = unacked_commands_max
        self.keepalive_interval_ns = keepalive_interval_ns
        self.session_id = 0
        self.next_seq = 1
        self.last_position = 0
        self.unacked: dict[int, bytes] = {}  # client_seq -> command, in order
        self.ready = False
        self._connection = _Connection(frame_size_bytes_max)
        self._last_sent_ns = 0

    def data_to_send(self) -> bytes:
        return self._connection.data_to_send()

    def connection_made(self, now_ns: int = 0) -> None:
        """A new connection: open or resume the session."""
        self._connection.reset()
        self.ready = False
        self._connection.write(Connect(self.cluster_id, self.principal, self._credential,
                                       self.session_id, self.last_position))
        self._last_sent_ns = now_ns

    def connection_lost(self) -> None:
        self.ready = False

    def close(self) -> None:
        """End the session for good."""
        self._connection.write(Disconnect())
        self.ready = False

    def submit(self, command: bytes) -> int:
        """Number and send (or hold until connected) one encoded command."""
        if len(self.unacked) >= self.unacked_commands_max:
            raise BackPressure(f"{len(self.unacked)} commands await their reply "
                               f"(unacked_commands_max={self.unacked_commands_max})")
        seq = self.next_seq
        self.next_seq += 1
        self.unacked[seq] = command
        if self.ready:
            self._connection.write(Submit(seq, command))
        return seq

    def resend_unacked(self) -> None:
        """Resend every command still awaiting its reply (after refusals)."""
        if self.ready:
            for seq, command in self.unacked.items():
                self._connection.write(Submit(seq, command))

    def tick(self, now_ns: int) -> None:
        if self.ready and now_ns - self._last_sent_ns >= self.keepalive_interval_ns:
            self._connection.write(Keepalive())
            self._last_sent_ns = now_ns

    def receive_data(self, data: bytes) -> list[ClientEvent]:
        frames = self._connection.frames(data)
        if isinstance(frames, ProtocolViolation):
            self.ready = False
            return [frames]
        events: list[ClientEvent] = []
        for frame in frames:
            event = self._handle(frame)
            if event is not None:
                events.append(event)
        return events

    def _handle(self, frame: msgspec.Struct) -> ClientEvent | None:
        if isinstance(frame, Reply):
            if frame.position < self.last_position or frame.client_seq not in self.unacked:
                return None  # replayed and already seen (a batch's replies share a position)
            self.last_position = frame.position
            self.unacked.pop(frame.client_seq, None)
            return CommandResult(frame.client_seq, frame.position, frame.events)
        if isinstance(frame, Connected):
            return self._on_connected(frame)
        if isinstance(frame, SubmitRefused):
            return CommandRefused(frame.client_seq, frame.reason)
        if isinstance(frame, Redirect):
            self.ready = False
            return Redirected(frame.leader_id, frame.address)
        if isinstance(frame, ConnectRefused):
            self.ready = False
            return ConnectionRefused(frame.reason)
        self.ready = False
        return ProtocolViolation(f"unexpected {type(frame).__name__} on a session")

    def _on_connected(self, frame: Connected) -> ClientEvent:
        if self.session_id and frame.session_id != self.session_id:
            self.ready = False
            return ProtocolViolation(f"resumed session {frame.session_id}, "
                                     f"expected {self.session_id}")
        self.session_id = frame.session_id
        self.ready = True
        self.next_seq = max(self.next_seq, frame.last_client_seq + 1)
        for seq, command in self.unacked.items():
            if seq > frame.last_client_seq:  # applied ones are never sent twice
                self._connection.write(Submit(seq, command))
        return SessionReady(frame.session_id, frame.last_client_seq)


class StreamSubscription:
    """A read-only event stream from a position: catch-up, then live, each entry once."""

    def __init__(self, from_position: int = 1, *, principal: str = "", credential: str = "",
                 frame_size_bytes_max: int = FRAME_SIZE_BYTES_MAX_DEFAULT) -> None:
        self.next_position = from_position
        self._principal, self._credential = principal, credential
        self._connection = _Connection(frame_size_bytes_max)

    def connection_made(self) -> None:
        self._connection.reset()
        self._connection.write(Subscribe(self.next_position, self._principal,
                                         self._credential))

    def data_to_send(self) -> bytes:
        return self._connection.data_to_send()

    def receive_data(self, data: bytes) -> list[ClientEvent]:
        frames = self._connection.frames(data)
        if isinstance(frames, ProtocolViolation):
            return [frames]
        events: list[ClientEvent] = []
        for frame in frames:
            if isinstance(frame, ConnectRefused):
                events.append(ProtocolViolation(f"subscription refused: {frame.reason}"))
                return events
            if not isinstance(frame, StreamEntry):
                events.append(ProtocolViolation(f"unexpected {type(frame).__name__} on a "
                                                f"subscription"))
                return events
            if frame.position < self.next_position:
                continue  # already delivered before a reconnect
            if frame.position > self.next_position:
                events.append(ProtocolViolation(f"stream skipped from {self.next_position} "
                                                f"to {frame.position}"))
                return events
            self.next_position += 1
            events.append(StreamItem(frame.position, frame.event_bytes, frame.timestamp_ns))
        return events
