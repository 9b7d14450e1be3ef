"""Building blocks of the pure-Python book: orders, FIFO price levels, one side of the book.

A level's queue is an intrusive doubly-linked list of its orders, so popping the front,
appending at the back and unlinking any order (cancel by id) are all O(1). A side keeps its
levels in a dict by price and their prices in a ``SortedList`` ordered best first (bids by
descending price, asks by ascending), so the best level is O(1) to read and a level is
O(log n) to add or remove.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedList

from venue.codecs.enums import SelfTradePrevention, Side

from .records import BookOrder

STOPPING_MODES = (SelfTradePrevention.CANCEL_NEWEST, SelfTradePrevention.CANCEL_BOTH,
                  SelfTradePrevention.DECREMENT_AND_CANCEL)


class Order:
    """One resting (or incoming) order; ``prev``/``next`` link it into its level's queue."""

    __slots__ = ("account", "client_order_id", "display", "filled", "leaves", "level",
                 "next", "order_id", "post_only", "prev", "price", "side", "stp_group",
                 "stp_mode", "visible")

    def __init__(self, order_id: int, account: int, client_order_id: str, side: Side,
                 price: int, leaves: int, display: int, stp_group: int,
                 stp_mode: SelfTradePrevention, post_only: bool) -> None:
        self.order_id = order_id
        self.account = account
        self.client_order_id = client_order_id
        self.side = side
        self.price = price
        self.leaves = leaves  # open quantity, hidden part included
        self.visible = 0  # shown part; set when the order rests
        self.display = display  # iceberg slice size, 0 for a plain order
        self.filled = 0
        self.stp_group = stp_group
        self.stp_mode = stp_mode
        self.post_only = bool(post_only)
        self.level: Level | None = None
        self.prev: Order | None = None
        self.next: Order | None = None

    def slice_quantity(self) -> int:
        """What this order shows when it (re)joins a queue: its display slice or all of it."""
        if self.display and self.display < self.leaves:
            return self.display
        return self.leaves

    def same_stp_key(self, other: Order) -> bool:
        """Same non-zero self-trade group, or both without a group and the same account."""
        if self.stp_group != other.stp_group:
            return False
        return self.stp_group != 0 or self.account == other.account

    def record(self) -> BookOrder:
        return BookOrder(self.order_id, self.account, self.client_order_id, self.side,
                         self.price, self.filled + self.leaves, self.leaves, self.visible,
                         self.display, self.filled, self.stp_group, self.stp_mode,
                         self.post_only)

    def state(self) -> tuple:
        return (self.order_id, self.account, self.client_order_id, int(self.side),
                self.price, self.leaves, self.visible, self.display, self.filled,
                self.stp_group, int(self.stp_mode), self.post_only)


class Level:
    """A price level: a FIFO queue of orders and its aggregate (visible total, count).

    ``epoch`` and ``before`` belong to the book's market-data bookkeeping: the operation that
    first touches the level records its aggregate there so it can report what changed.
    """

    __slots__ = ("before", "count", "epoch", "head", "price", "side", "tail", "visible")

    def __init__(self, side: Side, price: int) -> None:
        self.side = side
        self.price = price
        self.head: Order | None = None
        self.tail: Order | None = None
        self.visible = 0
        self.count = 0
        self.epoch = 0
        self.before = (0, 0)

    def append(self, order: Order) -> None:
        """Join the back of the queue with ``order.visible`` shown. O(1)."""
        order.level = self
        order.prev = self.tail
        order.next = None
        if self.tail is None:
            self.head = order
        else:
            self.tail.next = order
        self.tail = order
        self.visible += order.visible
        self.count += 1

    def unlink(self, order: Order) -> None:
        """Leave the queue from anywhere in it. O(1)."""
        if order.prev is None:
            self.head = order.next
        else:
            order.prev.next = order.next
        if order.next is None:
            self.tail = order.prev
        else:
            order.next.prev = order.prev
        self.visible -= order.visible
        self.count -= 1
        order.level = order.prev = order.next = None

    def orders(self) -> Iterator[Order]:
        order = self.head
        while order is not None:
            yield order
            order = order.next


class BookSide:
    """The levels of one side, best first."""

    __slots__ = ("levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        key = (lambda price: -price) if side == Side.BUY else None
        self.prices = SortedList(key=key)

    def __len__(self) -> int:
        return len(self.levels)

    def best(self) -> Level | None:
        """The best level, or None. O(1)."""
        if not self.levels:
            return None
        return self.levels[self.prices[0]]

    def get(self, price: int) -> Level | None:
        return self.levels.get(price)

    def get_or_add(self, price: int) -> Level:
        """The level at ``price``, created empty if absent. O(log n)."""
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = Level(self.side, price)
            self.prices.add(price)
        return level

    def remove(self, level: Level) -> None:
        """Drop an emptied level. O(log n)."""
        del self.levels[level.price]
        self.prices.remove(level.price)

    def crosses(self, price: int, limit: int) -> bool:
        """Whether an incoming order on the other side, limited at ``limit``, may trade at
        this side's ``price``."""
        return price <= limit if self.side == Side.SELL else price >= limit

    def in_order(self) -> Iterator[Level]:
        for price in self.prices:
            yield self.levels[price]

    def fillable(self, taker: Order) -> bool:
        """Fill-or-kill: whether matching ``taker`` against this side now would fill it
        completely. A maker with the taker's STP key is skipped under CANCEL_OLDEST and
        stops the taker under the other modes, so only the visible quantity queued ahead of
        it at its level counts; otherwise a whole level counts, hidden iceberg quantity
        included (refills rejoin the back of the same queue, so the taker reaches them).
        O(orders looked at)."""
        need = taker.leaves
        stops = taker.stp_mode in STOPPING_MODES
        total = 0
        for level in self.in_order():
            if not self.crosses(level.price, taker.price):
                break
            ahead = level_total = 0
            for maker in level.orders():
                if taker.stp_mode and maker.same_stp_key(taker):
                    if stops:
                        return total + ahead >= need
                    continue
                ahead += maker.visible
                level_total += maker.leaves
                if total + ahead >= need:
                    return True
            total += level_total
            if total >= need:
                return True
        return False
