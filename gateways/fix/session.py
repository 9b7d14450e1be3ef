"""One FIX session's state machine, without I/O: the rules of the FIX session layer as
QuickFIX applies them (and as its acceptance scripts check).

The acceptor core hands the session each parsed message with ``receive(message, now_ns)``
and calls ``tick(now_ns)`` on a timer; the session queues the bytes to send (``take_output``)
and says when its connection must close (``disconnect_reason``). An application behind it
(``Application``) gets the in-sequence application messages and sends with ``send``.

Incoming order of checks: BeginString, then the data dictionary, then per message type the
logon state, SendingTime, CompIDs and MsgSeqNum (too high: queue it and ask for a resend;
too low: Logout unless PossDupFlag), then the application.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from .fixtime import parse_utc
from .outgoing import Field, SessionOutput

if TYPE_CHECKING:
    from venue.codecs.tagvalue import FixMessage

    from .config import SessionConfig
    from .dictionary import DataDictionary
    from .store import MemorySessionStore

log = logging.getLogger("venue.fix")
_NS = 1_000_000_000


class UnsupportedMessageType(Exception):
    """Raised by an application for a message type it does not handle."""


class BusinessReject(Exception):
    """Raised by an application to answer with BusinessMessageReject(j)."""

    def __init__(self, reason: int, text: str | None = None, ref_id: bytes | None = None):
        super().__init__(text or str(reason))
        self.reason, self.text, self.ref_id = reason, text, ref_id


class FieldReject(Exception):
    """Raised by an application to answer with a session Reject(3) naming a field."""

    def __init__(self, reason: int, tag: int, text: str | None = None):
        super().__init__(text or f"{reason} {tag}")
        self.reason, self.tag, self.text = reason, tag, text


class Application(Protocol):
    def on_logon(self, session: FixSession) -> None: ...
    def on_logout(self, session: FixSession) -> None: ...
    def from_app(self, session: FixSession, message: FixMessage) -> None: ...


class _Disconnect(Exception):
    pass


class FixSession(SessionOutput):
    def __init__(self, config: SessionConfig, store: MemorySessionStore,
                 dictionary: DataDictionary, application: Application) -> None:
        self.config = config
        self.store = store
        self.dictionary = dictionary
        self.application = application
        sid = config.session_id
        self.begin, self.sender = sid.begin_string.encode(), sid.sender_comp_id.encode()
        self.target = sid.target_comp_id.encode()
        self.now_ns = 0
        self._out: list[bytes] = []
        self.connected = False
        self.disconnect_reason: str | None = None
        self._clear_connection_state()

    def _clear_connection_state(self) -> None:
        self.received_logon = self.sent_logon = self.sent_logout = False
        self.received_reset = self.sent_reset = False
        self.sent_logout_ns = self.connected_ns = self.last_sent_ns = 0
        self.last_received_ns = 0
        self.heartbeat_s = 0
        self.test_requests = 0
        self.queue: dict[int, FixMessage] = {}
        self.resend_range: tuple[int, int] | None = None

    @property
    def logged_on(self) -> bool:
        return self.received_logon and self.sent_logon

    # -- the connection ------------------------------------------------------------------

    def connect(self, now_ns: int) -> None:
        self.now_ns = self.connected_ns = now_ns
        self.connected, self.disconnect_reason = True, None

    def connection_lost(self, now_ns: int) -> None:
        """The transport closed (either side)."""
        self.now_ns = now_ns
        was_logged_on = self.received_logon or self.sent_logon
        self.connected = False
        self._clear_connection_state()
        if self.config.reset_on_disconnect:
            self.store.reset()
        if was_logged_on:
            self.application.on_logout(self)

    def take_output(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def _disconnect(self, reason: str) -> None:
        if self.disconnect_reason is None:
            self.disconnect_reason = reason
            log.info("%s: disconnecting: %s", self.config.session_id, reason)
        raise _Disconnect(reason)

    # -- application side ----------------------------------------------------------------

    def send(self, msg_type: bytes, body: Sequence[Field], header: Sequence[Field] = (),
             now_ns: int | None = None) -> int:
        """Send an application message; it is stored for resends even when the session is
        not logged on (the counterparty asks for it after its next logon). Returns its
        MsgSeqNum. ``now_ns``: the time for SendingTime when the send is not an answer to
        a message just received."""
        if now_ns is not None:
            self.now_ns = now_ns
        clean = [(tag, value) for tag, value in header if tag not in (43, 122)]
        return self._emit(msg_type, body, clean, store=True, wire=self.logged_on)

    # -- timers --------------------------------------------------------------------------

    def tick(self, now_ns: int) -> None:
        self.now_ns = now_ns
        try:
            self._timers()
        except _Disconnect:
            pass

    def _timers(self) -> None:
        now = self.now_ns
        if not self.connected:
            return
        if not self.received_logon:
            if now - self.connected_ns >= self.config.logon_timeout_s * _NS:
                self._disconnect("no Logon in time")
            return
        if self.sent_logout and now - self.sent_logout_ns >= \
                self.config.logout_timeout_s * _NS:
            self._disconnect("timed out waiting for the Logout response")
        interval = self.heartbeat_s * _NS
        if interval == 0:
            return
        since_received = now - self.last_received_ns
        if now - self.last_sent_ns < interval and since_received < interval:
            return
        if since_received >= 2.4 * interval:
            self._disconnect("timed out waiting for a heartbeat")
        elif since_received >= 1.2 * (self.test_requests + 1) * interval:
            self._send_test_request(b"TEST")
            self.test_requests += 1
        elif now - self.last_sent_ns >= interval and not self.test_requests:
            self._send_heartbeat()

    # -- incoming ------------------------------------------------------------------------

    def receive(self, message: FixMessage, now_ns: int) -> None:
        """One well-framed message from the counterparty (garbled ones never get here)."""
        self.now_ns = now_ns
        try:
            self._next(message, queued=False)
        except _Disconnect:
            pass

    def _next(self, message: FixMessage, queued: bool) -> None:
        msg_type = message.msg_type
        try:
            if message.begin_string != self.begin:
                if msg_type == b"5":
                    self._next_logout(message)
                else:
                    self._send_logout("Incorrect BeginString")
                    self.store.set_next_target(self.store.next_target + 1)
            else:
                self._validated(message)
        except UnsupportedMessageType:
            self._send_business_reject(message, 3, None)
            self.store.set_next_target(self.store.next_target + 1)
        except BusinessReject as exc:
            self._send_business_reject(message, exc.reason, exc.text, exc.ref_id)
            self.store.set_next_target(self.store.next_target + 1)
        except FieldReject as exc:
            self._reject(message, exc.reason, exc.tag, exc.text)
        if not queued:
            self._next_queued()
        if self.logged_on:
            self._timers()

    def _validated(self, message: FixMessage) -> None:
        problem = self.dictionary.validate(message.fields())
        if problem is not None:
            if message.msg_type == b"A":
                self._disconnect(f"invalid Logon: {problem.text} ({problem.ref_tag})")
            self._reject(message, problem.reason, problem.ref_tag, problem.text)
            return
        handler = _HANDLERS.get(message.msg_type)
        if handler is not None:
            handler(self, message)
        elif self._verify(message):
            self.store.set_next_target(self.store.next_target + 1)

    def _reject(self, message: FixMessage, reason: int, ref_tag: int | None,
                text: str | None) -> None:
        if not self.received_logon:
            self._disconnect(f"rejected before Logon: {text}")
        self._send_reject(message, reason, ref_tag, text)
        seq = _int(message.get(34))
        if message.msg_type not in (b"A", b"4") and seq == self.store.next_target:
            self.store.set_next_target(seq + 1)

    def _verify(self, message: FixMessage, too_high: bool = True,
                too_low: bool = True) -> bool:
        msg_type = message.msg_type
        if not self._valid_logon_state(msg_type):
            self._disconnect("logon state is not valid for the message")
        sending_ns = parse_utc(message.get(52) or b"")
        if self.config.check_latency and (sending_ns is None or abs(
                self.now_ns - sending_ns) > self.config.max_latency_s * _NS):
            self._reject(message, 10, None, None)
            self._send_logout()
            return False
        if message.get(49) != self.target or message.get(56) != self.sender:
            self._reject(message, 9, None, None)
            self._send_logout()
            return False
        self.last_received_ns, self.test_requests = self.now_ns, 0
        seq = _int(message.get(34))
        expected = self.store.next_target
        if too_high and seq > expected:
            self._target_too_high(message, seq)
            return False
        if too_low and seq < expected:
            self._target_too_low(message, seq, expected)
            return False
        if (too_high or too_low) and self.resend_range and seq >= self.resend_range[1]:
            log.info("%s: resend of %s satisfied", self.config.session_id, self.resend_range)
            self.resend_range = None
        if msg_type not in _ADMIN:
            self.application.from_app(self, message)
        return True

    def _valid_logon_state(self, msg_type: bytes) -> bool:
        if (msg_type == b"A" and self.sent_reset) or self.received_reset:
            return True
        if (msg_type == b"A") != self.received_logon:
            return True
        if msg_type == b"5" and self.sent_logon:
            return True
        return (msg_type != b"5" and self.sent_logout) or msg_type == b"4"

    def _target_too_high(self, message: FixMessage, seq: int) -> None:
        log.info("%s: MsgSeqNum too high, expecting %d but received %d",
                 self.config.session_id, self.store.next_target, seq)
        if len(self.queue) >= self.config.queued_messages_max and seq not in self.queue:
            self._send_logout("too many messages ahead of a gap")
            self._disconnect("queue of out-of-order messages full")
        self.queue[seq] = message
        if self.resend_range and seq >= self.resend_range[0]:
            return  # a ResendRequest for this gap is out already
        self._send_resend_request(self.store.next_target)
        self.resend_range = (self.store.next_target, seq - 1)

    def _target_too_low(self, message: FixMessage, seq: int, expected: int) -> None:
        if message.get(43) != b"Y":
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._send_logout(text)
            self._disconnect(text)
        if message.msg_type == b"4":
            return
        original = message.get(122)
        if original is None:
            self._reject(message, 1, 122, None)
            return
        original_ns, sending_ns = parse_utc(original), parse_utc(message.get(52) or b"")
        if original_ns is not None and sending_ns is not None and original_ns > sending_ns:
            self._reject(message, 10, None, None)
            self._send_logout()

    def _next_queued(self) -> None:
        while self.queue:
            message = self.queue.pop(self.store.next_target, None)
            if message is None:
                return
            if message.msg_type in (b"A", b"2"):
                self.store.set_next_target(self.store.next_target + 1)
            else:
                self._next(message, queued=True)

    # -- admin messages ------------------------------------------------------------------

    def _next_logon(self, message: FixMessage) -> None:
        if self.config.reset_on_logon and not self.received_logon:
            self.store.reset()
        self.received_reset = message.get(141) == b"Y"
        if self.received_reset and not self.sent_reset:
            self.store.reset()
        password = self.config.password
        if password is not None and message.get(554) != password.encode():
            self._send_logout("Logon rejected: invalid password")
            self._disconnect("invalid password")
        heartbeat = _int(message.get(108))
        if heartbeat < 0:
            self._disconnect("negative HeartBtInt")
        if not self._verify(message, too_high=False, too_low=True):
            return
        self.received_logon = True
        self.heartbeat_s = heartbeat
        self._send_logon(heartbeat, self.received_reset)
        self.sent_logon = True
        self.sent_reset = self.received_reset = False
        seq = _int(message.get(34))
        if seq > self.store.next_target:
            self._target_too_high(message, seq)
        else:
            self.store.set_next_target(self.store.next_target + 1)
            self._next_queued()
        log.info("%s: logged on", self.config.session_id)
        self.application.on_logon(self)

    def _next_heartbeat(self, message: FixMessage) -> None:
        if self._verify(message):
            self.store.set_next_target(self.store.next_target + 1)
            self._next_queued()

    def _next_test_request(self, message: FixMessage) -> None:
        if self._verify(message):
            self._send_heartbeat(message.get(112))
            self.store.set_next_target(self.store.next_target + 1)
            self._next_queued()

    def _next_logout(self, message: FixMessage) -> None:
        if not self._verify(message, too_high=False, too_low=False):
            return
        if not self.sent_logout:
            self._send_logout()
        self.store.set_next_target(self.store.next_target + 1)
        if self.config.reset_on_logout:
            self.store.reset()
        self._disconnect("Logout")

    def _next_sequence_reset(self, message: FixMessage) -> None:
        gap_fill = message.get(123) == b"Y"
        if not self._verify(message, too_high=gap_fill, too_low=gap_fill):
            return
        new_seq = _int(message.get(36))
        expected = self.store.next_target
        if new_seq > expected:
            self.store.set_next_target(new_seq)
        elif new_seq < expected:
            self._reject(message, 5, None, None)

    def _next_resend_request(self, message: FixMessage) -> None:
        if not self._verify(message, too_high=False, too_low=False):
            return
        self._resend(_int(message.get(7)), _int(message.get(16)))
        seq = _int(message.get(34))
        if seq == self.store.next_target:
            self.store.set_next_target(seq + 1)

    def _is_header(self, tag: int) -> bool:
        return self.dictionary.is_header_field(tag)


def _int(value: bytes | None) -> int:
    """An integer field the dictionary has already checked; -1 if absent."""
    try:
        return int(value) if value else -1
    except ValueError:
        return -1


_ADMIN = frozenset((b"0", b"1", b"2", b"3", b"4", b"5", b"A"))
_HANDLERS = {
    b"A": FixSession._next_logon, b"0": FixSession._next_heartbeat,
    b"1": FixSession._next_test_request, b"4": FixSession._next_sequence_reset,
    b"5": FixSession._next_logout, b"2": FixSession._next_resend_request,
    b"3": FixSession._next_heartbeat,  # Reject: verified and counted, like a heartbeat
}
