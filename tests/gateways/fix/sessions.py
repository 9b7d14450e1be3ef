"""A counterparty for session-layer tests: builds its messages with the codec, feeds a
``FixAcceptorCore`` directly (no sockets) on a clock the test moves."""

from __future__ import annotations

from venue.codecs.tagvalue import FixMessage, FixParser, encode
from venue.gateways.fix.acceptor_core import FixAcceptorCore
from venue.gateways.fix.fixtime import format_utc

T0 = 1_800_000_000_000_000_000
S = 1_000_000_000


class Counterparty:
    def __init__(self, core: FixAcceptorCore, conn_id: int = 1, sender: bytes = b"TW44",
                 target: bytes = b"ISLD", begin: bytes = b"FIX.4.4") -> None:
        self.core, self.conn_id = core, conn_id
        self.sender, self.target, self.begin = sender, target, begin
        self.seq = 1
        self.now = T0
        self.parser = FixParser()
        assert core.connect(conn_id, self.now)

    def send(self, msg_type: bytes, *body: tuple[int, bytes], seq: int | None = None,
             header: tuple[tuple[int, bytes], ...] = ()) -> None:
        number = self.seq if seq is None else seq
        if seq is None:
            self.seq += 1
        fields = [(35, msg_type), (34, b"%d" % number), (49, self.sender),
                  (52, format_utc(self.now)), (56, self.target), *header, *body]
        self.core.receive_data(self.conn_id, encode(self.begin, fields), self.now)

    def logon(self, heartbeat_s: int = 30, *extra: tuple[int, bytes]) -> list[FixMessage]:
        self.send(b"A", (98, b"0"), (108, b"%d" % heartbeat_s), *extra)
        return self.received()

    def advance(self, seconds: float) -> list[FixMessage]:
        self.now += int(seconds * S)
        self.core.tick(self.now)
        return self.received()

    def received(self) -> list[FixMessage]:
        self.core.commit()
        self.parser.feed(self.core.data_to_send(self.conn_id))
        messages = []
        while (message := self.parser.next()) is not None:
            assert not message.garbled, message.garbled
            messages.append(message)
        return messages

    @property
    def close_reason(self) -> str | None:
        return self.core.close_reason(self.conn_id)


def kinds(messages: list[FixMessage]) -> list[tuple[bytes, int]]:
    """(MsgType, MsgSeqNum) of each message."""
    return [(m.msg_type, int(m.get(34) or 0)) for m in messages]
