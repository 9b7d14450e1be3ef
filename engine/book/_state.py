"""Input validation, snapshot decoding and the invariant check of the pure-Python book."""

from __future__ import annotations

from venue.codecs.enums import SelfTradePrevention, Side, TimeInForce

from ._levels import BookSide, Order
from .records import QUANTITY_MAX, check_quantity, validate_price

ID_MAX = 2**63 - 1  # order ids, accounts and self-trade groups lie in 0..ID_MAX
FILLED_MAX = 2**62  # what one order may fill over its life (replaces can add quantity)


def validate_id(name: str, value: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= ID_MAX:
        raise ValueError(f"{name} must be an integer in 0..2**63-1, got {value!r}")


def validate_submit(order_id: int, account: int, client_order_id: str, side: Side,
                    price: int, quantity: int, time_in_force: TimeInForce, post_only: bool,
                    display_quantity: int, stp_group: int, stp_mode: SelfTradePrevention,
                    is_market: bool) -> tuple[Side, TimeInForce, SelfTradePrevention]:
    """Refuse a submit no module should send; return the enums as enum members."""
    validate_id("order_id", order_id)
    validate_id("account", account)
    validate_id("stp_group", stp_group)
    if not isinstance(client_order_id, str):
        raise ValueError(f"client_order_id must be a str, got {client_order_id!r}")
    for name, value in (("side", side), ("time_in_force", time_in_force),
                        ("stp_mode", stp_mode)):
        if not isinstance(value, int):
            raise ValueError(f"{name} must be an integer enum member, got {value!r}")
    side = Side(side)
    time_in_force = TimeInForce(time_in_force)
    stp_mode = SelfTradePrevention(stp_mode)
    validate_price(price)
    check_quantity(quantity)
    if not isinstance(display_quantity, int) or not 0 <= display_quantity <= quantity:
        raise ValueError(f"display_quantity must be in 0..quantity, got {display_quantity!r}")
    if post_only and (is_market or time_in_force in (TimeInForce.IOC, TimeInForce.FOK)):
        raise ValueError("post_only needs a resting limit order (GTC, DAY or GTD)")
    return side, time_in_force, stp_mode


def order_from_state(fields: tuple) -> Order:
    """An ``Order`` from the tuple ``Order.state()`` made, checked field by field."""
    (order_id, account, client_order_id, side, price, leaves, visible, display, filled,
     stp_group, stp_mode, post_only) = fields
    validate_submit(order_id, account, client_order_id, side, price, leaves,
                    TimeInForce.GTC, post_only, 0, stp_group, stp_mode, False)
    if not isinstance(display, int) or not 0 <= display <= QUANTITY_MAX:
        raise ValueError(f"display quantity out of range: {display!r}")
    if not isinstance(filled, int) or not 0 <= filled <= FILLED_MAX:
        raise ValueError(f"filled quantity out of range: {filled!r}")
    shown = display if display and display < leaves else leaves
    if not isinstance(visible, int) or not 0 < visible <= shown:
        raise ValueError(f"visible quantity {visible!r} does not fit leaves {leaves}")
    order = Order(order_id, account, client_order_id, Side(side), price, leaves, display,
                  stp_group, SelfTradePrevention(stp_mode), post_only)
    order.visible = visible
    order.filled = filled
    return order


def check_book(bids: BookSide, asks: BookSide, orders: dict[int, Order],
               next_trade_id: int) -> None:
    """Assert every invariant: aggregates, links, no empty level, id map, not crossed."""
    assert next_trade_id >= 1
    seen = 0
    for side in (bids, asks):
        assert list(side.prices) == sorted(side.levels, reverse=side.side == Side.BUY)
        for price, level in side.levels.items():
            assert level.price == price and level.side == side.side
            assert level.count > 0 and level.head is not None, "empty level"
            assert level.head.prev is None and level.tail.next is None
            visible = count = 0
            previous = None
            for order in level.orders():
                assert order.prev is previous and order.level is level
                assert orders.get(order.order_id) is order, "id map out of step"
                assert order.side == side.side and order.price == price
                assert 0 < order.visible <= order.leaves <= QUANTITY_MAX
                assert order.visible <= order.slice_quantity()
                assert order.display or order.visible == order.leaves
                visible += order.visible
                count += 1
                previous = order
            assert previous is level.tail
            assert (visible, count) == (level.visible, level.count), "level aggregate"
            seen += count
    assert seen == len(orders), "orders in levels vs id map"
    if bids.levels and asks.levels:
        assert bids.best().price < asks.best().price, "crossed book at rest"
