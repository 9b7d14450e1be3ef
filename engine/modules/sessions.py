"""Client sessions: exactly-once application of client commands.

Every client command carries ``(session_id, client_seq)``. A session's commands apply in
``client_seq`` order starting at 1. A command at or below the last applied sequence number is
a resend of one already applied (say after a leader failover) and is dropped without effect;
one that skips a number is refused with ``SessionRejected(SESSION_SEQUENCE_GAP)`` so the
client resends from the expected number. Nothing is ever applied twice or out of order.

The session id is the log index of the SESSION_OPEN entry, identical on every node.
"""

from __future__ import annotations

import msgspec

from venue.codecs import RejectReason, SessionCloseReason
from venue.codecs.events import SessionClosed, SessionOpened, SessionRejected

SESSIONS_MAX_DEFAULT = 10_000

# what ``check`` returns
APPLY = 0
DUPLICATE = 1
REFUSED = 2


class SessionState(msgspec.Struct, array_like=True):
    session_id: int
    principal: str
    last_client_seq: int = 0


class ClientSessions:
    """The session table, part of the replicated state and of every snapshot."""

    def __init__(self, sessions_max: int = SESSIONS_MAX_DEFAULT) -> None:
        self.sessions_max = sessions_max
        self._sessions: dict[int, SessionState] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, session_id: int, principal: str) -> SessionOpened | SessionRejected:
        """Open a session; refused (``LIMIT_REACHED``) when ``sessions_max`` are open."""
        if len(self._sessions) >= self.sessions_max:
            return SessionRejected(session_id, 0, RejectReason.LIMIT_REACHED)
        self._sessions[session_id] = SessionState(session_id, principal)
        return SessionOpened(session_id, principal)

    def close(self, session_id: int, reason: SessionCloseReason
              ) -> SessionClosed | SessionRejected:
        if self._sessions.pop(session_id, None) is None:
            return SessionRejected(session_id, 0, RejectReason.UNKNOWN_SESSION)
        return SessionClosed(session_id, reason)

    def check(self, session_id: int, client_seq: int) -> tuple[int, SessionRejected | None]:
        """Decide what to do with a command; on APPLY the sequence number is consumed."""
        state = self._sessions.get(session_id)
        if state is None:
            return REFUSED, SessionRejected(session_id, client_seq,
                                            RejectReason.UNKNOWN_SESSION)
        last = state.last_client_seq
        if client_seq < 1:
            return REFUSED, SessionRejected(session_id, client_seq, RejectReason.INVALID_FIELD,
                                            last + 1)
        if client_seq == last + 1:
            state.last_client_seq = client_seq
            return APPLY, None
        if client_seq <= last:
            return DUPLICATE, None
        return REFUSED, SessionRejected(session_id, client_seq,
                                        RejectReason.SESSION_SEQUENCE_GAP, last + 1)

    def is_open(self, session_id: int) -> bool:
        return session_id in self._sessions

    def principal(self, session_id: int) -> str:
        """Query: who opened the session ("" if it is not open). O(1)."""
        state = self._sessions.get(session_id)
        return state.principal if state is not None else ""

    def last_client_seq(self, session_id: int) -> int:
        """Query: the last applied sequence number of an open session (0 if unknown)."""
        state = self._sessions.get(session_id)
        return state.last_client_seq if state is not None else 0

    def session_ids(self) -> list[int]:
        return sorted(self._sessions)

    def to_rows(self) -> list[SessionState]:
        return [self._sessions[session_id] for session_id in sorted(self._sessions)]

    def restore(self, rows: list[SessionState]) -> None:
        self._sessions = {row.session_id: row for row in rows}
