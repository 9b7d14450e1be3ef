"""The compiled book against the reference at a size the stateful test never reaches.

``test_stateful.py`` keeps at most 40 orders on 11 prices, so it never grows the compiled
book's level arrays (64 levels a side to start), never rebuilds its order table (tombstones
past half of 1,024 slots), and rarely reuses pooled levels at a new price. Here a seeded
stream of every command kind, thousands of orders over hundreds of levels per side, runs
through both books; every step must give the same result and events, and every few hundred
steps the same state and a passing ``_check()``.
"""

from __future__ import annotations

import random

import pytest

from venue.codecs.enums import SelfTradePrevention, Side, TimeInForce
from venue.engine.book import CyOrderBook, PyOrderBook

pytestmark = pytest.mark.skipif(CyOrderBook is None, reason="the compiled twin is not built")

STEPS = 12_000
CHECK_EVERY_STEPS = 500
MIDDLE_PRICE = 10_000
PRICE_SPREAD = 600  # each side's orders lie within this many ticks of the middle


def random_submit(rng: random.Random, order_id: int) -> tuple[tuple, dict]:
    side = rng.choice((Side.BUY, Side.SELL))
    offset = rng.randrange(-40, PRICE_SPREAD)  # mostly passive, sometimes crossing
    price = MIDDLE_PRICE - offset if side == Side.BUY else MIDDLE_PRICE + offset
    quantity = rng.randint(1, 60)
    time_in_force = rng.choice((TimeInForce.GTC,) * 8 + (TimeInForce.IOC, TimeInForce.FOK))
    kwargs = {"time_in_force": time_in_force,
              "stp_mode": rng.choice(list(SelfTradePrevention)) if rng.random() < 0.1
              else SelfTradePrevention.NONE}
    if time_in_force == TimeInForce.GTC and rng.random() < 0.05:
        kwargs["display_quantity"] = rng.randint(1, quantity)
    if time_in_force == TimeInForce.GTC and rng.random() < 0.05:
        kwargs["post_only"] = True
    args = (order_id, rng.randint(1, 30), f"c{order_id}", side, price, quantity)
    return args, kwargs


def step(rng: random.Random, books: list, live: list[int], order_id: int) -> list:
    """One random command on every book; what each returned and appended."""
    draw = rng.random()
    produced = []
    if draw < 0.45 or not live:
        args, kwargs = random_submit(rng, order_id)
        for book in books:
            events: list = []
            produced.append((book.submit(*args, events=events, **kwargs), events))
        live.append(order_id)
        return produced
    target = live[rng.randrange(len(live))]
    current = books[0].order(target)
    if current is None:  # filled or cancelled since: ask anyway, both must say None
        live.remove(target)
    kwargs: dict = {}
    if draw < 0.55:
        call = ("cancel", (target,))
    elif draw < 0.62 and current is not None and current.leaves_quantity > 1:
        call = ("reduce", (target, rng.randint(1, current.leaves_quantity - 1)))
    else:
        price = (current.price if current is not None else MIDDLE_PRICE) + rng.randint(-25, 25)
        call = ("replace", (target, price, rng.randint(1, 60)))
        if order_id % 3 == 0:  # a new client order id, without a draw: the same stream
            kwargs["client_order_id"] = f"r{order_id}"
    for book in books:
        events = []
        produced.append((getattr(book, call[0])(*call[1], events, **kwargs), events))
    return produced


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_twins_agree_over_a_long_stream_of_thousands_of_orders(seed: int) -> None:
    rng = random.Random(seed)
    books = [PyOrderBook(1), CyOrderBook(1)]
    live: list[int] = []
    largest = 0
    for order_id in range(1, STEPS + 1):
        reference, compiled = step(rng, books, live, order_id)
        assert reference == compiled, f"step {order_id}"
        largest = max(largest, len(books[0]))
        if order_id % CHECK_EVERY_STEPS == 0:
            assert books[0].to_state() == books[1].to_state()
            assert books[0].depth(10_000) == books[1].depth(10_000)
            for book in books:
                book._check()
            live[:] = [i for i in live if books[0].order(i) is not None]
    bids, asks = books[1].depth(10_000)
    assert largest > 1_000 and min(len(bids), len(asks)) > 64  # the sizes this test is for
