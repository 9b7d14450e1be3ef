"""Outbound order entry: engine events into FIX 4.4 ExecutionReport (8), OrderCancelReject
(9) and OrderMassCancelReport (r) bodies, for the accounts a gateway serves.

``reports(position, events, table, instruments, transact_time)`` turns the events of one
log entry into ``Report``s (account, MsgType, body fields in tag order), keeping the
``OrderTable`` (the gateway's memory of its accounts' orders) in step. ExecID(17) is
``"{position}-{n}"``, n the event's ordinal in the entry (a fill adds ``-M`` for the
maker's report and ``-T`` for the taker's), so a replayed log gives the same ExecIDs.

==========================  ===========  ===========  ====================================
event                       ExecType     OrdStatus    notes
==========================  ===========  ===========  ====================================
OrderAccepted               0 New        0            Price only for LIMIT and STOP_LIMIT
OrderFilled                 F Trade      1 or 2       LastPx, LastQty; AvgPx exact
OrderCancelled, all of it   4 Canceled   4            a client's cancel: ClOrdID is the
                                                      request's, OrigClOrdID the order's
OrderCancelled, part of it  D Restated   0 or 1       self-trade decrement; 378=5
OrderReplaced               5 Replaced   0 or 1       ClOrdID new, OrigClOrdID old
OrderExpired                C Expired    C
OrderTriggered              D Restated   0 or 1       378=99, Text: the trigger price.
                                                      FIX 4.4 has no ExecType L
                                                      (Triggered): QuickFIX's FIX44
                                                      dictionary would reject it
OrderRejected, SUBMIT       8 Rejected   8            OrdRejReason from ``ORD_REJ_REASONS``
OrderRejected, CANCEL/      OrderCancelReject(9): CxlRejResponseTo 1/2, CxlRejReason from
REPLACE                     ``CXL_REJ_REASONS``, OrdStatus the order's (8 when unknown)
OrderRejected, MASS_CANCEL  OrderMassCancelReport(r), MassCancelResponse 0
MassCancelCompleted         OrderMassCancelReport(r): 530 = 531 = 1 (by security) or 7
==========================  ===========================================================

OrderRejected carries the request's terms: a submit's Side, OrderQty, OrdType,
TimeInForce and prices, which an ER needs (Side is required), and a cancel's or replace's
OrigClOrdID. A reject is answered from the event alone, so nothing is lost when the gateway
restarts between forwarding a request and its reject (it forgets what it forwarded), and a
request another gateway forwarded for a served account is answered like its fills are.
An event written before those terms were appended (its side 0) is answered from the note
``table.note_request`` keeps of every command the gateway forwards; with neither, a submit
reject gives no report and a cancel reject says OrigClOrdID "NONE" unless the order is
known. Events of orders the table does not know (accepted before it started) give no
report. ``CommandRejected`` answers commands FIX order entry never sends (reference
data, risk, balances): ignored. Account 0 (an operator's mass cancel of every account)
belongs to no session: ignored.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from venue.codecs.commands import CancelOrder, ReplaceOrder, SubmitOrder
from venue.codecs.enums import CancelReason, OrderType, RejectReason, RequestKind
from venue.codecs.events import (
    MassCancelCompleted,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
)
from venue.gateways.fix.fixtime import format_utc
from venue.gateways.instruments import Instruments
from venue.gateways.order_table import (
    CANCELLED,
    EXPIRED,
    FILLED,
    PARTIALLY_FILLED,
    Order,
    OrderTable,
)

__all__ = ["AVG_PX_EXTRA_DECIMALS", "CXL_REJ_REASONS", "ORD_REJ_REASONS", "Order",
           "OrderTable", "Report", "reports", "status_report"]

EXECUTION_REPORT, ORDER_CANCEL_REJECT, MASS_CANCEL_REPORT = b"8", b"9", b"r"
REJECTED = b"8"
AVG_PX_EXTRA_DECIMALS = 4  # AvgPx has the instrument's price decimals and 4 more
NO_ORDER_ID = b"NONE"

SIDES = {1: b"1", 2: b"2"}
ORD_TYPES = {OrderType.MARKET: b"1", OrderType.LIMIT: b"2", OrderType.STOP: b"3",
             OrderType.STOP_LIMIT: b"4"}
TIMES_IN_FORCE = {4: b"0", 1: b"1", 2: b"3", 3: b"4", 5: b"6"}  # engine TimeInForce -> 59

R = RejectReason
#: RejectReason -> OrdRejReason(103); absent: 99 Other
ORD_REJ_REASONS = {
    R.UNKNOWN_INSTRUMENT: 1, R.INSTRUMENT_HALTED: 2, R.INSTRUMENT_CLOSED: 2,
    R.MAX_ORDER_QUANTITY_EXCEEDED: 3, R.MAX_ORDER_NOTIONAL_EXCEEDED: 3,
    R.MAX_OPEN_ORDERS_EXCEEDED: 3, R.INSUFFICIENT_BALANCE: 3, R.UNKNOWN_ORDER: 5,
    R.DUPLICATE_CLIENT_ORDER_ID: 6, R.QUANTITY_OFF_LOT: 13, R.QUANTITY_OUT_OF_RANGE: 13}
#: RejectReason -> CxlRejReason(102); absent: 99 Other
CXL_REJ_REASONS = {R.TOO_LATE_TO_CANCEL: 0, R.UNKNOWN_ORDER: 1,
                   R.DUPLICATE_CLIENT_ORDER_ID: 6}
CANCEL_TEXTS = {
    CancelReason.USER: "Cancelled on request",
    CancelReason.IOC_REMAINDER: "Immediate-or-cancel remainder cancelled",
    CancelReason.SELF_TRADE_PREVENTION: "Cancelled by self-trade prevention",
    CancelReason.EXPIRY: "Expired",
    CancelReason.MASS_CANCEL: "Cancelled by mass cancel",
    CancelReason.KILL_SWITCH: "Cancelled by the kill switch",
    CancelReason.MARKET_PROTECTION: "Market order remainder beyond its protection price "
                                    "cancelled",
    CancelReason.INSTRUMENT_CLOSED: "Cancelled: the instrument closed"}
RESTATED_PARTIAL_DECLINE, RESTATED_OTHER = b"5", b"99"


class Report(NamedTuple):
    """One message to send to ``account``'s session: MsgType and body (after MsgType,
    without the header's session fields), in tag order."""

    account: int
    msg_type: bytes
    body: list[tuple[int, bytes]]


class _Context(NamedTuple):
    table: OrderTable
    instruments: Instruments
    transact_time: bytes
    exec_id: bytes


def reports(position: int, events: list, table: OrderTable, instruments: Instruments,
            transact_time: bytes) -> list[Report]:
    """The reports of one log entry's events (all of them, every outcome's, in order), for
    the accounts ``table`` serves; updates ``table``. O(events)."""
    out: list[Report] = []
    for n, event in enumerate(events):
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            context = _Context(table, instruments, transact_time, b"%d-%d" % (position, n))
            handler(event, context, out)
    return out


def status_report(table: OrderTable, instruments: Instruments, account: int, message,
                  transact_time: bytes = b"") -> Report:
    """The answer to an OrderStatusRequest(H) of ``account``: ExecType I with the order's
    state, found by OrderID(37) or ClOrdID(11); an order that is unknown or another
    account's gets OrdStatus 8 and Text "Unknown order" (a client never learns of others'
    orders). O(1)."""
    order = None
    order_id = message.get(37)
    if order_id is not None and order_id.isdigit():
        order = table.order(int(order_id))
    if order is None:
        cl_ord_id = message.get(11)
        if cl_ord_id is not None:
            order = table.find(account, cl_ord_id.decode(errors="replace"))
    extra = {}
    if message.get(790) is not None:
        extra[790] = message.get(790)
    if transact_time:
        extra[60] = transact_time
    if order is None or order.account != account:
        fields = {1: str(account).encode(), 6: b"0", 14: b"0", 17: b"0",
                  37: order_id or NO_ORDER_ID, 39: REJECTED, 58: b"Unknown order",
                  150: b"I", 151: b"0", **extra}
        for tag in (11, 54, 55):
            if message.get(tag) is not None:
                fields[tag] = message.get(tag)
        return Report(account, EXECUTION_REPORT, sorted(fields.items()))
    context = _Context(table, instruments, transact_time, b"0")
    fields = _order_fields(order, context, b"I", order.status)
    fields.update(extra)
    if not transact_time:
        del fields[60]
    return Report(account, EXECUTION_REPORT, sorted(fields.items()))


# -- the body of an execution report -----------------------------------------------------


def _order_fields(order: Order, context: _Context, exec_type: bytes, status: bytes
                  ) -> dict[int, bytes]:
    """Every field an ER about ``order`` carries, by tag."""
    info = context.instruments.by_id(order.instrument_id)
    if info is None:
        raise LookupError(f"instrument {order.instrument_id} is not in the table")
    fields = {1: str(order.account).encode(), 6: _average_price(order, info.price_decimals),
              11: order.client_order_id.encode(), 14: info.quantity_text(order.cum_quantity),
              17: context.exec_id, 37: str(order.order_id).encode(),
              38: info.quantity_text(order.quantity), 39: status,
              40: ORD_TYPES[order.order_type], 54: SIDES[order.side],
              55: info.symbol.encode(), 59: TIMES_IN_FORCE[order.time_in_force],
              60: context.transact_time, 150: exec_type,
              151: info.quantity_text(order.leaves_quantity)}
    if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields[44] = info.price_text(order.price)
    if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields[99] = info.price_text(order.stop_price)
    if order.display_quantity:
        fields[111] = info.quantity_text(order.display_quantity)
    if order.expire_time_ns:
        fields[126] = format_utc(order.expire_time_ns)
    return fields


def _average_price(order: Order, price_decimals: int) -> bytes:
    """The exact average fill price, rounded half-even to a fixed number of places."""
    if order.cum_quantity == 0:
        return b"0"
    places = price_decimals + AVG_PX_EXTRA_DECIMALS
    scaled = round(Fraction(order.notional * 10 ** AVG_PX_EXTRA_DECIMALS, order.cum_quantity))
    whole, fraction = divmod(scaled, 10 ** places)
    return b"%d.%0*d" % (whole, places, fraction)


def _report(order: Order, context: _Context, exec_type: bytes, extra: dict[int, bytes],
            out: list[Report]) -> None:
    fields = _order_fields(order, context, exec_type, order.status)
    fields.update(extra)
    out.append(Report(order.account, EXECUTION_REPORT, sorted(fields.items())))


# -- one handler per event ---------------------------------------------------------------


def _accepted(event: OrderAccepted, context: _Context, out: list[Report]) -> None:
    table = context.table
    if not table.serves(event.account):
        return
    table.take_request(event.account, RequestKind.SUBMIT, event.client_order_id)
    order = table.add(event)
    _report(order, context, b"0", {}, out)


def _filled(event: OrderFilled, context: _Context, out: list[Report]) -> None:
    table = context.table
    for order_id, leaves, role in ((event.maker_order_id, event.maker_leaves_quantity, b"M"),
                                   (event.taker_order_id, event.taker_leaves_quantity, b"T")):
        order = table.open_order(order_id)
        if order is None:
            continue
        order.cum_quantity += event.quantity
        order.notional += event.price * event.quantity
        order.leaves_quantity = leaves
        order.status = FILLED if leaves == 0 else PARTIALLY_FILLED
        info = context.instruments.by_id(event.instrument_id)
        assert info is not None
        extra = {31: info.price_text(event.price), 32: info.quantity_text(event.quantity)}
        _report(order, context._replace(exec_id=context.exec_id + b"-" + role), b"F", extra,
                out)
        if leaves == 0:
            table.finish(order)


def _cancelled(event: OrderCancelled, context: _Context, out: list[Report]) -> None:
    table = context.table
    order = table.open_order(event.order_id)
    if order is None:
        return
    text = CANCEL_TEXTS.get(event.reason, event.reason.name)
    extra: dict[int, bytes] = {}
    if event.reason == CancelReason.USER and event.request_client_order_id:
        table.take_request(order.account, RequestKind.CANCEL, event.request_client_order_id)
        extra[11] = event.request_client_order_id.encode()
        extra[41] = order.client_order_id.encode()
    elif event.reason == CancelReason.MASS_CANCEL and event.request_client_order_id:
        text = f"{text} {event.request_client_order_id}"
    extra[58] = text.encode()
    order.leaves_quantity -= event.cancelled_quantity
    if order.leaves_quantity > 0:  # self-trade prevention decremented the order
        order.quantity -= event.cancelled_quantity
        extra[378] = RESTATED_PARTIAL_DECLINE
        _report(order, context, b"D", extra, out)
        return
    order.leaves_quantity = 0
    order.status = CANCELLED
    _report(order, context, b"4", extra, out)
    table.finish(order)


def _replaced(event: OrderReplaced, context: _Context, out: list[Report]) -> None:
    table = context.table
    order = table.open_order(event.order_id)
    if order is None:
        return
    table.take_request(order.account, RequestKind.REPLACE, event.client_order_id)
    table.rename(order, event.client_order_id)
    order.price, order.quantity = event.price, event.quantity
    order.leaves_quantity = event.leaves_quantity
    if event.stop_price:
        order.stop_price = event.stop_price
    priority = b"Replaced, time priority kept" if event.priority_kept else \
        b"Replaced, time priority lost"
    _report(order, context, b"5",
            {41: event.orig_client_order_id.encode(), 58: priority}, out)


def _expired(event: OrderExpired, context: _Context, out: list[Report]) -> None:
    table = context.table
    order = table.open_order(event.order_id)
    if order is None:
        return
    order.leaves_quantity = 0
    order.status = EXPIRED
    _report(order, context, b"C", {}, out)
    table.finish(order)


def _triggered(event: OrderTriggered, context: _Context, out: list[Report]) -> None:
    order = context.table.open_order(event.order_id)
    if order is None:
        return
    info = context.instruments.by_id(order.instrument_id)
    assert info is not None
    text = b"Stop triggered at " + info.price_text(event.trigger_price)
    _report(order, context, b"D", {58: text, 378: RESTATED_OTHER}, out)


def _mass_cancelled(event: MassCancelCompleted, context: _Context, out: list[Report]) -> None:
    if not event.account or not context.table.serves(event.account):
        return
    request_type = b"1" if event.instrument_id else b"7"
    fields = {11: event.client_request_id.encode(),
              37: event.client_request_id.encode(), 530: request_type, 531: request_type,
              533: b"%d" % event.cancelled_count}
    info = context.instruments.by_id(event.instrument_id)
    if info is not None:
        fields[55] = info.symbol.encode()
    out.append(Report(event.account, MASS_CANCEL_REPORT, sorted(fields.items())))


def _reject_text(event: OrderRejected) -> bytes:
    name = event.reason.name if isinstance(event.reason, RejectReason) else str(event.reason)
    return (f"{name}: {event.text}" if event.text else name).encode()


def _rejected(event: OrderRejected, context: _Context, out: list[Report]) -> None:
    if not context.table.serves(event.account):
        return
    if event.request == RequestKind.SUBMIT:
        _submit_rejected(event, context, out)
    elif event.request in (RequestKind.CANCEL, RequestKind.REPLACE):
        _cancel_rejected(event, context, out)
    elif event.request == RequestKind.MASS_CANCEL:
        request_type = b"1" if event.instrument_id else b"7"
        fields = {11: event.client_order_id.encode(),
                  37: event.client_order_id.encode(), 58: _reject_text(event),
                  530: request_type, 531: b"0", 532: b"99"}
        out.append(Report(event.account, MASS_CANCEL_REPORT, sorted(fields.items())))


def _submit_rejected(event: OrderRejected, context: _Context, out: list[Report]) -> None:
    command = context.table.take_request(event.account, RequestKind.SUBMIT,
                                         event.client_order_id)
    info = context.instruments.by_id(event.instrument_id)
    # the event's own terms; an event from before they were appended (side 0): the note's
    terms = event if event.side else command
    if not isinstance(terms, OrderRejected | SubmitOrder) or info is None:
        return  # an ER needs Side, OrderQty, OrdType: neither the event nor a note has them
    fields = {1: str(event.account).encode(), 6: b"0", 11: event.client_order_id.encode(),
              14: b"0", 17: context.exec_id, 37: NO_ORDER_ID,
              38: info.quantity_text(terms.quantity), 39: REJECTED,
              40: ORD_TYPES[terms.order_type], 54: SIDES[terms.side],
              55: info.symbol.encode(), 58: _reject_text(event),
              59: TIMES_IN_FORCE[terms.time_in_force], 60: context.transact_time,
              103: b"%d" % ORD_REJ_REASONS.get(event.reason, 99), 150: REJECTED,
              151: b"0"}
    if terms.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields[44] = info.price_text(terms.price)
    if terms.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields[99] = info.price_text(terms.stop_price)
    out.append(Report(event.account, EXECUTION_REPORT, sorted(fields.items())))


def _cancel_rejected(event: OrderRejected, context: _Context, out: list[Report]) -> None:
    """OrderCancelReject(9): the order's id and status when the table knows the order."""
    table, account = context.table, event.account
    command = table.take_request(account, event.request, event.client_order_id)
    orig = event.orig_client_order_id or (command.orig_client_order_id if isinstance(
        command, CancelOrder | ReplaceOrder) else "")
    order = table.order(event.order_id) if event.order_id else (
        table.find(account, orig) if orig else None)
    if order is not None and order.account != account:
        order = None  # never tell one account of another's orders
    if not orig and order is not None:
        orig = order.client_order_id
    response_to = b"1" if event.request == RequestKind.CANCEL else b"2"
    fields = {1: str(account).encode(), 11: event.client_order_id.encode(),
              37: str(order.order_id).encode() if order is not None else NO_ORDER_ID,
              39: order.status if order is not None else REJECTED,
              41: orig.encode() if orig else NO_ORDER_ID, 58: _reject_text(event),
              60: context.transact_time,
              102: b"%d" % CXL_REJ_REASONS.get(event.reason, 99), 434: response_to}
    out.append(Report(account, ORDER_CANCEL_REJECT, sorted(fields.items())))


_HANDLERS = {OrderAccepted: _accepted, OrderFilled: _filled, OrderCancelled: _cancelled,
             OrderReplaced: _replaced, OrderExpired: _expired, OrderTriggered: _triggered,
             MassCancelCompleted: _mass_cancelled, OrderRejected: _rejected}
