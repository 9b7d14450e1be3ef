"""The application the QuickFIX acceptance scripts expect behind the session layer, and the
``venue fix-acceptor --reflector`` command that serves it (as QuickFIX's own ``at`` does), so
anyone can check venue's session layer with any acceptance runner.

NewOrderSingle(D) and SecurityDefinition(d) go straight back (CompIDs swapped, a new
MsgSeqNum, PossDupFlag and OrigSendingTime dropped, fields in tag order as QuickFIX writes
them); a D with PossResend(97)=Y whose ClOrdID this logon has already seen is dropped; any
other application message gets BusinessMessageReject(j) with reason 3.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .acceptor import FixAcceptor
from .acceptor_core import FixAcceptorCore
from .config import SessionConfig, SessionID
from .dictionary import DataDictionary
from .session import FixSession, UnsupportedMessageType
from .store import MemorySessionStore

if TYPE_CHECKING:
    from venue.codecs.tagvalue import FixMessage

_NOT_ECHOED = frozenset((8, 9, 10, 34, 43, 49, 52, 56, 122))


class Reflector:
    def __init__(self) -> None:
        self._seen: dict[SessionID, set[bytes]] = {}

    def on_logon(self, session: FixSession) -> None:
        self._seen[session.config.session_id] = set()

    def on_logout(self, session: FixSession) -> None:
        self._seen.pop(session.config.session_id, None)

    def from_app(self, session: FixSession, message: FixMessage) -> None:
        msg_type = message.msg_type
        if msg_type not in (b"D", b"d"):
            raise UnsupportedMessageType(msg_type)
        seen = self._seen.setdefault(session.config.session_id, set())
        if msg_type == b"D":
            cl_ord_id = message.get(11) or b""
            if message.get(97) == b"Y" and cl_ord_id in seen:
                return
            seen.add(cl_ord_id)
        dictionary = session.dictionary
        header, body = [], []
        for tag, value in message.fields():
            if tag in _NOT_ECHOED or tag == 35:
                continue
            (header if dictionary.is_header_field(tag) else body).append((tag, value))
        has_groups = any(dictionary.field_type(tag) == "NUMINGROUP" and value not in (b"0", b"")
                         for tag, value in body)
        if not has_groups:  # QuickFIX writes a body without groups in tag order
            body.sort(key=lambda field: field[0])
        session.send(msg_type, body, header)


def acceptance_sessions() -> list[SessionConfig]:
    """The sessions the scripts expect: ISLD against TW44 (FIX 4.4) and TW42 (FIX 4.2),
    each logon starting both sequences at 1."""
    return [SessionConfig(SessionID(begin, "ISLD", target), reset_on_logon=True)
            for begin, target in (("FIX.4.4", "TW44"), ("FIX.4.2", "TW42"))]


def reflector_core() -> FixAcceptorCore:
    application = Reflector()
    sessions = [FixSession(config, MemorySessionStore(),
                           DataDictionary.for_version(config.session_id.begin_string),
                           application)
                for config in acceptance_sessions()]
    return FixAcceptorCore(sessions)


async def serve_reflector(host: str, port: int, stop: asyncio.Event) -> None:
    """The reflector's acceptor on ``host:port`` until ``stop`` is set."""
    acceptor = FixAcceptor(reflector_core(), host, port)
    await acceptor.start()
    print(f"venue fix-acceptor: reflector on {acceptor.host}:{acceptor.port} "
          f"(ISLD against TW44 FIX.4.4 and TW42 FIX.4.2)", flush=True)
    try:
        await stop.wait()
    finally:
        await acceptor.close()
