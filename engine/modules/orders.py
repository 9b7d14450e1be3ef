"""The matching module's records: open orders, waiting stop orders, recently finished ids.

``OpenOrder`` is what the matching module knows of an order while it is open (resting in
the book, or waiting for its stop trigger); the book keeps its own record of resting orders
for priority and matching. ``StopOrders`` holds one instrument's waiting stops in trigger
order. ``FinishedOrders`` remembers, up to a bound, which orders have finished, so a cancel
or replace that comes too late gets TOO_LATE_TO_CANCEL rather than UNKNOWN_ORDER, and a
client order id stays taken after its order finished.
"""

from __future__ import annotations

from collections import OrderedDict

import msgspec
from sortedcontainers import SortedList

from venue.codecs.enums import OrderType, SelfTradePrevention, Side, TimeInForce

__all__ = ["FinishedOrders", "OpenOrder", "StopOrders"]


class OpenOrder(msgspec.Struct, array_like=True, gc=False):
    """One open order. Mutable: the matching module updates it in place.

    ``price`` is the limit price, or for market and stop (market) orders the protection
    price the module fixed at entry. ``quantity`` is the current total (filled plus leaves);
    a reduce or a self-trade decrement lowers it. ``stop_sequence`` > 0 while a stop order
    waits for its trigger: its place in the arrival order. This is also the snapshot format.
    """

    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    quantity: int
    leaves_quantity: int
    stop_price: int = 0
    display_quantity: int = 0
    expire_time_ns: int = 0
    self_trade_group: int = 0
    stp_mode: SelfTradePrevention = SelfTradePrevention.NONE
    post_only: bool = False
    stop_sequence: int = 0

    @property
    def filled_quantity(self) -> int:
        return self.quantity - self.leaves_quantity

    @property
    def is_market(self) -> bool:
        """Market and stop (market) orders: they never rest."""
        return self.order_type == OrderType.MARKET or self.order_type == OrderType.STOP


class StopOrders:
    """One instrument's stop orders waiting for a trade at or through their stop price.

    A buy stop triggers when the last trade price is at or above its stop price, a sell stop
    when it is at or below. ``pop_triggered`` hands out every triggered order in arrival
    order (``stop_sequence``), whatever its side, so the order in which a cascade unfolds
    depends only on the log. O(log n) to add or remove.
    """

    def __init__(self) -> None:
        self._buys: SortedList = SortedList()  # (stop_price, sequence, order_id)
        self._sells: SortedList = SortedList()  # (-stop_price, sequence, order_id)

    def __len__(self) -> int:
        return len(self._buys) + len(self._sells)

    def add(self, order: OpenOrder) -> None:
        self._list(order).add(self._key(order))

    def remove(self, order: OpenOrder) -> None:
        """Remove a waiting order; ValueError if it is not here (a module bug)."""
        self._list(order).remove(self._key(order))

    def pop_triggered(self, last_price: int) -> list[int]:
        """Remove and return the order ids triggered by a last trade at ``last_price``, in
        arrival order. O(k log k) for k triggered orders."""
        triggered = []
        for orders, bound in ((self._buys, last_price), (self._sells, -last_price)):
            if orders and orders[0][0] <= bound:
                count = orders.bisect_left((bound + 1,))
                triggered.extend(orders[:count])
                del orders[:count]
        triggered.sort(key=_sequence)
        return [order_id for _, _, order_id in triggered]

    def _list(self, order: OpenOrder) -> SortedList:
        return self._buys if order.side == Side.BUY else self._sells

    @staticmethod
    def _key(order: OpenOrder) -> tuple[int, int, int]:
        stop_price = order.stop_price if order.side == Side.BUY else -order.stop_price
        return (stop_price, order.stop_sequence, order.order_id)


def _sequence(key: tuple[int, int, int]) -> int:
    return key[1]


class FinishedOrders:
    """The most recent ``capacity`` finished orders: order id -> (account, client order id),
    and the reverse. The oldest is forgotten first, in O(1): an ``OrderedDict`` (insertion
    order: deterministic), because taking the first key of a plain dict whose front has
    been popped many times scans the deleted slots (15-63 us an add once full, measured)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._by_id: OrderedDict[int, tuple[int, str]] = OrderedDict()
        self._by_client_id: dict[tuple[int, str], int] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, order_id: int, account: int, client_order_id: str) -> None:
        if len(self._by_id) >= self.capacity:
            _, oldest_key = self._by_id.popitem(last=False)
            self._by_client_id.pop(oldest_key, None)
        key = (account, client_order_id)
        self._by_id[order_id] = key
        self._by_client_id[key] = order_id

    def owner(self, order_id: int) -> tuple[int, str] | None:
        """(account, client order id) of a finished order, or None if unknown."""
        return self._by_id.get(order_id)

    def has_client_id(self, account: int, client_order_id: str) -> bool:
        return (account, client_order_id) in self._by_client_id

    def rows(self) -> list[tuple[int, int, str]]:
        """Oldest first, for snapshots."""
        return [(order_id, account, client_order_id)
                for order_id, (account, client_order_id) in self._by_id.items()]

    def restore(self, rows: list) -> None:
        self._by_id = OrderedDict()
        self._by_client_id = {}
        for order_id, account, client_order_id in rows:
            self.add(order_id, account, client_order_id)
