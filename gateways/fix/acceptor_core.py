"""The acceptor without I/O: connections in, sessions behind them.

Each TCP connection gets its own tag=value parser. Its first message must be a Logon whose
BeginString, SenderCompID and TargetCompID name a configured session that has no other
connection; anything else closes the connection (unknown CompIDs, a duplicate logon, a first
message that is not a Logon, a garbled Logon) without touching any session. After that,
every message goes to its session; a garbled one is logged and dropped, as the FIX session
rules say (it does not consume a sequence number).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from venue.codecs.tagvalue import FixParser

from .session import FixSession

log = logging.getLogger("venue.fix")
_NS = 1_000_000_000


@dataclass
class _Connection:
    conn_id: int
    parser: FixParser
    opened_ns: int
    session: FixSession | None = None
    close_reason: str | None = None
    garbled: int = 0
    output: list[bytes] = field(default_factory=list)


class FixAcceptorCore:
    def __init__(self, sessions: Iterable[FixSession], *, message_size_max: int = 65_536,
                 connections_max: int = 1_000, logon_timeout_s: float = 10.0) -> None:
        self.sessions = {(s.begin, s.sender, s.target): s for s in sessions}
        self.message_size_max = message_size_max
        self.connections_max = connections_max
        self.logon_timeout_ns = int(logon_timeout_s * _NS)
        self._connections: dict[int, _Connection] = {}
        self.refused = 0

    # -- connections ---------------------------------------------------------------------

    def connect(self, conn_id: int, now_ns: int) -> bool:
        """A new TCP connection; False if it must be closed at once (too many)."""
        if len(self._connections) >= self.connections_max:
            self.refused += 1
            log.warning("FIX connection %d refused: %d connections open", conn_id,
                        len(self._connections))
            return False
        self._connections[conn_id] = _Connection(conn_id, FixParser(self.message_size_max),
                                                 now_ns)
        return True

    def connection_lost(self, conn_id: int, now_ns: int) -> None:
        connection = self._connections.pop(conn_id, None)
        if connection is not None and connection.session is not None:
            connection.session.connection_lost(now_ns)

    def close_reason(self, conn_id: int) -> str | None:
        """Why this connection must be closed once its output is written; None: keep it."""
        connection = self._connections.get(conn_id)
        if connection is None:
            return "unknown connection"
        if connection.close_reason is None and connection.session is not None:
            connection.close_reason = connection.session.disconnect_reason
        return connection.close_reason

    def data_to_send(self, conn_id: int) -> bytes:
        connection = self._connections.get(conn_id)
        if connection is None:
            return b""
        if connection.session is not None:
            connection.output.extend(connection.session.take_output())
        out = b"".join(connection.output)
        connection.output.clear()
        return out

    def connection_ids(self) -> list[int]:
        return list(self._connections)

    def commit(self) -> None:
        """Make every session's sequence numbers and sent messages durable (before their
        output goes on the wire)."""
        for session in self.sessions.values():
            session.store.commit()

    # -- input and time ------------------------------------------------------------------

    def receive_data(self, conn_id: int, data: bytes, now_ns: int) -> None:
        connection = self._connections.get(conn_id)
        if connection is None or connection.close_reason is not None:
            return
        connection.parser.feed(data)
        while self.close_reason(conn_id) is None:
            message = connection.parser.next()
            if message is None:
                return
            if connection.session is None:
                self._first_message(connection, message, now_ns)
            elif message.garbled:
                connection.garbled += 1
                log.warning("%s: garbled message dropped (%s): %r",
                            connection.session.config.session_id, message.garbled,
                            message.raw[:200])
                if message.msg_type == b"A":
                    connection.close_reason = "garbled Logon"
            else:
                connection.session.receive(message, now_ns)

    def _first_message(self, connection: _Connection, message, now_ns: int) -> None:
        if message.garbled:
            connection.close_reason = f"garbled first message ({message.garbled})"
            return
        key = (message.begin_string, message.get(56) or b"", message.get(49) or b"")
        session = self.sessions.get(key)
        if session is None:
            connection.close_reason = (f"no session {key[0].decode(errors='replace')}:"
                                       f"{key[1].decode(errors='replace')}->"
                                       f"{key[2].decode(errors='replace')}")
        elif message.msg_type != b"A":
            connection.close_reason = "first message is not a Logon"
        elif session.connected:
            connection.close_reason = f"{session.config.session_id} is already connected"
        else:
            connection.session = session
            session.connect(now_ns)
            session.receive(message, now_ns)
            return
        log.warning("FIX connection %d closed: %s", connection.conn_id,
                    connection.close_reason)

    def tick(self, now_ns: int) -> None:
        for connection in self._connections.values():
            if connection.session is not None:
                connection.session.tick(now_ns)
            elif connection.close_reason is None and \
                    now_ns - connection.opened_ns >= self.logon_timeout_ns:
                connection.close_reason = "no Logon in time"
