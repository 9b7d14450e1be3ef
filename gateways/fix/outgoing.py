"""What a FIX session sends: the standard header, the admin messages and the replay of a
ResendRequest. Mixed into ``FixSession`` (which owns the state these methods read)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from venue.codecs.tagvalue import FixParser, encode

from .fixtime import format_utc

if TYPE_CHECKING:
    from venue.codecs.tagvalue import FixMessage

    from .config import SessionConfig
    from .store import MemorySessionStore

log = logging.getLogger("venue.fix")

Field = tuple[int, bytes]
#: never copied from a message into its echo or its resend: the session writes them anew
_SESSION_HEADER = frozenset((8, 9, 10, 34, 43, 49, 52, 56, 122))
#: the routing fields a reply swaps (OnBehalfOf <-> DeliverTo)
_REVERSE_ROUTE = ((115, 128), (128, 115), (116, 129), (129, 116), (144, 145), (145, 144))

REJECT_TEXT = {
    0: "Invalid tag number", 1: "Required tag missing",
    2: "Tag not defined for this message type", 4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag", 6: "Incorrect data format for value",
    9: "CompID problem", 10: "SendingTime accuracy problem", 11: "Invalid MsgType",
    13: "Tag appears more than once", 14: "Tag specified out of required order",
    16: "Incorrect NumInGroup count for repeating group",
}
BUSINESS_REJECT_TEXT = {
    0: "Other", 1: "Unknown ID", 2: "Unknown Security", 3: "Unsupported Message Type",
    4: "Application not available", 5: "Conditionally Required Field Missing",
    6: "Not authorized", 7: "DeliverTo firm not available at this time",
}


def reverse_route(message: FixMessage) -> list[Field]:
    """The routing header of a reply to ``message``."""
    route = []
    for tag, reply_tag in _REVERSE_ROUTE:
        value = message.get(tag)
        if value:
            route.append((reply_tag, value))
    return route


class SessionOutput:
    config: SessionConfig
    store: MemorySessionStore
    begin: bytes
    sender: bytes
    target: bytes
    now_ns: int
    last_sent_ns: int
    sent_logout: bool
    sent_logout_ns: int
    _out: list[bytes]

    # -- the wire ------------------------------------------------------------------------

    def _emit(self, msg_type: bytes, body: Sequence[Field], header: Sequence[Field] = (),
              seq: int | None = None, store: bool = False, wire: bool = True) -> int:
        """Encode and queue one message; ``seq`` None takes (and advances) the next sender
        number; ``wire`` False only stores it (for a resend after the next logon). Header
        fields are written in tag order after 35, as QuickFIX does."""
        number = self.store.next_sender if seq is None else seq
        fields = [(34, b"%d" % number), (49, self.sender),
                  (52, format_utc(self.now_ns, self.config.millis_in_timestamp)),
                  (56, self.target), *header]
        fields.sort(key=_tag)
        raw = encode(self.begin, [(35, msg_type), *fields, *body])
        if wire:
            self._out.append(raw)
            self.last_sent_ns = self.now_ns
        if seq is None:
            if store:
                self.store.save_sent(number, raw)
            self.store.set_next_sender(number + 1)
        return number

    def _send_heartbeat(self, test_req_id: bytes | None = None) -> None:
        self._emit(b"0", [] if test_req_id is None else [(112, test_req_id)])

    def _send_test_request(self, test_req_id: bytes) -> None:
        self._emit(b"1", [(112, test_req_id)])

    def _send_logon(self, heartbeat_s: int, reset: bool) -> None:
        body = [(98, b"0"), (108, b"%d" % heartbeat_s)]
        if reset:
            body.append((141, b"Y"))
        self._emit(b"A", body)

    def _send_logout(self, text: str = "") -> None:
        self._emit(b"5", [(58, text.encode())] if text else [])
        self.sent_logout = True
        self.sent_logout_ns = self.now_ns
        log.info("%s: sent Logout %s", self.config.session_id, text)

    def _send_resend_request(self, begin: int) -> None:
        end = b"0" if self.begin >= b"FIX.4.2" else b"999999"
        self._emit(b"2", [(7, b"%d" % begin), (16, end)])

    def _send_reject(self, message: FixMessage, reason: int, ref_tag: int | None = None,
                     text: str | None = None) -> None:
        body: list[Field] = []
        seq = message.get(34)
        if seq:
            body.append((45, seq))
        text = REJECT_TEXT.get(reason) if text is None else text
        if text:
            body.append((58, text.encode()))
        if ref_tag is not None or reason == 0:
            body.append((371, b"%d" % (ref_tag or 0)))
        msg_type = message.msg_type
        if self.begin >= b"FIX.4.2" and msg_type:
            body.append((372, msg_type))
        if self.begin > b"FIX.4.2" or (self.begin == b"FIX.4.2" and reason <= 11):
            body.append((373, b"%d" % reason))
        body.sort(key=_tag)
        self._emit(b"3", body, reverse_route(message))
        log.info("%s: rejected message %s: %s (tag %s)", self.config.session_id,
                 seq, text, ref_tag)

    def _send_business_reject(self, message: FixMessage, reason: int, text: str | None,
                              ref_id: bytes | None = None) -> None:
        text = BUSINESS_REJECT_TEXT.get(reason, "Other") if text is None else text
        body: list[Field] = [(45, message.get(34) or b"0"), (58, text.encode())]
        body.append((372, message.msg_type))
        if ref_id:
            body.append((379, ref_id))
        body.append((380, b"%d" % reason))
        self._emit(b"j", body, reverse_route(message))

    # -- ResendRequest -------------------------------------------------------------------

    def _resend(self, begin: int, end: int) -> None:
        """Answer a ResendRequest for ``begin..end`` (0 or past the last sent: through the
        last sent): application messages again with PossDupFlag and OrigSendingTime, every
        run of admin or unknown numbers as one SequenceReset-GapFill."""
        last = self.store.next_sender - 1
        if end == 0 or end > last or (self.begin < b"FIX.4.2" and end == 999999):
            end = last
        gap_from = 0
        parser = FixParser()
        current = begin
        for seq, raw in self.store.sent_range(begin, end):
            if seq > current and not gap_from:
                gap_from = current
            parser.feed(raw)
            original = parser.next()
            if original is None or original.garbled:
                log.error("%s: stored message %d is unreadable", self.config.session_id, seq)
                gap_from = gap_from or seq
            else:
                if gap_from:
                    self._gap_fill(gap_from, seq)
                    gap_from = 0
                self._resend_one(original, seq)
            current = seq + 1
        if current <= end and not gap_from:
            gap_from = current
        if gap_from and gap_from <= end:
            self._gap_fill(gap_from, end + 1)

    def _gap_fill(self, seq: int, new_seq: int) -> None:
        self._emit(b"4", [(36, b"%d" % new_seq), (123, b"Y")],
                   [(43, b"Y"), (122, format_utc(self.now_ns, self.config.millis_in_timestamp))],
                   seq=seq)

    def _resend_one(self, original: FixMessage, seq: int) -> None:
        header, body = [(43, b"Y"), (122, original.get(52) or b"")], []
        for tag, value in original.fields()[3:-1]:
            if tag in _SESSION_HEADER:
                continue
            (header if self._is_header(tag) else body).append((tag, value))
        self._emit(original.msg_type, body, header, seq=seq)

    def _is_header(self, tag: int) -> bool:
        raise NotImplementedError


def _tag(field: Field) -> int:
    return field[0]
