"""``PyOrderBook``: the pure-Python reference order book for one instrument.

The compiled twin ``CyOrderBook`` (``_book.pyx``) has the same API and must produce the same
events; ``tests/book`` runs one suite against both and compares them step by step. The rules
are in the package docstring (``venue.engine.book``); this module is their plain statement.

Every operation appends its events to the caller's ``events`` list in this order: order
events (``OrderFilled``, ``OrderCancelled``) as they happen, then one ``BookLevelChanged``
per price level whose aggregate (visible quantity, order count) differs from what it was
before the operation, in the order the operation first touched the levels.
"""

from __future__ import annotations

from venue.codecs.enums import CancelReason, SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BookLevelChanged, OrderCancelled, OrderFilled

from ._levels import BookSide, Level, Order
from ._state import check_book, order_from_state, validate_submit
from .records import (
    ORDERS_MAX_DEFAULT,
    BookOrder,
    SubmitOutcome,
    SubmitResult,
    check_orders_max,
    check_quantity,
    validate_price,
)

STP = CancelReason.SELF_TRADE_PREVENTION
RESTING_TIME_IN_FORCE = (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD)


class PyOrderBook:
    """The order book of one instrument (pure Python).

    >>> events = []
    >>> book = PyOrderBook(instrument_id=1)
    >>> book.submit(1, 7, "a", Side.SELL, 100, 5, events=events)
    SubmitResult(outcome=<SubmitOutcome.RESTING: 1>, filled_quantity=0, leaves_quantity=5)
    >>> book.submit(2, 8, "b", Side.BUY, 101, 3, events=events).outcome
    <SubmitOutcome.FILLED: 2>
    >>> book.depth(1)
    ([], [(100, 2, 1)])
    """

    def __init__(self, instrument_id: int, orders_max: int = ORDERS_MAX_DEFAULT) -> None:
        check_orders_max(orders_max)
        self.instrument_id = instrument_id
        self.orders_max = orders_max
        self._bids = BookSide(Side.BUY)
        self._asks = BookSide(Side.SELL)
        self._orders: dict[int, Order] = {}
        self._next_trade_id = 1
        self._last_trade_price: int | None = None
        self._epoch = 0
        self._touched: list[Level] = []

    # -- operations -----------------------------------------------------------------------

    def submit(self, order_id: int, account: int, client_order_id: str, side: Side,
               price: int, quantity: int, *, time_in_force: TimeInForce = TimeInForce.GTC,
               post_only: bool = False, display_quantity: int = 0, stp_group: int = 0,
               stp_mode: SelfTradePrevention = SelfTradePrevention.NONE,
               is_market: bool = False, events: list) -> SubmitResult:
        """Match a new order, then rest, cancel or kill what is left.

        ``price`` is the limit, or for a market order (``is_market``) the protection price.
        Raises ValueError on arguments no module should send, on a duplicate ``order_id``
        and when the book already holds ``orders_max`` orders (the module rejects with
        LIMIT_REACHED before that). O(log levels + makers touched); FOK adds O(makers
        looked at) for its check.
        """
        if order_id in self._orders:
            raise ValueError(f"order id {order_id} is already in the book")
        if len(self._orders) >= self.orders_max:
            raise ValueError(f"the book holds orders_max={self.orders_max} orders already")
        side, time_in_force, stp_mode = validate_submit(
            order_id, account, client_order_id, side, price, quantity, time_in_force,
            post_only, display_quantity, stp_group, stp_mode, is_market)
        post_only = bool(post_only)
        order = Order(order_id, account, client_order_id, side, price, quantity,
                      display_quantity, stp_group, stp_mode, post_only)
        if post_only and self._would_take(side, price):
            return SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, 0)
        if time_in_force == TimeInForce.FOK and not self._opposite(side).fillable(order):
            return SubmitResult(SubmitOutcome.FOK_NOT_FILLABLE, 0, 0)
        self._begin()
        stopped = self._match(order, events)
        if stopped:
            outcome = SubmitOutcome.CANCELLED
        elif order.leaves == 0:
            outcome = SubmitOutcome.FILLED
        elif time_in_force in RESTING_TIME_IN_FORCE and not is_market:
            self._rest(order)
            outcome = SubmitOutcome.RESTING
        else:
            reason = CancelReason.IOC_REMAINDER
            if is_market and len(self._opposite(side)):
                reason = CancelReason.MARKET_PROTECTION
            self._cancel_event(order, reason, order.leaves, "", events)
            order.leaves = 0
            outcome = SubmitOutcome.CANCELLED
        self._publish(events)
        leaves = order.leaves if outcome == SubmitOutcome.RESTING else 0
        return SubmitResult(outcome, order.filled, leaves)

    def cancel(self, order_id: int, events: list, *, reason: CancelReason = CancelReason.USER,
               request_client_order_id: str = "") -> BookOrder | None:
        """Remove a resting order; return its last snapshot, or None if it is not here.
        O(1), plus O(log levels) if its level empties."""
        reason = CancelReason(reason)
        order = self._orders.get(order_id)
        if order is None:
            return None
        record = order.record()
        self._begin()
        self._touch(order.level)
        self._remove(order, reason, order.leaves, request_client_order_id, events)
        self._publish(events)
        return record

    def reduce(self, order_id: int, new_quantity: int, events: list) -> BookOrder | None:
        """Lower an order's leaves quantity to ``new_quantity`` (1..leaves), keeping its time
        priority; an iceberg loses hidden quantity first. None if the order is not here.
        No order event (the module reports the change). O(1)."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        check_quantity(new_quantity)
        if new_quantity > order.leaves:
            raise ValueError(f"reduce to {new_quantity} exceeds leaves {order.leaves}")
        self._begin()
        self._touch(order.level)
        order.leaves = new_quantity
        if order.visible > new_quantity:
            order.level.visible -= order.visible - new_quantity
            order.visible = new_quantity
        self._publish(events)
        return order.record()

    def replace(self, order_id: int, new_price: int, new_quantity: int, events: list, *,
                client_order_id: str | None = None) -> SubmitResult | None:
        """Change price and leaves quantity. The same price with no more quantity is a
        ``reduce`` and keeps priority; otherwise the order goes to the back of the queue at
        ``new_price``, matching first if it crosses (as the taker, with its own STP mode).
        A post-only order that would take is left unchanged (POST_ONLY_WOULD_TAKE, with its
        unchanged leaves quantity). None if the order is not here. Costs as ``submit``.

        ``client_order_id``, if not None, becomes the order's client order id (FIX
        cancel/replace gives the order a new ClOrdID) whatever the replace does, before it
        matches, so its own fills as the taker already carry it; a refused post-only replace
        keeps the old one. It must be a str, as for ``submit``; None keeps the id."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        validate_price(new_price)
        check_quantity(new_quantity)
        if client_order_id is not None and not isinstance(client_order_id, str):
            raise ValueError(f"client_order_id must be a str, got {client_order_id!r}")
        if new_price == order.price and new_quantity <= order.leaves:
            if client_order_id is not None:
                order.client_order_id = client_order_id
            self.reduce(order_id, new_quantity, events)
            return SubmitResult(SubmitOutcome.RESTING, 0, new_quantity)
        if order.post_only and self._would_take(order.side, new_price):
            return SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, order.leaves)
        if client_order_id is not None:
            order.client_order_id = client_order_id
        self._begin()
        level = order.level
        self._touch(level)
        if new_price == order.price:  # more quantity: to the back of the same queue
            level.unlink(order)
            order.leaves = new_quantity
            order.visible = order.slice_quantity()
            level.append(order)
            self._publish(events)
            return SubmitResult(SubmitOutcome.RESTING, 0, new_quantity)
        self._detach(order)
        filled_before = order.filled
        order.price = new_price
        order.leaves = new_quantity
        order.visible = 0
        if self._match(order, events):
            outcome = SubmitOutcome.CANCELLED
        elif order.leaves == 0:
            outcome = SubmitOutcome.FILLED
        else:
            self._rest(order)
            outcome = SubmitOutcome.RESTING
        if outcome != SubmitOutcome.RESTING:
            del self._orders[order_id]
        self._publish(events)
        leaves = order.leaves if outcome == SubmitOutcome.RESTING else 0
        return SubmitResult(outcome, order.filled - filled_before, leaves)

    # -- queries --------------------------------------------------------------------------

    def order(self, order_id: int) -> BookOrder | None:
        """A snapshot of one resting order, or None. O(1)."""
        order = self._orders.get(order_id)
        return None if order is None else order.record()

    def depth(self, levels: int) -> tuple[list, list]:
        """Up to ``levels`` levels a side, best first: (price, visible quantity, order count).
        O(levels)."""
        if levels < 0:
            raise ValueError(f"levels must be >= 0, got {levels}")
        return self._side_depth(self._bids, levels), self._side_depth(self._asks, levels)

    def orders_at(self, side: Side, price: int) -> list[BookOrder]:
        """The orders at one level in priority order (L3); empty if there is no level.
        O(orders at the level)."""
        if not isinstance(side, int) or not isinstance(price, int):
            raise ValueError(f"orders_at needs an integer side and price, got {side!r}, {price!r}")
        level = self._side(Side(side)).get(price)
        return [] if level is None else [order.record() for order in level.orders()]

    def best_bid(self) -> int | None:
        """The highest bid price, or None. O(1)."""
        level = self._bids.best()
        return None if level is None else level.price

    def best_ask(self) -> int | None:
        """The lowest ask price, or None. O(1)."""
        level = self._asks.best()
        return None if level is None else level.price

    def __len__(self) -> int:
        return len(self._orders)

    @property
    def last_trade_price(self) -> int | None:
        return self._last_trade_price

    @property
    def next_trade_id(self) -> int:
        return self._next_trade_id

    # -- snapshot and invariants ----------------------------------------------------------

    def to_state(self) -> tuple:
        """Plain data: (instrument_id, orders_max, next_trade_id, last_trade_price, orders),
        the orders as tuples, bids best first then asks best first, each level in priority
        order. ``from_state`` of it continues exactly as this book would."""
        orders = [order.state() for side in (self._bids, self._asks)
                  for level in side.in_order() for order in level.orders()]
        return (self.instrument_id, self.orders_max, self._next_trade_id,
                self._last_trade_price, orders)

    @classmethod
    def from_state(cls, state: tuple) -> PyOrderBook:
        instrument_id, orders_max, next_trade_id, last_trade_price, orders = state
        book = cls(instrument_id, orders_max)
        if len(orders) > orders_max or next_trade_id < 1:
            raise ValueError("inconsistent book state")
        book._next_trade_id = next_trade_id
        book._last_trade_price = last_trade_price
        for fields in orders:
            order = order_from_state(fields)
            if order.order_id in book._orders:
                raise ValueError(f"order id {order.order_id} appears twice in the state")
            book._side(order.side).get_or_add(order.price).append(order)
            book._orders[order.order_id] = order
        book._check()
        return book

    def _check(self) -> None:
        """Assert every invariant of the book (for tests; O(orders))."""
        check_book(self._bids, self._asks, self._orders, self._next_trade_id)

    # -- matching -------------------------------------------------------------------------

    def _match(self, taker: Order, events: list) -> bool:
        """Trade ``taker`` against the other side while it crosses; True if self-trade
        prevention cancelled the taker."""
        opposite = self._opposite(taker.side)
        while taker.leaves > 0:
            level = opposite.best()
            if level is None or not opposite.crosses(level.price, taker.price):
                break
            self._touch(level)
            while taker.leaves > 0 and level.count:
                maker = level.head
                if taker.stp_mode and maker.same_stp_key(taker):
                    if self._prevent_self_trade(taker, maker, events):
                        return True
                else:
                    self._fill(taker, maker, level, events)
        return False

    def _fill(self, taker: Order, maker: Order, level: Level, events: list) -> None:
        quantity = min(taker.leaves, maker.visible)
        maker.visible -= quantity
        maker.leaves -= quantity
        maker.filled += quantity
        level.visible -= quantity
        taker.leaves -= quantity
        taker.filled += quantity
        events.append(OrderFilled(
            self._next_trade_id, self.instrument_id, maker.price, quantity, taker.side,
            maker.order_id, maker.account, maker.client_order_id, maker.leaves,
            taker.order_id, taker.account, taker.client_order_id, taker.leaves))
        self._next_trade_id += 1
        self._last_trade_price = maker.price
        if maker.visible == 0:
            if maker.leaves == 0:
                del self._orders[maker.order_id]
                self._detach(maker)
            else:  # iceberg: the next slice joins the back of the queue
                level.unlink(maker)
                maker.visible = maker.slice_quantity()
                level.append(maker)

    def _prevent_self_trade(self, taker: Order, maker: Order, events: list) -> bool:
        """Apply the taker's STP mode to a maker with the same key; True if the taker
        stops (its remainder is cancelled)."""
        mode = taker.stp_mode
        if mode == SelfTradePrevention.CANCEL_OLDEST:
            self._remove(maker, STP, maker.leaves, "", events)
            return False
        if mode == SelfTradePrevention.CANCEL_BOTH:
            self._remove(maker, STP, maker.leaves, "", events)
        elif mode == SelfTradePrevention.DECREMENT_AND_CANCEL:
            decrement = min(taker.leaves, maker.leaves)
            if decrement == maker.leaves:
                self._remove(maker, STP, decrement, "", events)
            else:
                self._decrement(maker, decrement, events)
            self._cancel_event(taker, STP, decrement, "", events)
            taker.leaves -= decrement
            return taker.leaves == 0
        self._cancel_event(taker, STP, taker.leaves, "", events)
        taker.leaves = 0
        return True

    def _decrement(self, maker: Order, quantity: int, events: list) -> None:
        maker.leaves -= quantity
        if maker.visible > maker.leaves:
            maker.level.visible -= maker.visible - maker.leaves
            maker.visible = maker.leaves
        self._cancel_event(maker, STP, quantity, "", events)

    # -- helpers --------------------------------------------------------------------------

    def _side(self, side: Side) -> BookSide:
        return self._bids if side == Side.BUY else self._asks

    def _opposite(self, side: Side) -> BookSide:
        return self._asks if side == Side.BUY else self._bids

    def _would_take(self, side: Side, price: int) -> bool:
        opposite = self._opposite(side)
        best = opposite.best()
        return best is not None and opposite.crosses(best.price, price)

    def _rest(self, order: Order) -> None:
        level = self._side(order.side).get_or_add(order.price)
        self._touch(level)
        order.visible = order.slice_quantity()
        level.append(order)
        self._orders[order.order_id] = order

    def _detach(self, order: Order) -> None:
        """Take ``order`` out of its level, dropping the level if it empties."""
        level = order.level
        level.unlink(order)
        if level.count == 0:
            self._side(level.side).remove(level)

    def _remove(self, order: Order, reason: CancelReason, quantity: int,
                request_client_order_id: str, events: list) -> None:
        del self._orders[order.order_id]
        self._detach(order)
        self._cancel_event(order, reason, quantity, request_client_order_id, events)

    def _cancel_event(self, order: Order, reason: CancelReason, quantity: int,
                      request_client_order_id: str, events: list) -> None:
        events.append(OrderCancelled(order.order_id, order.account, self.instrument_id,
                                     order.client_order_id, reason, quantity,
                                     request_client_order_id))

    @staticmethod
    def _side_depth(side: BookSide, levels: int) -> list:
        rows = []
        for level in side.in_order():
            if len(rows) >= levels:
                break
            rows.append((level.price, level.visible, level.count))
        return rows

    def _begin(self) -> None:
        self._epoch += 1
        self._touched.clear()

    def _touch(self, level: Level) -> None:
        if level.epoch != self._epoch:
            level.epoch = self._epoch
            level.before = (level.visible, level.count)
            self._touched.append(level)

    def _publish(self, events: list) -> None:
        for level in self._touched:
            if (level.visible, level.count) != level.before:
                events.append(BookLevelChanged(self.instrument_id, level.side, level.price,
                                               level.visible, level.count))
        self._touched.clear()
