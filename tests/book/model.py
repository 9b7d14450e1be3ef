"""A deliberately simple order book, the model the stateful test holds both books to.

A flat list of orders, each with an arrival number; the best maker is found by sorting, every
operation is O(n) or worse, and fill-or-kill is decided the obvious way: match a deep copy
and see whether it filled. Only the rules are shared with the real books, not the code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from venue.codecs.enums import CancelReason, SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BookLevelChanged, OrderCancelled, OrderFilled
from venue.engine.book import SubmitOutcome, SubmitResult

STP = CancelReason.SELF_TRADE_PREVENTION
Mode = SelfTradePrevention


@dataclass
class ModelOrder:
    order_id: int
    account: int
    client_order_id: str
    side: Side
    price: int
    leaves: int
    display: int
    stp_group: int
    stp_mode: SelfTradePrevention
    post_only: bool
    arrival: int = 0
    visible: int = 0
    filled: int = 0

    def slice(self) -> int:
        return min(self.display, self.leaves) if self.display else self.leaves

    def stp_key(self) -> tuple[str, int]:
        return ("group", self.stp_group) if self.stp_group else ("account", self.account)


class ModelBook:
    def __init__(self, instrument_id: int) -> None:
        self.instrument_id = instrument_id
        self.orders: list[ModelOrder] = []
        self.arrivals = 0
        self.next_trade_id = 1
        self.touched: list[tuple[Side, int]] = []
        self.before: dict[tuple[Side, int], tuple[int, int]] = {}

    # -- what the book shows ------------------------------------------------------------

    def aggregate(self, side: Side, price: int) -> tuple[int, int]:
        here = [o for o in self.orders if o.side == side and o.price == price]
        return sum(o.visible for o in here), len(here)

    def queue(self, side: Side) -> list[ModelOrder]:
        """Resting orders of one side in priority order."""
        sign = -1 if side == Side.BUY else 1
        return sorted((o for o in self.orders if o.side == side),
                      key=lambda o: (sign * o.price, o.arrival))

    def to_state_orders(self) -> list[tuple]:
        return [(o.order_id, o.account, o.client_order_id, int(o.side), o.price, o.leaves,
                 o.visible, o.display, o.filled, o.stp_group, int(o.stp_mode), o.post_only)
                for side in (Side.BUY, Side.SELL) for o in self.queue(side)]

    # -- operations ---------------------------------------------------------------------

    def touch(self, side: Side, price: int) -> None:
        if (side, price) not in self.before:
            self.before[(side, price)] = self.aggregate(side, price)
            self.touched.append((side, price))

    def publish(self, events: list) -> None:
        for side, price in self.touched:
            now = self.aggregate(side, price)
            if now != self.before[(side, price)]:
                events.append(BookLevelChanged(self.instrument_id, side, price, *now))
        self.touched, self.before = [], {}

    def crossing(self, taker: ModelOrder) -> list[ModelOrder]:
        other = Side.SELL if taker.side == Side.BUY else Side.BUY
        return [o for o in self.queue(other)
                if (o.price <= taker.price if taker.side == Side.BUY else o.price >= taker.price)]

    def cancel_event(self, order: ModelOrder, reason, quantity: int, events: list,
                     request: str = "") -> None:
        events.append(OrderCancelled(order.order_id, order.account, self.instrument_id,
                                     order.client_order_id, reason, quantity, request))

    def match(self, taker: ModelOrder, events: list) -> bool:
        """True if self-trade prevention stopped the taker."""
        while taker.leaves and self.crossing(taker):
            maker = self.crossing(taker)[0]
            self.touch(maker.side, maker.price)
            if taker.stp_mode != Mode.NONE and maker.stp_key() == taker.stp_key():
                if self.prevent(taker, maker, events):
                    return True
                continue
            quantity = min(taker.leaves, maker.visible)
            maker.visible -= quantity
            maker.leaves -= quantity
            maker.filled += quantity
            taker.leaves -= quantity
            taker.filled += quantity
            events.append(OrderFilled(
                self.next_trade_id, self.instrument_id, maker.price, quantity, taker.side,
                maker.order_id, maker.account, maker.client_order_id, maker.leaves,
                taker.order_id, taker.account, taker.client_order_id, taker.leaves))
            self.next_trade_id += 1
            if maker.leaves == 0:
                self.orders.remove(maker)
            elif maker.visible == 0:
                maker.visible = maker.slice()
                self.arrivals += 1
                maker.arrival = self.arrivals
        return False

    def prevent(self, taker: ModelOrder, maker: ModelOrder, events: list) -> bool:
        mode = taker.stp_mode
        if mode in (Mode.CANCEL_OLDEST, Mode.CANCEL_BOTH):
            self.orders.remove(maker)
            self.cancel_event(maker, STP, maker.leaves, events)
        if mode == Mode.CANCEL_OLDEST:
            return False
        if mode == Mode.DECREMENT_AND_CANCEL:
            decrement = min(taker.leaves, maker.leaves)
            maker.leaves -= decrement
            maker.visible = min(maker.visible, maker.leaves)
            if maker.leaves == 0:
                self.orders.remove(maker)
            self.cancel_event(maker, STP, decrement, events)
            self.cancel_event(taker, STP, decrement, events)
            taker.leaves -= decrement
            return taker.leaves == 0
        self.cancel_event(taker, STP, taker.leaves, events)
        taker.leaves = 0
        return True

    def rest(self, order: ModelOrder) -> None:
        self.touch(order.side, order.price)
        order.visible = order.slice()
        self.arrivals += 1
        order.arrival = self.arrivals
        self.orders.append(order)

    def submit(self, order_id, account, client_order_id, side, price, quantity, *,
               time_in_force=TimeInForce.GTC, post_only=False, display_quantity=0,
               stp_group=0, stp_mode=Mode.NONE, is_market=False, events: list):
        taker = ModelOrder(order_id, account, client_order_id, Side(side), price, quantity,
                           display_quantity, stp_group, Mode(stp_mode), post_only)
        if post_only and self.crossing(taker):
            return SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, 0)
        if time_in_force == TimeInForce.FOK:
            trial = copy.deepcopy(self)
            trial_taker = copy.deepcopy(taker)
            if trial.match(trial_taker, []) or trial_taker.filled < quantity:
                return SubmitResult(SubmitOutcome.FOK_NOT_FILLABLE, 0, 0)
        if self.match(taker, events):
            outcome = SubmitOutcome.CANCELLED
        elif taker.leaves == 0:
            outcome = SubmitOutcome.FILLED
        elif time_in_force in (TimeInForce.IOC, TimeInForce.FOK) or is_market:
            reason = CancelReason.IOC_REMAINDER
            if is_market and any(o.side != taker.side for o in self.orders):
                reason = CancelReason.MARKET_PROTECTION
            self.cancel_event(taker, reason, taker.leaves, events)
            taker.leaves = 0
            outcome = SubmitOutcome.CANCELLED
        else:
            self.rest(taker)
            outcome = SubmitOutcome.RESTING
        self.publish(events)
        return SubmitResult(outcome, taker.filled, taker.leaves)

    def find(self, order_id: int) -> ModelOrder | None:
        return next((o for o in self.orders if o.order_id == order_id), None)

    def cancel(self, order_id: int, events: list):
        order = self.find(order_id)
        if order is None:
            return None
        self.touch(order.side, order.price)
        self.orders.remove(order)
        self.cancel_event(order, CancelReason.USER, order.leaves, events)
        self.publish(events)
        return order.order_id

    def reduce(self, order_id: int, quantity: int, events: list):
        order = self.find(order_id)
        if order is None or not 0 < quantity <= order.leaves:
            return None if order is None else ValueError
        self.touch(order.side, order.price)
        order.leaves = quantity
        order.visible = min(order.visible, quantity)
        self.publish(events)
        return order.order_id

    def replace(self, order_id: int, price: int, quantity: int, events: list,
                client_order_id: str | None = None):
        order = self.find(order_id)
        if order is None or quantity <= 0:
            return None if order is None else ValueError
        if client_order_id is not None and not isinstance(client_order_id, str):
            return ValueError
        moved = copy.copy(order)
        moved.price = price
        if (price != order.price or quantity > order.leaves) and (
                order.post_only and self.crossing(moved)):
            return SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, order.leaves)
        if client_order_id is not None:  # renamed whatever else happens, unless refused
            order.client_order_id = client_order_id
        if price == order.price and quantity <= order.leaves:
            self.reduce(order_id, quantity, events)
            return SubmitResult(SubmitOutcome.RESTING, 0, quantity)
        self.touch(order.side, order.price)
        self.orders.remove(order)
        filled_before = order.filled
        order.price, order.leaves, order.visible = price, quantity, 0
        if self.match(order, events):
            outcome = SubmitOutcome.CANCELLED
        elif order.leaves == 0:
            outcome = SubmitOutcome.FILLED
        else:
            self.rest(order)
            outcome = SubmitOutcome.RESTING
        self.publish(events)
        leaves = order.leaves if outcome == SubmitOutcome.RESTING else 0
        return SubmitResult(outcome, order.filled - filled_before, leaves)
