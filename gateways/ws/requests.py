"""``submit``, ``cancel`` and ``replace`` messages into engine commands, for the connection's
account only (the account comes from the token, never from the message).

Pure functions of the message, the account, the instrument table and the order table; a
message that cannot become a command raises ``RequestProblem`` naming the field, which the
core turns into an ``error`` message. Decimal strings convert exactly or are refused
(``"65100.505"`` for a 2-decimal price is an error, never rounded).
"""

from __future__ import annotations

import itertools

from venue.codecs.commands import CancelOrder, ReplaceOrder, SubmitOrder
from venue.codecs.enums import OrderType, Side, TimeInForce
from venue.gateways.instruments import InstrumentInfo, Instruments, to_units
from venue.gateways.order_table import Order, OrderTable

from .schema import Cancel, Replace, Submit

SIDES = {"buy": Side.BUY, "sell": Side.SELL}
ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET,
               "stop": OrderType.STOP, "stop_limit": OrderType.STOP_LIMIT}
TIMES_IN_FORCE = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK,
                  "day": TimeInForce.DAY, "gtd": TimeInForce.GTD}
PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
STOPPED = (OrderType.STOP, OrderType.STOP_LIMIT)
_cancel_ids = itertools.count(1)


class RequestProblem(ValueError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def _instrument(instruments: Instruments, symbol: str) -> InstrumentInfo:
    info = instruments.by_symbol(symbol)
    if info is None:
        raise RequestProblem("unknown_symbol", f"no instrument {symbol!r}", "symbol")
    return info


def _units(value: str | None, decimals: int, field: str, required: bool) -> int:
    if value is None:
        if required:
            raise RequestProblem("missing_field", f"{field} is required here", field)
        return 0
    units = to_units(value.encode(), decimals)
    if units is None or units < 0:
        raise RequestProblem("invalid_decimal", f"{field} {value!r} is not a non-negative "
                             f"decimal with at most {decimals} decimals", field)
    return units


def _client_order_id(value: str, field: str, length_max: int) -> str:
    if not value or len(value) > length_max:
        raise RequestProblem("invalid_field", f"{field} must have 1 to {length_max} "
                             f"characters", field)
    return value


def submit_order(message: Submit, account: int, instruments: Instruments,
                 length_max: int = 64) -> SubmitOrder:
    """>>> from venue.codecs import InstrumentAdded
    >>> table = Instruments(); table.on_event(InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4,
    ...     1, 1, 1, 0, 0, 0))
    >>> command = submit_order(Submit("a1", "BTC-USD", "buy", "limit", "0.5",
    ...                               price="65100.50"), 101, table)
    >>> command.account, command.price, command.quantity, command.time_in_force.name
    (101, 6510050, 5000, 'GTC')
    """
    info = _instrument(instruments, message.symbol)
    order_type = ORDER_TYPES[message.order_type]
    client_order_id = _client_order_id(message.client_order_id, "client_order_id",
                                       length_max)
    default = "ioc" if order_type == OrderType.MARKET else "gtc"
    time_in_force = TIMES_IN_FORCE[message.time_in_force or default]
    p, q = info.price_decimals, info.quantity_decimals
    price = _units(message.price, p, "price", True) if order_type in PRICED else 0
    stop_price = _units(message.stop_price, p, "stop_price", True) if order_type in STOPPED \
        else 0
    quantity = _units(message.quantity, q, "quantity", True)
    display_quantity = _units(message.display_quantity, q, "display_quantity", False)
    if time_in_force == TimeInForce.GTD and message.expire_time_ns <= 0:
        raise RequestProblem("missing_field", "gtd needs expire_time_ns", "expire_time_ns")
    return SubmitOrder(account, info.instrument_id, client_order_id, SIDES[message.side],
                       order_type, time_in_force, price, quantity,
                       post_only=message.post_only, display_quantity=display_quantity,
                       stop_price=stop_price, expire_time_ns=message.expire_time_ns)


def _own_order(table: OrderTable, account: int, order_id: int | None,
               client_order_id: str | None) -> Order | None:
    order = table.order(order_id) if order_id else (
        table.find(account, client_order_id) if client_order_id else None)
    return order if order is not None and order.account == account else None


def cancel_order(message: Cancel, account: int, instruments: Instruments,
                 table: OrderTable) -> CancelOrder:
    """The order is named by order_id or client_order_id; its instrument comes from the
    gateway's order table, or from ``symbol`` for an order the gateway does not know."""
    if not message.order_id and not message.client_order_id:
        raise RequestProblem("missing_field", "name the order by client_order_id or "
                             "order_id", "client_order_id")
    order = _own_order(table, account, message.order_id, message.client_order_id)
    if message.symbol is not None:
        instrument_id = _instrument(instruments, message.symbol).instrument_id
    elif order is not None:
        instrument_id = order.instrument_id
    else:
        field = "order_id" if message.order_id else "client_order_id"
        raise RequestProblem("unknown_order", "no such order of this account", field)
    request_id = message.request_id or f"ws-cancel-{next(_cancel_ids)}"
    return CancelOrder(account, instrument_id, request_id, order_id=message.order_id or 0,
                       orig_client_order_id=message.client_order_id or "")


def replace_order(message: Replace, account: int, instruments: Instruments,
                  table: OrderTable, length_max: int = 64) -> ReplaceOrder:
    order = _own_order(table, account, None, message.orig_client_order_id)
    if message.symbol is not None:
        info = _instrument(instruments, message.symbol)
    elif order is not None:
        info = instruments.by_id(order.instrument_id)
        assert info is not None, "an order's instrument is always known"
    else:
        raise RequestProblem("unknown_order", "no such order of this account",
                             "orig_client_order_id")
    client_order_id = _client_order_id(message.client_order_id, "client_order_id",
                                       length_max)
    priced = order is None or order.order_type in PRICED
    stopped = order is not None and order.order_type in STOPPED
    p = info.price_decimals
    price = _units(message.price, p, "price", order is not None and priced) if priced else 0
    stop_price = _units(message.stop_price, p, "stop_price", False) if stopped else 0
    quantity = _units(message.quantity, info.quantity_decimals, "quantity", True)
    return ReplaceOrder(account, info.instrument_id, client_order_id, price, quantity,
                        orig_client_order_id=message.orig_client_order_id,
                        stop_price=stop_price)
