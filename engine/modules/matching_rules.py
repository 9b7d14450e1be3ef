"""Pure checks and arithmetic of the matching module: order fields, protection prices, the
trading day's end, the reject of a request. No state; every function is O(1)."""

from __future__ import annotations

from venue.codecs import RejectReason
from venue.codecs.commands import CancelOrder, ReplaceOrder, SubmitOrder
from venue.codecs.enums import OrderType, RequestKind, Side, TimeInForce
from venue.codecs.events import OrderRejected

from .instrument import BASIS_POINTS_PER_UNIT, Instrument, band_limits

NS_PER_DAY = 86_400 * 1_000_000_000
CLIENT_ORDER_ID_LENGTH_MAX = 64  # characters, printable ASCII (FIX ClOrdID travels as text)
ID_MAX = 2**63 - 1

MARKET = OrderType.MARKET
STOP = OrderType.STOP
STOP_LIMIT = OrderType.STOP_LIMIT
GTC, IOC, FOK, DAY, GTD = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY,
                           TimeInForce.GTD)
WAITING_TIME_IN_FORCE = (GTC, DAY, GTD)  # what a stop order may wait with

Problem = tuple[RejectReason, str]


def client_order_id_problem(client_order_id: str) -> str | None:
    if (0 < len(client_order_id) <= CLIENT_ORDER_ID_LENGTH_MAX and client_order_id.isascii()
            and client_order_id.isprintable()):
        return None
    return (f"client_order_id must be 1 to {CLIENT_ORDER_ID_LENGTH_MAX} printable ASCII "
            f"characters, got {client_order_id!r}")


def submit_field_problem(command: SubmitOrder, now_ns: int) -> Problem | None:
    """The first rule the fields of ``command`` break on their own (before reference data
    and risk), or None. Reasons: INVALID_FIELD, EXPIRE_TIME_IN_PAST."""
    invalid = RejectReason.INVALID_FIELD
    text = client_order_id_problem(command.client_order_id)
    if text is not None:
        return invalid, text
    if not 0 < command.account <= ID_MAX or not 0 <= command.self_trade_group <= ID_MAX:
        return invalid, "account must be 1..2**63-1 and self_trade_group 0..2**63-1"
    order_type = command.order_type
    tif = command.time_in_force
    if order_type == MARKET and tif not in (IOC, FOK):
        return invalid, "a market order is IOC or FOK"
    if order_type >= STOP:
        if tif not in WAITING_TIME_IN_FORCE:
            return invalid, "a stop order waits GTC, DAY or GTD"
        if command.stop_price <= 0:
            return invalid, "a stop order needs a positive stop_price"
    elif command.stop_price:
        return invalid, "stop_price is only for STOP and STOP_LIMIT orders"
    if command.price < 0 or (command.price == 0 and order_type not in (MARKET, STOP)):
        return invalid, "a limit price must be positive (0 only for market protection)"
    if command.post_only and (order_type != OrderType.LIMIT or tif in (IOC, FOK)):
        return invalid, "post_only needs a resting limit order (GTC, DAY or GTD)"
    display = command.display_quantity
    if display < 0 or display > command.quantity:
        return invalid, "display_quantity must be 0..quantity"
    if display and (order_type == MARKET or order_type == STOP):
        return invalid, "an iceberg must be a limit order"
    if tif == GTD:
        if command.expire_time_ns <= now_ns:
            return (RejectReason.EXPIRE_TIME_IN_PAST,
                    f"expire_time_ns {command.expire_time_ns} is not after {now_ns}")
    elif command.expire_time_ns:
        return invalid, "expire_time_ns is only for GTD orders"
    return None


def replace_field_problem(command: ReplaceOrder) -> Problem | None:
    text = client_order_id_problem(command.client_order_id)
    if text is not None:
        return RejectReason.INVALID_FIELD, text
    if command.price < 0 or command.stop_price < 0:
        return RejectReason.INVALID_FIELD, "price and stop_price must not be negative"
    return None


def protection_price(instrument: Instrument, side: Side, anchor: int, protection_bps: int,
                     last_trade_price: int | None) -> int:
    """The worst price a market order may trade at: ``protection_bps`` through ``anchor``
    (the best opposite price, or a stop order's stop price), on tick, and never outside the
    price band. Always at least one tick."""
    tick = instrument.tick_size
    distance = anchor * protection_bps // BASIS_POINTS_PER_UNIT
    if side == Side.BUY:
        price = (anchor + distance) // tick * tick
    else:
        price = -((distance - anchor) // tick) * tick  # anchor - distance, rounded up
    band = band_limits(instrument, last_trade_price)
    if band is not None:
        low, high = band
        price = min(price, high) if side == Side.BUY else max(price, low)
    return max(price, tick)


def next_day_end_ns(now_ns: int, day_end_offset_ns: int) -> int:
    """The first trading day's end strictly after ``now_ns``: ``day_end_offset_ns`` after
    a midnight UTC."""
    end = now_ns // NS_PER_DAY * NS_PER_DAY + day_end_offset_ns
    return end if end > now_ns else end + NS_PER_DAY


def order_rejected(command: SubmitOrder | CancelOrder | ReplaceOrder, request: RequestKind,
                   problem: Problem, order_id: int = 0) -> OrderRejected:
    """The reject of ``command``, carrying the request's own terms (``OrderRejected``) so
    that a gateway can answer it without having remembered the request."""
    reason, text = problem
    head = (command.account, command.instrument_id, command.client_order_id, request, reason,
            order_id, text)
    if isinstance(command, SubmitOrder):
        return OrderRejected(*head, side=int(command.side),
                             order_type=int(command.order_type),
                             time_in_force=int(command.time_in_force), price=command.price,
                             quantity=command.quantity, stop_price=command.stop_price)
    if isinstance(command, ReplaceOrder):
        return OrderRejected(*head, price=command.price, quantity=command.quantity,
                             stop_price=command.stop_price,
                             orig_client_order_id=command.orig_client_order_id)
    return OrderRejected(*head, orig_client_order_id=command.orig_client_order_id)
