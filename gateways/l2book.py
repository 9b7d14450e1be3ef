"""A gateway's copy of each L2 book (FIX market data, WebSocket depth, the console), kept
from ``BookLevelChanged`` events, and the diff of a depth-limited view across one log entry
(what FIX's ``MarketDataHub`` turns into MarketDataIncrementalRefresh entries and the
WebSocket gateway into depth updates).

Prices and quantities stay in the engine's integer units here; the message builders turn
them into decimal text.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from itertools import pairwise
from typing import NamedTuple

from venue.codecs.enums import Side


class Level(NamedTuple):
    price: int
    quantity: int
    order_count: int


#: MDUpdateAction(279)
NEW, CHANGE, DELETE = b"0", b"1", b"2"


class BookSide:
    """One side's levels: price -> (quantity, order count), and the prices best first.

    >>> bids = BookSide(Side.BUY)
    >>> bids.set(100, 5, 1); bids.set(105, 2, 1); bids.set(101, 3, 2)
    >>> [level.price for level in bids.top(2)]
    [105, 101]
    >>> bids.set(105, 0, 0); bids.top(5)
    [Level(price=101, quantity=3, order_count=2), Level(price=100, quantity=5, order_count=1)]
    """

    __slots__ = ("_keys", "_levels", "_sign")

    def __init__(self, side: Side) -> None:
        self._sign = -1 if side == Side.BUY else 1  # keys ascend from the best price
        self._keys: list[int] = []
        self._levels: dict[int, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._levels)

    def set(self, price: int, quantity: int, order_count: int) -> None:
        """The level at ``price`` is now ``quantity`` (0: gone). O(levels) worst case (the
        insert or removal in the sorted key list), O(log levels) to find it."""
        key = self._sign * price
        if quantity <= 0:
            if self._levels.pop(price, None) is not None:
                del self._keys[bisect_left(self._keys, key)]
            return
        if price not in self._levels:
            insort(self._keys, key)
        self._levels[price] = (quantity, order_count)

    def top(self, count: int) -> list[Level]:
        """The best ``count`` levels, best first. O(count)."""
        sign, levels = self._sign, self._levels
        return [Level(sign * key, *levels[sign * key]) for key in self._keys[:count]]

    def _check(self) -> None:
        keys = self._keys
        assert all(a < b for a, b in pairwise(keys)), "keys not ascending"
        assert sorted(self._sign * price for price in self._levels) == keys, "keys != levels"
        assert all(quantity > 0 for quantity, _ in self._levels.values()), "empty level kept"


class Trade(NamedTuple):
    trade_id: int
    price: int
    quantity: int


class Book:
    """One instrument's bids, offers and most recent trades (oldest first)."""

    __slots__ = ("bids", "offers", "trades")

    def __init__(self, trades_kept: int) -> None:
        self.bids = BookSide(Side.BUY)
        self.offers = BookSide(Side.SELL)
        self.trades: deque[Trade] = deque(maxlen=trades_kept)

    def side(self, side: Side) -> BookSide:
        return self.bids if side == Side.BUY else self.offers

    def _check(self) -> None:
        self.bids._check()
        self.offers._check()
        best_bid, best_offer = self.bids.top(1), self.offers.top(1)
        # a crossed book would mean a missed event (the engine never leaves one crossed)
        assert not (best_bid and best_offer and best_bid[0].price >= best_offer[0].price), (
            f"crossed book: {best_bid} / {best_offer}")


def diff(before: list[Level], after: list[Level]) -> list[tuple[bytes, Level]]:
    """The update actions that turn the view ``before`` into ``after`` (both best first):
    deletes first, so a client keeping N levels never holds more than N, then new and
    changed levels best first. O(len(before) + len(after)).

    >>> diff([Level(10, 1, 1), Level(9, 4, 2)], [Level(11, 2, 1), Level(10, 3, 2)])
    ... # doctest: +NORMALIZE_WHITESPACE
    [(b'2', Level(price=9, quantity=4, order_count=2)),
     (b'0', Level(price=11, quantity=2, order_count=1)),
     (b'1', Level(price=10, quantity=3, order_count=2))]
    """
    old = {level.price: level for level in before}
    kept = {level.price for level in after}
    actions = [(DELETE, level) for level in before if level.price not in kept]
    for level in after:
        previous = old.get(level.price)
        if previous is None:
            actions.append((NEW, level))
        elif previous != level:
            actions.append((CHANGE, level))
    return actions
