"""The order book's API and rules, run against both implementations.

``TestCyOrderBook`` subclasses ``TestPyOrderBook`` when the compiled twin is built, so every
test here holds for both. The matching rules are specified in more detail, event by event,
by the scenario files (``test_scenarios.py``).
"""

from __future__ import annotations

import gc
import sys

import msgspec
import pytest

from venue.codecs.enums import CancelReason, SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BookLevelChanged, OrderCancelled, OrderFilled
from venue.engine.book import (
    IMPLEMENTATION,
    ORDERS_MAX_LIMIT,
    PRICE_MAX,
    QUANTITY_MAX,
    BookOrder,
    CyOrderBook,
    OrderBook,
    PyOrderBook,
    SubmitOutcome,
    SubmitResult,
)

from .helpers import BOOK_CLASSES

BUY, SELL = Side.BUY, Side.SELL
STP = SelfTradePrevention


def test_active_book_is_the_one_implementation_names() -> None:
    expected = CyOrderBook if IMPLEMENTATION == "cython" else PyOrderBook
    assert OrderBook is expected


class TestPyOrderBook:
    book_class: type = PyOrderBook

    def book(self, **kwargs) -> PyOrderBook:
        return self.book_class(instrument_id=kwargs.pop("instrument_id", 3), **kwargs)

    @staticmethod
    def rest(book, order_id: int, side: Side, price: int, quantity: int, account: int = 1,
             **kwargs) -> SubmitResult:
        events: list = []
        result = book.submit(order_id, account, f"c{order_id}", side, price, quantity,
                             events=events, **kwargs)
        book._check()
        return result

    # -- resting, queries --------------------------------------------------------------

    def test_an_empty_book_has_no_prices_no_orders_and_no_trades(self) -> None:
        book = self.book()
        assert (len(book), book.best_bid(), book.best_ask()) == (0, None, None)
        assert book.last_trade_price is None and book.next_trade_id == 1
        assert book.depth(5) == ([], []) and book.orders_at(BUY, 100) == []
        assert book.order(1) is None
        book._check()

    def test_a_resting_order_is_reported_and_queryable(self) -> None:
        book = self.book()
        events: list = []
        result = book.submit(1, 7, "abc", BUY, 100, 10, display_quantity=4, stp_group=2,
                             stp_mode=STP.CANCEL_OLDEST, events=events)
        assert result == SubmitResult(SubmitOutcome.RESTING, 0, 10)
        assert events == [BookLevelChanged(3, BUY, 100, 4, 1)]
        record = BookOrder(1, 7, "abc", BUY, 100, 10, 10, 4, 4, 0, 2, STP.CANCEL_OLDEST, False)
        assert book.order(1) == record and book.orders_at(BUY, 100) == [record]
        assert isinstance(book.order(1).side, Side)
        assert (len(book), book.best_bid(), book.best_ask()) == (1, 100, None)

    def test_depth_is_best_first_and_limited(self) -> None:
        book = self.book()
        for order_id, (side, price) in enumerate([(BUY, 98), (BUY, 100), (BUY, 99),
                                                  (SELL, 103), (SELL, 101), (BUY, 100)], 1):
            self.rest(book, order_id, side, price, order_id)
        assert book.depth(2) == ([(100, 8, 2), (99, 3, 1)], [(101, 5, 1), (103, 4, 1)])
        assert book.depth(0) == ([], [])
        assert book.depth(10)[0] == [(100, 8, 2), (99, 3, 1), (98, 1, 1)]
        assert [o.order_id for o in book.orders_at(BUY, 100)] == [2, 6]
        assert (book.best_bid(), book.best_ask(), len(book)) == (100, 101, 6)
        with pytest.raises(ValueError):
            book.depth(-1)

    def test_negative_prices_trade_like_any_other(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, -5, 2)
        events: list = []
        book.submit(2, 2, "b", BUY, -4, 1, events=events)
        assert events[0].price == -5 and book.last_trade_price == -5

    # -- fills --------------------------------------------------------------------------

    def test_a_fill_carries_both_sides_and_trade_ids_count_from_one(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 5, account=7)
        events: list = []
        result = book.submit(2, 8, "t", BUY, 105, 3, events=events)
        assert result == SubmitResult(SubmitOutcome.FILLED, 3, 0)
        assert events == [OrderFilled(1, 3, 100, 3, BUY, 1, 7, "c1", 2, 2, 8, "t", 0),
                          BookLevelChanged(3, SELL, 100, 2, 1)]
        assert isinstance(events[0].taker_side, Side)
        events.clear()
        book.submit(3, 8, "u", BUY, 105, 1, events=events)
        assert events[0].trade_id == 2 and book.next_trade_id == 3
        assert book.last_trade_price == 100
        assert book.order(1).filled_quantity == 4 and book.order(1).quantity == 5

    def test_ioc_remainder_is_cancelled(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 2)
        events: list = []
        result = book.submit(2, 2, "i", BUY, 100, 5, time_in_force=TimeInForce.IOC,
                             events=events)
        assert result == SubmitResult(SubmitOutcome.CANCELLED, 2, 0)
        assert events[1] == OrderCancelled(2, 2, 3, "i", CancelReason.IOC_REMAINDER, 3)
        assert len(book) == 0

    @pytest.mark.parametrize("tif", [TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD])
    def test_gtc_day_and_gtd_rest(self, tif: TimeInForce) -> None:
        book = self.book()
        assert self.rest(book, 1, BUY, 100, 5, time_in_force=tif).outcome == (
            SubmitOutcome.RESTING)

    def test_fok_that_cannot_fill_leaves_no_trace(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 5)
        state = book.to_state()
        events: list = []
        result = book.submit(2, 2, "f", BUY, 100, 6, time_in_force=TimeInForce.FOK,
                             events=events)
        assert result == SubmitResult(SubmitOutcome.FOK_NOT_FILLABLE, 0, 0)
        assert events == [] and book.to_state() == state

    def test_post_only_that_would_take_leaves_no_trace(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 5)
        events: list = []
        result = book.submit(2, 2, "p", BUY, 100, 1, post_only=True, events=events)
        assert result == SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, 0)
        assert events == [] and len(book) == 1

    def test_market_order_stops_at_its_protection_price(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 1)
        self.rest(book, 2, BUY, 90, 1)
        events: list = []
        result = book.submit(3, 2, "m", SELL, 95, 5, is_market=True, events=events)
        assert result == SubmitResult(SubmitOutcome.CANCELLED, 1, 0)
        assert events[1] == OrderCancelled(3, 2, 3, "m", CancelReason.MARKET_PROTECTION, 4)
        assert book.best_bid() == 90

    def test_market_order_on_an_empty_side_is_an_ioc_remainder(self) -> None:
        events: list = []
        result = self.book().submit(1, 2, "m", SELL, 95, 5, is_market=True, events=events)
        assert result.outcome == SubmitOutcome.CANCELLED
        assert events == [OrderCancelled(1, 2, 3, "m", CancelReason.IOC_REMAINDER, 5)]

    # -- self-trade prevention ----------------------------------------------------------

    @pytest.mark.parametrize(("mode", "outcome", "left"), [
        (STP.NONE, SubmitOutcome.FILLED, [1, 2]),
        (STP.CANCEL_NEWEST, SubmitOutcome.CANCELLED, [1, 2]),
        (STP.CANCEL_OLDEST, SubmitOutcome.FILLED, [2]),
        (STP.CANCEL_BOTH, SubmitOutcome.CANCELLED, [2]),
        (STP.DECREMENT_AND_CANCEL, SubmitOutcome.CANCELLED, [1, 2]),
    ])
    def test_each_stp_mode_against_an_own_order_at_the_front(self, mode, outcome,
                                                            left) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 5, account=7)
        self.rest(book, 2, SELL, 100, 5, account=8)
        events: list = []
        result = book.submit(3, 7, "t", BUY, 100, 3, stp_mode=mode, events=events)
        book._check()
        assert result.outcome == outcome
        assert [o.order_id for o in book.orders_at(SELL, 100)] == left
        reasons = [e.reason for e in events if isinstance(e, OrderCancelled)]
        assert all(reason == CancelReason.SELF_TRADE_PREVENTION for reason in reasons)
        if mode == STP.DECREMENT_AND_CANCEL:
            assert book.order(1).leaves_quantity == 2

    def test_stp_key_is_the_group_when_set_else_the_account(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 100, 1, account=7, stp_group=5)
        self.rest(book, 2, SELL, 100, 1, account=7)
        self.rest(book, 3, SELL, 100, 1, account=9, stp_group=5)
        events: list = []
        book.submit(4, 7, "t", BUY, 100, 2, stp_mode=STP.CANCEL_OLDEST, events=events)
        assert [type(e).__name__ for e in events[:3]] == [
            "OrderFilled", "OrderCancelled", "OrderFilled"]
        assert (events[0].maker_order_id, events[1].order_id, events[2].maker_order_id) == (
            1, 2, 3)

    # -- cancel, reduce, replace -------------------------------------------------------

    def test_cancel_returns_the_last_snapshot_and_names_reason_and_request(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        events: list = []
        record = book.cancel(1, events, reason=CancelReason.MASS_CANCEL,
                             request_client_order_id="r")
        assert record.order_id == 1 and record.leaves_quantity == 5
        assert events == [OrderCancelled(1, 1, 3, "c1", CancelReason.MASS_CANCEL, 5, "r"),
                          BookLevelChanged(3, BUY, 100, 0, 0)]
        assert book.cancel(1, events) is None and len(book) == 0

    def test_reduce_keeps_priority_and_refuses_an_increase(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        self.rest(book, 2, BUY, 100, 5)
        events: list = []
        assert book.reduce(1, 2, events).leaves_quantity == 2
        assert [o.order_id for o in book.orders_at(BUY, 100)] == [1, 2]
        assert book.order(1).quantity == 2
        assert book.reduce(1, 2, events).leaves_quantity == 2  # no change, no event
        assert events == [BookLevelChanged(3, BUY, 100, 7, 2)]
        for bad in (0, 3, -1):
            with pytest.raises(ValueError):
                book.reduce(1, bad, events)
        assert book.reduce(99, 1, events) is None

    def test_replace_loses_priority_on_price_or_more_quantity(self) -> None:
        book = self.book()
        for order_id in (1, 2, 3):
            self.rest(book, order_id, BUY, 100, 5)
        events: list = []
        assert book.replace(1, 100, 4, events) == SubmitResult(SubmitOutcome.RESTING, 0, 4)
        assert [o.order_id for o in book.orders_at(BUY, 100)] == [1, 2, 3]
        book.replace(1, 100, 6, events)
        assert [o.order_id for o in book.orders_at(BUY, 100)] == [2, 3, 1]
        book.replace(2, 99, 5, events)
        assert [o.order_id for o in book.orders_at(BUY, 100)] == [3, 1]
        assert book.replace(7, 99, 5, events) is None
        book._check()

    def test_replace_that_crosses_fills_as_the_taker(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5, account=1)
        self.rest(book, 2, SELL, 102, 3, account=2)
        events: list = []
        result = book.replace(1, 102, 5, events)
        assert result == SubmitResult(SubmitOutcome.RESTING, 3, 2)
        assert events[0] == OrderFilled(1, 3, 102, 3, BUY, 2, 2, "c2", 0, 1, 1, "c1", 2)
        assert book.order(1).filled_quantity == 3 and book.best_bid() == 102

    def test_replace_into_an_own_order_under_cancel_newest_removes_it(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5, account=1, stp_mode=STP.CANCEL_NEWEST)
        self.rest(book, 2, SELL, 102, 3, account=1)
        events: list = []
        assert book.replace(1, 102, 5, events).outcome == SubmitOutcome.CANCELLED
        assert book.order(1) is None and len(book) == 1
        book._check()

    # -- replace with a new client order id (FIX ClOrdID on cancel/replace) -------------

    def test_a_renaming_reduce_keeps_priority_and_later_fills_carry_the_new_id(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        self.rest(book, 2, BUY, 100, 5)
        events: list = []
        result = book.replace(1, 100, 4, events, client_order_id="n1")
        assert result == SubmitResult(SubmitOutcome.RESTING, 0, 4)
        assert events == [BookLevelChanged(3, BUY, 100, 9, 2)]
        assert [(o.order_id, o.client_order_id) for o in book.orders_at(BUY, 100)] == [
            (1, "n1"), (2, "c2")]
        assert book.order(1).client_order_id == "n1"
        events.clear()
        book.submit(3, 9, "t", SELL, 100, 6, events=events)
        assert events[0] == OrderFilled(1, 3, 100, 4, SELL, 1, 1, "n1", 0, 3, 9, "t", 2)
        assert events[1].maker_client_order_id == "c2"
        book._check()

    def test_a_renaming_move_or_increase_and_a_later_cancel_carry_the_new_id(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        self.rest(book, 2, BUY, 100, 5)
        events: list = []
        book.replace(1, 100, 6, events, client_order_id="more")  # to the back
        assert [(o.order_id, o.client_order_id) for o in book.orders_at(BUY, 100)] == [
            (2, "c2"), (1, "more")]
        book.replace(1, 99, 6, events, client_order_id="moved")
        assert book.orders_at(BUY, 99)[0].client_order_id == "moved"
        events.clear()
        book.cancel(1, events)
        assert events[0] == OrderCancelled(1, 1, 3, "moved", CancelReason.USER, 6, "")
        book._check()

    def test_a_renaming_replace_that_crosses_fills_with_the_new_id_as_the_taker(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5, account=1)
        self.rest(book, 2, SELL, 102, 3, account=2)
        events: list = []
        result = book.replace(1, 102, 5, events, client_order_id="n1")
        assert result == SubmitResult(SubmitOutcome.RESTING, 3, 2)
        assert events[0] == OrderFilled(1, 3, 102, 3, BUY, 2, 2, "c2", 0, 1, 1, "n1", 2)
        assert book.order(1).client_order_id == "n1"

    def test_a_renaming_replace_cancelled_by_stp_names_the_new_id(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5, account=1, stp_mode=STP.CANCEL_NEWEST)
        self.rest(book, 2, SELL, 102, 3, account=1)
        events: list = []
        assert book.replace(1, 102, 5, events, client_order_id="n1").outcome == (
            SubmitOutcome.CANCELLED)
        assert events[0] == OrderCancelled(1, 1, 3, "n1", CancelReason.SELF_TRADE_PREVENTION,
                                           5, "")

    def test_a_refused_post_only_replace_keeps_the_old_id(self) -> None:
        book = self.book()
        self.rest(book, 1, SELL, 104, 1, post_only=True)
        self.rest(book, 2, BUY, 101, 1, account=2)
        state = book.to_state()
        events: list = []
        result = book.replace(1, 101, 1, events, client_order_id="n1")
        assert result == SubmitResult(SubmitOutcome.POST_ONLY_WOULD_TAKE, 0, 1)
        assert events == [] and book.to_state() == state
        assert book.order(1).client_order_id == "c1"

    def test_replace_without_a_new_id_keeps_the_old_one(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        events: list = []
        book.replace(1, 100, 4, events, client_order_id=None)
        book.replace(1, 99, 4, events)
        assert book.order(1).client_order_id == "c1"

    @pytest.mark.parametrize("bad", [7, b"n1", ("n1",)])
    def test_a_client_order_id_that_is_not_a_str_raises_and_changes_nothing(self, bad) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        state = book.to_state()
        for price, quantity in ((100, 4), (100, 6), (99, 5)):
            with pytest.raises(ValueError):
                book.replace(1, price, quantity, [], client_order_id=bad)
        assert book.to_state() == state
        assert book.replace(9, 100, 1, [], client_order_id=bad) is None  # unknown order

    def test_a_renamed_order_round_trips_through_state_across_both_twins(self) -> None:
        book = self.book()
        self.rest(book, 1, BUY, 100, 5)
        book.replace(1, 100, 3, [], client_order_id="n1")
        state = book.to_state()
        assert state[4][0][2] == "n1"
        for cls in BOOK_CLASSES:
            restored = cls.from_state(state)
            assert restored.order(1).client_order_id == "n1"
            assert restored.to_state() == state

    # -- validation --------------------------------------------------------------------

    @pytest.mark.parametrize("change", [
        {"quantity": 0}, {"quantity": -3}, {"quantity": QUANTITY_MAX + 1},
        {"price": PRICE_MAX + 1}, {"side": 3}, {"time_in_force": 9}, {"stp_mode": 7},
        {"display_quantity": -1}, {"display_quantity": 11}, {"order_id": -1},
        {"account": -1}, {"stp_group": 2**63},
        {"post_only": True, "time_in_force": TimeInForce.IOC},
        {"post_only": True, "is_market": True},
    ])
    def test_nonsense_submit_arguments_raise_value_error(self, change: dict) -> None:
        book = self.book()
        arguments = {"order_id": 1, "account": 1, "client_order_id": "c", "side": BUY,
                     "price": 100, "quantity": 10, **change}
        with pytest.raises(ValueError):
            book.submit(events=[], **arguments)
        assert len(book) == 0
        book._check()

    def test_a_duplicate_order_id_or_a_full_book_raises(self) -> None:
        book = self.book(orders_max=2)
        self.rest(book, 1, BUY, 100, 1)
        with pytest.raises(ValueError):
            self.rest(book, 1, BUY, 99, 1)
        self.rest(book, 2, BUY, 99, 1)
        with pytest.raises(ValueError):
            self.rest(book, 3, SELL, 99, 1)  # would trade, but the book is full: refused
        for orders_max in (0, ORDERS_MAX_LIMIT + 1):
            with pytest.raises(ValueError):
                self.book(orders_max=orders_max)

    # -- snapshot ----------------------------------------------------------------------

    def populated(self):
        book = self.book()
        self.rest(book, 1, BUY, 100, 10, display_quantity=3, stp_group=4,
                  stp_mode=STP.CANCEL_BOTH)
        self.rest(book, 2, BUY, 100, 5, account=2, post_only=True)
        self.rest(book, 3, BUY, 99, 5, account=3)
        self.rest(book, 4, SELL, 103, 6, account=4)
        self.rest(book, 5, SELL, 100, 2, account=5)  # fills 2 of order 1's slice
        return book

    def test_state_round_trips_through_msgpack_and_continues_identically(self) -> None:
        book = self.populated()
        state = book.to_state()
        decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(state))
        restored = self.book_class.from_state(decoded)
        assert restored.to_state() == state
        assert restored.depth(10) == book.depth(10)
        produced = []
        for target in (book, restored):
            events: list = []
            target.submit(9, 9, "x", SELL, 99, 12, events=events)
            target.replace(4, 104, 7, events)
            target._check()
            produced.append(events)
        assert produced[0] == produced[1] and len(produced[0]) > 4
        assert book.to_state() == restored.to_state()

    def test_state_is_shared_by_both_implementations(self) -> None:
        state = self.populated().to_state()
        other = PyOrderBook if self.book_class is not PyOrderBook else (
            CyOrderBook or PyOrderBook)
        assert other.from_state(state).to_state() == state

    def test_a_book_caught_in_a_reference_cycle_is_collected_cleanly(self) -> None:
        """The compiled book cuts its order/level links when freed, even by the cyclic GC."""
        caught: list = []
        hook, sys.unraisablehook = sys.unraisablehook, caught.append
        try:
            for _ in range(3):
                holder: list = [self.populated()]
                holder.append(holder)
                del holder
                gc.collect()
        finally:
            sys.unraisablehook = hook
        assert caught == []

    @pytest.mark.parametrize("corrupt", ["duplicate", "crossed", "visible", "trade_id"])
    def test_inconsistent_state_is_refused(self, corrupt: str) -> None:
        instrument_id, orders_max, next_trade_id, last, orders = self.populated().to_state()
        orders = [list(fields) for fields in orders]
        if corrupt == "duplicate":
            orders[1][0] = orders[0][0]
        elif corrupt == "crossed":
            orders[-1][4] = 90
        elif corrupt == "visible":
            orders[0][6] = 0
        else:
            next_trade_id = 0
        with pytest.raises((ValueError, AssertionError)):
            self.book_class.from_state((instrument_id, orders_max, next_trade_id, last,
                                        [tuple(fields) for fields in orders]))


if CyOrderBook is not None:

    class TestCyOrderBook(TestPyOrderBook):
        book_class = CyOrderBook
