"""Answers to the requests ``orders`` refuses before they reach the engine: the
``RequestError`` and the request become a rejected ExecutionReport (D), an
OrderCancelReject (F, G) or a rejected OrderMassCancelReport (q); session and business
rejects are the session layer's (``session_exception``).

The report echoes the request's own fields (Symbol, Side, OrderQty, OrdType, Price,
TimeInForce): the session layer validated their format before the application saw the
message, so the echo is valid FIX even when the value was refused (a Price with too many
decimals is still a PRICE).
"""

from __future__ import annotations

from venue.gateways.fix.execreports import (
    EXECUTION_REPORT,
    MASS_CANCEL_REPORT,
    NO_ORDER_ID,
    ORDER_CANCEL_REJECT,
    REJECTED,
    Report,
)
from venue.gateways.fix.orders import (
    BUSINESS_REJECT,
    CANCEL_REJECT,
    MASS_CANCEL_REJECT,
    SESSION_REJECT,
    RequestError,
)
from venue.gateways.fix.orders import (
    EXECUTION_REPORT as ANSWER_EXECUTION_REPORT,
)
from venue.gateways.fix.session import BusinessReject, FieldReject
from venue.gateways.order_table import OrderTable

__all__ = ["request_reject", "session_exception"]

_ECHOED = {ANSWER_EXECUTION_REPORT: (38, 40, 44, 54, 55, 59, 99),
           CANCEL_REJECT: (), MASS_CANCEL_REJECT: (55, 530)}


def request_reject(error: RequestError, message, account: int, transact_time: bytes,
                   exec_id: bytes, table: OrderTable | None = None) -> Report | None:
    """The report answering ``error`` for ``message`` of ``account``'s session; None when
    the answer is a session Reject or a BusinessMessageReject (``session_exception``).
    ``exec_id`` names the rejected ER (it is outside the log: the gateway picks one, say
    from its outgoing sequence number). ``table``, when given, supplies the OrdStatus of
    the order a refused cancel names. O(1)."""
    if error.answer not in _ECHOED:
        return None
    fields = {tag: message.get(tag) for tag in _ECHOED[error.answer]
              if message.get(tag) is not None}
    cl_ord_id = error.cl_ord_id or NO_ORDER_ID
    text = error.text.encode(errors="replace")
    if error.answer == ANSWER_EXECUTION_REPORT:
        if 59 not in fields:  # the default orders.new_order applies
            fields[59] = b"3" if message.get(40) == b"1" else b"0"
        fields.update({1: str(account).encode(), 6: b"0", 11: cl_ord_id, 14: b"0",
                       17: exec_id, 37: NO_ORDER_ID, 39: REJECTED, 58: text,
                       60: transact_time, 103: b"%d" % error.ord_rej_reason, 150: REJECTED,
                       151: b"0"})
        return Report(account, EXECUTION_REPORT, sorted(fields.items()))
    if error.answer == MASS_CANCEL_REJECT:
        fields.update({11: cl_ord_id, 37: cl_ord_id, 58: text, 531: b"0",
                       532: b"%d" % error.mass_cancel_reject_reason})
        return Report(account, MASS_CANCEL_REPORT, sorted(fields.items()))
    order = None
    if table is not None and error.orig_cl_ord_id:
        order = table.find(account, error.orig_cl_ord_id.decode(errors="replace"))
    fields.update({1: str(account).encode(), 11: cl_ord_id,
                   37: str(order.order_id).encode() if order is not None else NO_ORDER_ID,
                   39: order.status if order is not None else REJECTED,
                   41: error.orig_cl_ord_id or NO_ORDER_ID, 58: text, 60: transact_time,
                   102: b"%d" % error.cxl_rej_reason, 434: b"%d" % error.response_to})
    return Report(account, ORDER_CANCEL_REJECT, sorted(fields.items()))


def session_exception(error: RequestError) -> FieldReject | BusinessReject | None:
    """The exception that makes the session layer answer ``error`` with a Reject(3) or a
    BusinessMessageReject(j); None for the answers ``request_reject`` builds."""
    if error.answer == SESSION_REJECT:
        return FieldReject(error.session_reason, error.ref_tag, error.text)
    if error.answer == BUSINESS_REJECT:
        return BusinessReject(error.business_reason, error.text, error.cl_ord_id or None)
    return None
