"""Replace (cancel/replace) for the matching module.

``ReplaceOrder.quantity`` is the new total quantity, filled part included (FIX OrderQty);
the new leaves are that less what has filled, and must be positive. Checked in order: the
fields, the order (UNKNOWN_ORDER, TOO_LATE_TO_CANCEL), a new client order id already in
use (DUPLICATE_CLIENT_ORDER_ID), reference data for the new price and total quantity, the
new leaves (QUANTITY_OUT_OF_RANGE), the pre-trade checkers, and for a post-only order a new
price that would take (POST_ONLY_WOULD_TAKE). Same price and no more leaves keeps time
priority; anything else goes to the back of the queue at the new price and may trade at
once, as the taker. A waiting stop order may change its stop price (``stop_price`` 0 keeps
it), limit or protection price and quantity, and goes to the back of the trigger order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from venue.codecs import RejectReason, RequestKind
from venue.codecs.commands import ReplaceOrder
from venue.codecs.enums import OrderType
from venue.codecs.events import Event, OrderReplaced

from ..book import SubmitOutcome
from .matching_rules import Problem, order_rejected, protection_price, replace_field_problem
from .orders import OpenOrder

if TYPE_CHECKING:
    from ..context import ApplyContext
    from .matching import MatchingModule


def replace_order(module: MatchingModule, ctx: ApplyContext, command: ReplaceOrder) -> None:
    table = module.table
    order, problem = None, replace_field_problem(command)
    if problem is None:
        order, problem = table.find(command.account, command.instrument_id,
                                    command.order_id, command.orig_client_order_id)
    price = stop_price = 0
    if order is not None:
        if (command.client_order_id != order.client_order_id
                and table.client_id_taken(command.account, command.client_order_id)):
            problem = (RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                       f"client_order_id {command.client_order_id!r} is in use")
        if problem is None:
            problem, price, stop_price = _new_prices(module, order, command)
        new_leaves = command.quantity - order.filled_quantity
        if problem is None and new_leaves <= 0:
            problem = (RejectReason.QUANTITY_OUT_OF_RANGE,
                       f"quantity {command.quantity} is not above the filled "
                       f"{order.filled_quantity}")
        if problem is None:
            for checker in module._checkers:
                problem = checker.check_replace(order, price, new_leaves)
                if problem is not None:
                    break
    if problem is not None:
        order_id = order.order_id if order is not None else command.order_id
        ctx.emit(_rejected(command, problem, order_id))
        return
    assert order is not None
    if order.stop_sequence:
        _replace_waiting(module, ctx, command, order, price, stop_price, new_leaves)
    else:
        _replace_resting(module, ctx, command, order, price, new_leaves)


def _new_prices(module: MatchingModule, order: OpenOrder, command: ReplaceOrder
                ) -> tuple[Problem | None, int, int]:
    """Check the new prices and total quantity against reference data; return them."""
    is_stop = order.order_type >= OrderType.STOP
    stop_price = order.stop_price
    if command.stop_price and command.stop_price != order.stop_price:
        if not order.stop_sequence:
            reason = (RejectReason.INVALID_FIELD,
                      "stop_price changes only on a stop order that has not triggered")
            return reason, 0, 0
        stop_price = command.stop_price
    last = module.last_trade_price(order.instrument_id)
    refdata = module._refdata
    is_market = order.is_market
    price = command.price
    reason = refdata.check_order(order.instrument_id, price, command.quantity,
                                 not is_market or price > 0, last)
    if reason is not None:
        return (reason, ""), 0, 0
    instrument = refdata.instrument(order.instrument_id)
    if is_stop and stop_price % instrument.tick_size:
        return (RejectReason.PRICE_OFF_TICK, "stop_price is off tick"), 0, 0
    if is_market and price == 0:
        price = protection_price(instrument, order.side, stop_price,
                                 module.market_protection_bps, last)
    return None, price, stop_price


def _replace_waiting(module: MatchingModule, ctx: ApplyContext, command: ReplaceOrder,
                     order: OpenOrder, price: int, stop_price: int, new_leaves: int) -> None:
    stops = module._stops[order.instrument_id]
    stops.remove(order)
    orig_client_order_id = order.client_order_id
    module.table.rename(order, command.client_order_id)
    order.price = price
    order.stop_price = stop_price
    order.quantity = command.quantity
    order.leaves_quantity = new_leaves
    order.stop_sequence = module.table.take_stop_sequence()
    stops.add(order)
    ctx.emit(_replaced(order, orig_client_order_id, False))
    module._trigger_stops(ctx, module._books[order.instrument_id])


def _replace_resting(module: MatchingModule, ctx: ApplyContext, command: ReplaceOrder,
                     order: OpenOrder, price: int, new_leaves: int) -> None:
    book = module._books[order.instrument_id]
    last = book.last_trade_price
    events: list[Event] = []
    rename = command.client_order_id if command.client_order_id != order.client_order_id \
        else None
    result = book.replace(order.order_id, price, new_leaves, events, client_order_id=rename)
    if result.outcome == SubmitOutcome.POST_ONLY_WOULD_TAKE:
        ctx.emit(_rejected(command, (RejectReason.POST_ONLY_WOULD_TAKE, ""), order.order_id))
        return
    priority_kept = price == order.price and new_leaves <= order.leaves_quantity
    orig_client_order_id = order.client_order_id
    module.table.rename(order, command.client_order_id)
    order.price = price
    order.quantity = command.quantity
    order.leaves_quantity = new_leaves
    ctx.emit(_replaced(order, orig_client_order_id, priority_kept))
    module._publish(ctx, events, order, result)
    if book.last_trade_price != last:
        module._trigger_stops(ctx, book)


def _replaced(order: OpenOrder, orig_client_order_id: str, priority_kept: bool
              ) -> OrderReplaced:
    return OrderReplaced(order.order_id, order.account, order.instrument_id,
                         order.client_order_id, orig_client_order_id, order.price,
                         order.quantity, order.leaves_quantity, priority_kept,
                         order.stop_price)


def _rejected(command: ReplaceOrder, problem: Problem, order_id: int) -> Event:
    return order_rejected(command, RequestKind.REPLACE, problem, order_id)
