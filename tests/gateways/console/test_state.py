"""The console's folding core: the state it shows, from the events of the stream."""

from __future__ import annotations

from venue.codecs import (
    BookLevelChanged,
    CancelReason,
    InstrumentAdded,
    InstrumentStatus,
    InstrumentStatusChanged,
    KillSwitchSet,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderReplaced,
    OrderType,
    Side,
    TimeInForce,
)
from venue.codecs.schema import Outcome
from venue.gateways.console.config import Limits
from venue.gateways.console.state import ConsoleState

BTC, ETH = 1, 2


def _listed(limits: Limits | None = None) -> ConsoleState:
    state = ConsoleState(limits or Limits())
    state.apply(1, [Outcome(1, 1, [
        InstrumentAdded(BTC, "BTC-USD", 2, 1, 2, 4, 1, 1, 1, 10**8, 0, 0),
        InstrumentAdded(ETH, "ETH-USD", 3, 1, 2, 3, 1, 1, 1, 10**8, 0, 0)])])
    return state


def _accepted(order_id: int, account: int, side: Side, price: int, quantity: int,
              instrument: int = BTC) -> OrderAccepted:
    return OrderAccepted(order_id, account, instrument, f"c{order_id}", side, OrderType.LIMIT,
                         TimeInForce.GTC, price, quantity)


def _fill(trade_id: int, price: int, quantity: int, maker: tuple[int, int, int],
          taker: tuple[int, int, int]) -> OrderFilled:
    """maker/taker: (order id, account, leaves quantity after the fill)."""
    return OrderFilled(trade_id, BTC, price, quantity, Side.BUY, maker[0], maker[1],
                       f"c{maker[0]}", maker[2], taker[0], taker[1], f"c{taker[0]}", taker[2])


def test_instruments_start_open_and_follow_status_changes_with_exact_last_prices() -> None:
    state = _listed()
    assert [(i["symbol"], i["status"], i["last_price"]) for i in state.instruments_view()] == [
        ("BTC-USD", "OPEN", ""), ("ETH-USD", "OPEN", "")]
    state.apply(2, [Outcome(1, 2, [InstrumentStatusChanged(BTC, InstrumentStatus.HALTED)])])
    state.apply(3, [Outcome(1, 3, [_fill(1, 6_500_005, 1, (1, 101, 0), (2, 102, 0))])])
    assert [(i["status"], i["last_price"]) for i in state.instruments_view()] == [
        ("HALTED", "65000.05"), ("OPEN", "")]
    assert state.position == 3


def test_the_book_keeps_levels_best_first_and_drops_emptied_ones_up_to_the_depth() -> None:
    state = _listed(Limits(depth_levels=2))
    state.apply(2, [Outcome(1, 2, [
        BookLevelChanged(BTC, Side.BUY, 6_500_000, 10_000, 1),
        BookLevelChanged(BTC, Side.BUY, 6_499_000, 20_000, 2),
        BookLevelChanged(BTC, Side.BUY, 6_498_000, 5, 1),
        BookLevelChanged(BTC, Side.SELL, 6_510_000, 5_000, 1),
        BookLevelChanged(BTC, Side.SELL, 6_505_000, 1, 1)])])
    book = state.book_view(BTC)
    assert book is not None
    assert book["bids"] == [["65000.00", "1.0000", 1], ["64990.00", "2.0000", 2]]
    assert book["offers"] == [["65050.00", "0.0001", 1], ["65100.00", "0.5000", 1]]
    state.apply(3, [Outcome(1, 3, [BookLevelChanged(BTC, Side.SELL, 6_505_000, 0, 0)])])
    assert state.book_view(BTC)["offers"] == [["65100.00", "0.5000", 1]]
    assert state.book_view(ETH) == {"instrument_id": ETH, "symbol": "ETH-USD",
                                    "status": "OPEN", "bids": [], "offers": []}
    assert state.book_view(99) is None


def test_open_orders_follow_accept_fill_replace_cancel_and_expiry() -> None:
    state = _listed()
    state.apply(2, [Outcome(1, 2, [_accepted(1, 101, Side.BUY, 6_500_000, 30_000),
                                   _accepted(2, 101, Side.BUY, 6_400_000, 10_000),
                                   _accepted(3, 101, Side.BUY, 6_300_000, 10_000),
                                   _accepted(4, 102, Side.SELL, 6_600_000, 10_000)])])
    state.apply(3, [Outcome(2, 1, [_accepted(5, 102, Side.SELL, 6_500_000, 10_000),
                                   _fill(1, 6_500_000, 10_000, (1, 101, 20_000),
                                         (5, 102, 0))])])
    state.apply(4, [Outcome(1, 3, [OrderReplaced(2, 101, BTC, "c2b", "c2", 6_450_000, 4_000,
                                                 4_000, False)])])
    state.apply(5, [Outcome(1, 4, [OrderCancelled(3, 101, BTC, "c3", CancelReason.USER,
                                                  10_000)])])
    view = state.orders_view(101)
    assert [(o["order_id"], o["client_order_id"], o["price"], o["leaves_quantity"])
            for o in view["orders"]] == [(1, "c1", "65000.00", "2.0000"),
                                         (2, "c2b", "64500.00", "0.4000")]
    assert view["open_orders"] == 2 and not view["kill_switch"]
    assert [o["order_id"] for o in state.orders_view(102)["orders"]] == [4]
    state.apply(6, [Outcome(0, 0, [OrderExpired(4, 102, BTC, "c4", 10_000)])])
    assert state.orders_view(102)["orders"] == [] and state.open_orders == 2
    trade = state.trades_view()[0]
    assert (trade["symbol"], trade["price"], trade["quantity"], trade["position"]) == (
        "BTC-USD", "65000.00", "1.0000", 3)


def test_recent_trades_are_bounded_and_newest_first() -> None:
    state = _listed(Limits(trades_kept=3))
    for trade_id in range(1, 8):
        state.apply(1 + trade_id, [Outcome(1, trade_id, [
            _fill(trade_id, 6_500_000 + trade_id, 1, (10, 101, 5), (20, 102, 0))])])
    assert [t["trade_id"] for t in state.trades_view()] == [7, 6, 5]
    assert state.instruments_view()[0]["last_price"] == "65000.07"


def test_open_orders_past_the_limit_are_not_tracked_and_the_view_says_so() -> None:
    state = _listed(Limits(open_orders_max=2, open_orders_shown_max=1))
    state.apply(2, [Outcome(1, 1, [_accepted(n, 101, Side.BUY, 6_000_000 + n, 1)
                                   for n in range(1, 5)])])
    view = state.orders_view(101)
    assert view["open_orders"] == 2 and len(view["orders"]) == 1 and view["truncated"]
    state.apply(3, [Outcome(1, 2, [OrderCancelled(1, 101, BTC, "c1", CancelReason.USER, 1)])])
    assert state.open_orders == 1


def test_the_kill_switch_of_an_account_is_shown_with_its_orders() -> None:
    state = _listed()
    assert state.orders_view(101)["kill_switch"] is False
    state.apply(2, [Outcome(1, 1, [KillSwitchSet(101, True)])])
    assert state.orders_view(101)["kill_switch"] is True
    state.apply(3, [Outcome(1, 2, [KillSwitchSet(101, False)])])
    assert state.orders_view(101)["kill_switch"] is False
