"""The compiled book against the pure-Python reference and both against a deliberately
simple model (``model.py``), step by step (hypothesis stateful).

All three get the same random commands (submits of every kind, cancels, reduces, replaces,
some giving the order a new client order id; the two books also nonsense that must raise,
and snapshot and restore across implementations); after every step they must have
returned the same results, appended the same events, and show the same depth and state,
and both books must pass ``_check()``.
Without a compiled twin the reference is driven against itself and the model.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from venue.codecs.enums import SelfTradePrevention, Side, TimeInForce
from venue.engine.book import CyOrderBook, PyOrderBook

from .model import ModelBook

OTHER = CyOrderBook if CyOrderBook is not None else PyOrderBook
ORDERS_MAX = 40
PRICES = st.integers(95, 105)
QUANTITIES = st.integers(1, 12)


class BookComparison(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.books = [PyOrderBook(1, ORDERS_MAX), OTHER(1, ORDERS_MAX)]
        self.model = ModelBook(1)
        self.next_order_id = 1

    def both(self, method: str, *args, model: bool = False, **kwargs) -> object:
        """Call ``method`` on both books (and the model); the same result and events, or
        both raise."""
        outcomes = []
        for book in self.books:
            events: list = []
            try:
                result = getattr(book, method)(*args, events=events, **kwargs)
            except ValueError:
                result = ValueError
            outcomes.append((result, events))
        assert outcomes[0] == outcomes[1], f"{method}{args}{kwargs}"
        if model:
            events = []
            expected = getattr(self.model, method)(*args, events=events, **kwargs)
            result = outcomes[0][0]
            if method in ("cancel", "reduce") and result not in (None, ValueError):
                result = result.order_id
            assert (result, outcomes[0][1]) == (expected, events), (
                f"model: {method}{args}{kwargs}")
        return outcomes[0][0]

    def some_order_id(self, data: st.DataObject) -> int:
        resting = [fields[0] for fields in self.books[0].to_state()[4]]
        if resting and data.draw(st.integers(0, 9)):
            return data.draw(st.sampled_from(resting))
        return data.draw(st.integers(1, self.next_order_id + 1))

    @precondition(lambda self: len(self.books[0]) < ORDERS_MAX)
    @rule(side=st.sampled_from(Side), price=PRICES, quantity=QUANTITIES,
          account=st.integers(1, 3), group=st.sampled_from([0, 0, 0, 1]),
          mode=st.sampled_from(SelfTradePrevention), tif=st.sampled_from(TimeInForce),
          post_only=st.booleans(), display=st.integers(0, 5),
          market=st.sampled_from([False, False, False, True]))
    def submit(self, side, price, quantity, account, group, mode, tif, post_only, display,
               market) -> None:
        if market or tif in (TimeInForce.IOC, TimeInForce.FOK):
            post_only = False
        order_id = self.next_order_id
        self.next_order_id += 1
        result = self.both("submit", order_id, account, f"c{order_id}", side, price,
                           quantity, time_in_force=tif, post_only=post_only,
                           display_quantity=min(display, quantity), stp_group=group,
                           stp_mode=mode, is_market=market, model=True)
        assert result is not ValueError

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.both("cancel", self.some_order_id(data), model=True)

    @rule(data=st.data(), quantity=QUANTITIES)
    def reduce(self, data: st.DataObject, quantity: int) -> None:
        self.both("reduce", self.some_order_id(data), quantity, model=True)

    @rule(data=st.data(), price=PRICES, quantity=QUANTITIES,
          rename=st.sampled_from([None, None, "r", "s"]))
    def replace(self, data: st.DataObject, price: int, quantity: int,
                rename: str | None) -> None:
        order_id = self.some_order_id(data)
        client_order_id = None if rename is None else f"{rename}{order_id}"
        self.both("replace", order_id, price, quantity, client_order_id=client_order_id,
                  model=True)

    @rule(data=st.data(), quantity=st.sampled_from([0, -1, 2**40 + 1]))
    def nonsense_raises_and_changes_nothing(self, data: st.DataObject, quantity: int) -> None:
        order_id = self.some_order_id(data)
        state = self.books[0].to_state()
        assert self.both("submit", order_id + 10_000, 1, "x", Side.BUY, 100,
                         quantity) is ValueError
        if self.books[0].order(order_id) is not None:
            assert self.both("reduce", order_id, quantity) is ValueError
            assert self.both("replace", order_id, 100, quantity) is ValueError
            assert self.both("replace", order_id, 100, 1, client_order_id=7) is ValueError
        assert self.books[0].to_state() == state

    @rule()
    def snapshot_and_restore_across_implementations(self) -> None:
        python_state = self.books[0].to_state()
        other_state = self.books[1].to_state()
        self.books = [PyOrderBook.from_state(other_state), OTHER.from_state(python_state)]

    @invariant()
    def books_agree_and_hold_their_invariants(self) -> None:
        for book in self.books:
            book._check()
        first, second = self.books
        assert first.depth(100) == second.depth(100)
        assert first.to_state() == second.to_state()
        assert (len(first), first.best_bid(), first.best_ask(), first.last_trade_price) == (
            len(second), second.best_bid(), second.best_ask(), second.last_trade_price)
        assert first.to_state()[4] == self.model.to_state_orders()
        assert first.next_trade_id == self.model.next_trade_id
        for price in range(95, 106):
            for side in Side:
                assert first.orders_at(side, price) == second.orders_at(side, price)


BookComparison.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_the_compiled_book_matches_the_reference = pytest.mark.slow(BookComparison.TestCase)
