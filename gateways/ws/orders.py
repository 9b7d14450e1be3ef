"""Engine order events into ``order`` messages for the account that owns the order, keeping
the FIX gateway's ``OrderTable`` (cumulative quantity, leaves, exact notional) in step.

``order_updates(position, events, table, instruments)`` returns ``(account, OrderUpdate)``
pairs in event order. An order the table does not know (accepted before the gateway
started) gives no update, except a reject, which needs no order. The status mapping:

=====================  ==================================================================
event                  status
=====================  ==================================================================
OrderAccepted          accepted
OrderFilled            partially_filled or filled (maker and taker each get their own)
OrderCancelled         cancelled; restated when self-trade prevention only decremented it
OrderReplaced          replaced (client_order_id new, orig_client_order_id old)
OrderExpired           expired
OrderTriggered         triggered (price: the trigger price)
OrderRejected          rejected, with request submit/cancel/replace and the reason code
=====================  ==================================================================
"""

from __future__ import annotations

from fractions import Fraction

from venue.codecs.enums import OrderType, RequestKind, Side, TimeInForce
from venue.codecs.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
)
from venue.gateways.instruments import InstrumentInfo, Instruments
from venue.gateways.order_table import (
    CANCELLED,
    EXPIRED,
    FILLED,
    PARTIALLY_FILLED,
    Order,
    OrderTable,
)

from .schema import OrderUpdate

AVG_PRICE_EXTRA_DECIMALS = 4
SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}
ORDER_TYPE_NAMES = {OrderType.LIMIT: "limit", OrderType.MARKET: "market",
                    OrderType.STOP: "stop", OrderType.STOP_LIMIT: "stop_limit"}
TIME_IN_FORCE_NAMES = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok",
                       TimeInForce.DAY: "day", TimeInForce.GTD: "gtd"}
REQUEST_NAMES = {RequestKind.SUBMIT: "submit", RequestKind.CANCEL: "cancel",
                 RequestKind.REPLACE: "replace"}
Updates = list[tuple[int, OrderUpdate]]
FINAL_STATUSES = frozenset({"filled", "cancelled", "expired"})


def text(units: int, decimals: int) -> str:
    """``units`` as an exact decimal string (6510050, 2 -> ``"65100.50"``)."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    if decimals == 0:
        return f"{sign}{units}"
    whole, fraction = divmod(units, 10 ** decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def average_price(order: Order, price_decimals: int) -> str:
    """The exact average fill price, rounded half-even to 4 more places than the price."""
    if order.cum_quantity == 0:
        return "0"
    scaled = round(Fraction(order.notional * 10 ** AVG_PRICE_EXTRA_DECIMALS,
                            order.cum_quantity))
    return text(scaled, price_decimals + AVG_PRICE_EXTRA_DECIMALS)


def order_state(order: Order, info: InstrumentInfo, position: int) -> OrderUpdate:
    """An open order as it stands: status accepted or partially_filled."""
    status = "partially_filled" if order.status == PARTIALLY_FILLED else "accepted"
    return _update(order, info, status, position)


def _update(order: Order, info: InstrumentInfo, status: str, position: int,
            **extra: object) -> OrderUpdate:
    price = stop_price = None
    if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = text(order.price, info.price_decimals)
    if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop_price = text(order.stop_price, info.price_decimals)
    q = info.quantity_decimals
    fields: dict = {
        "order_id": order.order_id, "side": SIDE_NAMES[order.side],
        "order_type": ORDER_TYPE_NAMES[order.order_type],
        "time_in_force": TIME_IN_FORCE_NAMES[order.time_in_force], "price": price,
        "stop_price": stop_price, "quantity": text(order.quantity, q),
        "cum_quantity": text(order.cum_quantity, q),
        "leaves_quantity": text(order.leaves_quantity, q),
        "avg_price": average_price(order, info.price_decimals)}
    fields.update(extra)
    return OrderUpdate(status, order.client_order_id, info.symbol, position, **fields)


def order_updates(position: int, events: list, table: OrderTable,
                  instruments: Instruments) -> Updates:
    """The order messages of one log entry's events; updates ``table``. O(events)."""
    out: Updates = []
    for event in events:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(event, position, table, instruments, out)
    return out


def _accepted(event: OrderAccepted, position: int, table: OrderTable,
              instruments: Instruments, out: Updates) -> None:
    info = instruments.by_id(event.instrument_id)
    if info is None or not table.serves(event.account):
        return
    order = table.add(event)
    out.append((order.account, _update(order, info, "accepted", position)))


def _filled(event: OrderFilled, position: int, table: OrderTable, instruments: Instruments,
            out: Updates) -> None:
    info = instruments.by_id(event.instrument_id)
    if info is None:
        return
    for order_id, leaves in ((event.maker_order_id, event.maker_leaves_quantity),
                             (event.taker_order_id, event.taker_leaves_quantity)):
        order = table.open_order(order_id)
        if order is None:
            continue
        order.cum_quantity += event.quantity
        order.notional += event.price * event.quantity
        order.leaves_quantity = leaves
        order.status = FILLED if leaves == 0 else PARTIALLY_FILLED
        status = "filled" if leaves == 0 else "partially_filled"
        out.append((order.account, _update(
            order, info, status, position, trade_id=event.trade_id,
            last_price=text(event.price, info.price_decimals),
            last_quantity=text(event.quantity, info.quantity_decimals))))
        if leaves == 0:
            table.finish(order)


def _cancelled(event: OrderCancelled, position: int, table: OrderTable,
               instruments: Instruments, out: Updates) -> None:
    order = table.open_order(event.order_id)
    info = instruments.by_id(event.instrument_id)
    if order is None or info is None:
        return
    order.leaves_quantity -= event.cancelled_quantity
    reason = event.reason.name.lower()
    if order.leaves_quantity > 0:  # self-trade prevention decremented the order
        order.quantity -= event.cancelled_quantity
        out.append((order.account, _update(order, info, "restated", position,
                                           reason=reason)))
        return
    order.leaves_quantity = 0
    order.status = CANCELLED
    out.append((order.account, _update(order, info, "cancelled", position, reason=reason,
                                       request_id=event.request_client_order_id or None)))
    table.finish(order)


def _replaced(event: OrderReplaced, position: int, table: OrderTable,
              instruments: Instruments, out: Updates) -> None:
    order = table.open_order(event.order_id)
    info = instruments.by_id(event.instrument_id)
    if order is None or info is None:
        return
    table.rename(order, event.client_order_id)
    order.price, order.quantity = event.price, event.quantity
    order.leaves_quantity = event.leaves_quantity
    if event.stop_price:
        order.stop_price = event.stop_price
    kept = "time priority kept" if event.priority_kept else "time priority lost"
    out.append((order.account, _update(order, info, "replaced", position,
                                       orig_client_order_id=event.orig_client_order_id,
                                       text=kept)))


def _expired(event: OrderExpired, position: int, table: OrderTable,
             instruments: Instruments, out: Updates) -> None:
    order = table.open_order(event.order_id)
    info = instruments.by_id(event.instrument_id)
    if order is None or info is None:
        return
    order.leaves_quantity = 0
    order.status = EXPIRED
    out.append((order.account, _update(order, info, "expired", position)))
    table.finish(order)


def _triggered(event: OrderTriggered, position: int, table: OrderTable,
               instruments: Instruments, out: Updates) -> None:
    order = table.open_order(event.order_id)
    info = instruments.by_id(event.instrument_id)
    if order is None or info is None:
        return
    out.append((order.account, _update(
        order, info, "triggered", position,
        text=f"stop triggered at {text(event.trigger_price, info.price_decimals)}")))


def _rejected(event: OrderRejected, position: int, table: OrderTable,
              instruments: Instruments, out: Updates) -> None:
    request = REQUEST_NAMES.get(event.request)
    if request is None or not event.account or not table.serves(event.account):
        return
    info = instruments.by_id(event.instrument_id)
    order = table.order(event.order_id) if event.order_id else None
    if order is not None and order.account != event.account:
        order = None  # never tell one account of another's orders
    client_order_id, request_id = event.client_order_id, None
    if event.request == RequestKind.CANCEL:  # the reject names the request, not the order
        client_order_id = (order.client_order_id if order is not None
                           else event.orig_client_order_id)
        request_id = event.client_order_id
    update = OrderUpdate(
        "rejected", client_order_id, info.symbol if info else "", position,
        order_id=order.order_id if order is not None else None, request=request,
        reason=event.reason.name.lower(), text=event.text or None, request_id=request_id,
        **(_request_terms(event, info) if info is not None else {}))
    out.append((event.account, update))


def _request_terms(event: OrderRejected, info: InstrumentInfo) -> dict:
    """What the rejected request asked for, from the event itself (0 or "": not given)."""
    terms: dict = {}
    for names, value, field in ((SIDE_NAMES, event.side, "side"),
                                (ORDER_TYPE_NAMES, event.order_type, "order_type"),
                                (TIME_IN_FORCE_NAMES, event.time_in_force, "time_in_force")):
        label = names.get(value)  # IntEnum keys: the event's plain ints find them
        if label is not None:
            terms[field] = label
    for value, field in ((event.price, "price"), (event.stop_price, "stop_price")):
        if value:
            terms[field] = text(value, info.price_decimals)
    if event.quantity:
        terms["quantity"] = text(event.quantity, info.quantity_decimals)
    if event.request == RequestKind.REPLACE and event.orig_client_order_id:
        terms["orig_client_order_id"] = event.orig_client_order_id
    return terms


_HANDLERS = {OrderAccepted: _accepted, OrderFilled: _filled, OrderCancelled: _cancelled,
             OrderReplaced: _replaced, OrderExpired: _expired, OrderTriggered: _triggered,
             OrderRejected: _rejected}
