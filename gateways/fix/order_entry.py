"""The order-entry application behind the gateway's FIX sessions.

Each session acts for exactly one account, taken from the gateway's configuration and never
from the message (a message naming another account is refused), so a session cannot see or
touch another firm's orders. NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest
and OrderMassCancelRequest become engine commands; their outcome comes back from the event
stream (``gateway.py``). OrderStatusRequest is answered from the gateway's order table,
MarketDataRequest and SecurityListRequest from its market data hub. Application messages
above the session's ``throttle_per_s`` are answered with a BusinessMessageReject, not a
disconnect. With ``cancel_on_disconnect``, a session's logout or lost connection cancels
the account's open orders.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from venue.codecs import MassCancel

from .execreports import status_report
from .fixtime import format_utc
from .gateway_config import DROP_COPY
from .orders import (
    RequestError,
    cancel_request,
    mass_cancel_request,
    new_order,
    replace_request,
)
from .orders_rejects import request_reject, session_exception
from .session import BusinessReject, FixSession, UnsupportedMessageType

if TYPE_CHECKING:
    from venue.codecs.tagvalue import FixMessage

    from .gateway import FixGateway

_NS = 1_000_000_000
_COMMANDS = {b"D": new_order, b"F": cancel_request, b"G": replace_request,
             b"q": mass_cancel_request}


class _Throttle:
    """A token bucket: ``rate`` messages a second, bursts up to ``rate``."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.updated_ns = 0

    def allow(self, now_ns: int) -> bool:
        if self.rate <= 0:
            return True
        if self.updated_ns:
            elapsed = (now_ns - self.updated_ns) / _NS
            self.tokens = min(float(self.rate), self.tokens + elapsed * self.rate)
        self.updated_ns = now_ns
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class OrderEntryApplication:
    def __init__(self, gateway: FixGateway) -> None:
        self.gateway = gateway
        self._throttles: dict[object, _Throttle] = {}
        self._reject_ids = itertools.count(1)
        self.throttled = 0

    def on_logon(self, session: FixSession) -> None:
        entry = self.gateway.config.session(session.config.session_id)
        self._throttles[session.config.session_id] = _Throttle(entry.throttle_per_s)

    def on_logout(self, session: FixSession) -> None:
        entry = self.gateway.config.session(session.config.session_id)
        self.gateway.market_data.drop(session)
        if entry.cancel_on_disconnect and entry.kind != DROP_COPY:
            request_id = f"cod-{entry.fix.session_id.target_comp_id}-{session.now_ns}"
            self.gateway.submit(MassCancel(request_id, account=entry.account), must=True)

    def from_app(self, session: FixSession, message: FixMessage) -> None:
        entry = self.gateway.config.session(session.config.session_id)
        throttle = self._throttles.get(session.config.session_id)
        if throttle is not None and not throttle.allow(session.now_ns):
            self.throttled += 1
            raise BusinessReject(0, f"Throttle limit exceeded "
                                    f"({entry.throttle_per_s} messages per second)")
        msg_type = message.msg_type
        if msg_type == b"V":
            for reply_type, body in self.gateway.market_data.request(session, message):
                session.send(reply_type, body)
            return
        if msg_type == b"x":
            session.send(*self.gateway.market_data.security_list(message))
            return
        if entry.kind == DROP_COPY:
            raise UnsupportedMessageType(msg_type)
        if msg_type == b"H":
            report = status_report(self.gateway.orders, self.gateway.instruments,
                                   entry.account, message, format_utc(session.now_ns))
            session.send(report.msg_type, report.body)
            return
        build = _COMMANDS.get(msg_type)
        if build is None:
            raise UnsupportedMessageType(msg_type)
        try:
            command = build(message, entry.account, self.gateway.instruments)
        except RequestError as error:
            self._answer(session, message, error)
            return
        if self.gateway.busy:
            self._answer(session, message, _busy(msg_type))
            return
        self.gateway.orders.note_request(command)
        self.gateway.submit(command)

    def _answer(self, session: FixSession, message: FixMessage, error: RequestError) -> None:
        """A request that cannot become a command is answered at once, as the engine would
        have answered it."""
        exception = session_exception(error)
        if exception is not None:
            raise exception
        entry = self.gateway.config.session(session.config.session_id)
        exec_id = b"R%d-%d" % (session.now_ns, next(self._reject_ids))
        report = request_reject(error, message, entry.account, format_utc(session.now_ns),
                                exec_id, self.gateway.orders)
        if report is not None:
            session.send(report.msg_type, report.body)


def _busy(msg_type: bytes) -> RequestError:
    text = "venue busy: too many commands in flight, try again"
    if msg_type == b"D":
        return RequestError("execution_report", text, ord_rej_reason=99)
    if msg_type == b"q":
        return RequestError("mass_cancel_reject", text, mass_cancel_reject_reason=99)
    return RequestError("cancel_reject", text, cxl_rej_reason=99,
                        response_to=1 if msg_type == b"F" else 2)
