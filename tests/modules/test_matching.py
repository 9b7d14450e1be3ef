"""The matching and risk modules, through a real engine.

Behaviour is specified by the scenario files ``scenarios/matching_*.txt`` and
``scenarios/risk_*.txt`` (refdata, risk and matching in one engine, the clock starting at
1970-01-01 00:00 UTC so DAY orders expire at the 01:00 timer; see ``trading.py`` for the
instruments and the units). The tests below cover what reads better in Python: matching
without risk, and determinism across engines and across the two book implementations.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from venue.codecs import (
    AddInstrument,
    CancelOrder,
    Deposit,
    EntryKind,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    RejectReason,
    ReplaceOrder,
    SubmitOrder,
    TimerFire,
)
from venue.codecs.enums import OrderType, SelfTradePrevention, Side, TimeInForce
from venue.engine import Engine
from venue.engine.book import CyOrderBook, PyOrderBook
from venue.engine.modules import matching as matching_module
from venue.engine.modules import matching_state
from venue.engine.testing import LogBuilder, apply_all

from .harness import EngineDriver, EngineScenarioRunner, check_scenario
from .trading import BTC, HOUR_NS, USD, btc_usd, check_trading, make_modules

SCENARIOS = sorted([*(Path(__file__).parent / "scenarios").glob("matching_*.txt"),
                    *(Path(__file__).parent / "scenarios").glob("risk_*.txt")])
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, STOP, STOP_LIMIT = (OrderType.LIMIT, OrderType.MARKET, OrderType.STOP,
                                   OrderType.STOP_LIMIT)
GTC, IOC, FOK, DAY, GTD = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                           TimeInForce.DAY, TimeInForce.GTD)


def _depth(modules: dict, instrument_id: int, levels: int = 5) -> object:
    book = modules["matching"].book(instrument_id)
    return "(no book)" if book is None else book.depth(levels)


def _orders_at(modules: dict, instrument_id: int, side: int, price: int) -> list:
    book = modules["matching"].book(instrument_id)
    return [(order.order_id, order.leaves_quantity, order.visible_quantity)
            for order in book.orders_at(Side(side), price)]


QUERIES = {
    "balance": lambda modules, account, asset: modules["risk"].balance(account, asset),
    "totals": lambda modules: modules["risk"].totals(),
    "depth": _depth,
    "queue": _orders_at,  # (order_id, leaves, visible) in priority order
    "open_orders": lambda modules, account: [
        (order.order_id, order.client_order_id, order.price, order.quantity,
         order.leaves_quantity) for order in modules["matching"].open_orders(account)],
    "last_trade_price": lambda modules, instrument_id:
        modules["matching"].last_trade_price(instrument_id),
    "limits": lambda modules, account: modules["risk"].limits(account),
    "kill_switch": lambda modules, account: modules["risk"].kill_switch(account),
}


#: bare names a scenario line may use: sides, order types, times in force, STP modes
NAMES: dict[str, object] = {member.name: member for enum in (
    Side, OrderType, TimeInForce, SelfTradePrevention) for member in enum}
NAMES["STP_NONE"] = NAMES.pop("NONE")


def scenario_modules(path: Path) -> list:
    options = {"orders_max": 6} if path.stem == "matching_rejects" else {}
    return make_modules(**options)


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path: Path) -> None:
    check_scenario(path, EngineScenarioRunner(lambda: scenario_modules(path), QUERIES,
                                              check=check_trading, start_ns=0,
                                              names=NAMES))


def test_every_scenario_file_is_run() -> None:
    """A scenario file whose name matches neither pattern would silently never run."""
    names = sorted(path.name for path in (Path(__file__).parent / "scenarios").glob("*.txt"))
    assert [name for name in names if not name.startswith(("refdata_", "matching_",
                                                             "risk_"))] == []
    assert len(SCENARIOS) >= 10


# -- without risk --------------------------------------------------------------------------


def submit(account: int, client_order_id: str, side: Side, price: int, quantity: int,
           order_type: OrderType = LIMIT, tif: TimeInForce = GTC, **fields: int
           ) -> SubmitOrder:
    return SubmitOrder(account, 1, client_order_id, side, order_type, tif, price, quantity,
                       **fields)


def test_matching_without_risk_needs_no_balances() -> None:
    """Without a risk module there are no pre-trade checks past reference data: unfunded
    accounts trade, and no BalanceChanged appears."""
    modules = make_modules(with_risk=False)
    driver = EngineDriver(modules, start_ns=0)
    driver.submit(btc_usd())
    [accepted, _] = driver.submit(submit(1, "a", SELL, 10_000, 5))
    assert isinstance(accepted, OrderAccepted)
    events = driver.submit(submit(2, "b", BUY, 10_005, 3))
    fills = [event for event in events if isinstance(event, OrderFilled)]
    assert [(fill.price, fill.quantity, fill.maker_leaves_quantity) for fill in fills] == [
        (10_000, 3, 2)]
    assert all(type(event).__name__ != "BalanceChanged" for event in events)
    check_trading({module.name: module for module in modules})


def test_unfunded_order_is_rejected_only_with_risk() -> None:
    for with_risk, expected in ((True, RejectReason.INSUFFICIENT_BALANCE), (False, None)):
        driver = EngineDriver(make_modules(with_risk=with_risk), start_ns=0)
        driver.submit(btc_usd())
        [first, *_] = driver.submit(submit(1, "a", BUY, 10_000, 5))
        reason = first.reason if isinstance(first, OrderRejected) else None
        assert reason == expected


def test_fill_or_kill_on_an_empty_instrument_changes_nothing() -> None:
    """The first order of an instrument, rejected (FOK_NOT_FILLABLE), leaves the matching
    module's snapshot as it was: no empty book is left behind."""
    modules = make_modules(with_risk=False)
    driver = EngineDriver(modules, start_ns=0)
    driver.submit(btc_usd())
    before = modules[-1].take_snapshot()
    [rejected] = driver.submit(submit(1, "a", BUY, 10_000, 5, tif=FOK))
    assert rejected.reason == RejectReason.FOK_NOT_FILLABLE
    assert modules[-1].take_snapshot() == before
    assert modules[-1].book(1) is None


# -- determinism ---------------------------------------------------------------------------


def busy_log() -> LogBuilder:
    """Every kind of order and request, fills, a stop cascade and both kinds of expiry."""
    log = LogBuilder(start_ns=0)
    session = log.open("operator")
    commands: list = [btc_usd()]
    for account in (1, 2, 3):
        commands += [Deposit(account, USD, 10_000_000), Deposit(account, BTC, 500)]
    commands += [
        submit(1, "s1", SELL, 10_010, 12), submit(1, "s2", SELL, 10_020, 9, display_quantity=2),
        submit(2, "b1", BUY, 9_990, 5, tif=DAY), submit(2, "b2", BUY, 9_980, 5, tif=GTD,
                                                        expire_time_ns=60_000),
        submit(3, "st1", BUY, 0, 2, STOP, stop_price=10_010),
        submit(3, "st2", BUY, 10_030, 2, STOP_LIMIT, stop_price=10_020),
        submit(2, "t1", BUY, 10_010, 3, tif=IOC),
        ReplaceOrder(1, 1, "s1b", 10_010, 9, orig_client_order_id="s1"),
        submit(3, "t2", BUY, 10_020, 9, tif=IOC),
        submit(1, "x1", BUY, 10_020, 20, tif=FOK),
        submit(1, "x2", BUY, 9_990, 3, tif=DAY, stp_mode=SelfTradePrevention.CANCEL_OLDEST),
        submit(2, "m1", SELL, 0, 4, MARKET, IOC),
        CancelOrder(2, 1, "c", orig_client_order_id="b1"),
    ]
    for seq, command in enumerate(commands, 1):
        log.batch((session, seq, command))
    for deadline_ns in (70_000, HOUR_NS):
        log.add(EntryKind.TIMER, msgspec.msgpack.encode(TimerFire(deadline_ns)),
                at_ns=deadline_ns)
    return log


def test_the_same_log_gives_the_same_chain_on_two_engines() -> None:
    entries = busy_log().entries
    heads = [apply_all(Engine(make_modules()), entries) for _ in range(2)]
    assert heads[0] == heads[1]
    assert len(set(heads[0])) == len(entries)  # every entry moved the chain


def test_python_and_compiled_books_give_the_same_chain(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    assert CyOrderBook is not None, "the compiled book is not built (tests/test_compiled_twins)"
    entries = busy_log().entries
    compiled = Engine(make_modules())
    compiled_heads = apply_all(compiled, entries)
    monkeypatch.setattr(matching_module, "OrderBook", PyOrderBook)
    monkeypatch.setattr(matching_state, "OrderBook", PyOrderBook)
    python = Engine(make_modules())
    assert apply_all(python, entries) == compiled_heads
    assert type(python.module("matching").book(1)) is PyOrderBook
    assert type(compiled.module("matching").book(1)) is CyOrderBook
    # and a snapshot taken with one book restores into the other
    restored = Engine(make_modules(), snapshot=python.take_snapshot())
    assert restored.take_snapshot() == compiled.take_snapshot()
    check_trading({name: restored.module(name) for name in ("refdata", "risk", "matching")})


def test_busy_log_covers_what_it_claims() -> None:
    """The determinism tests are only as good as their log: it must fill, trigger, refill
    an iceberg, reject, and expire both ways."""
    engine = Engine(make_modules())
    names = [type(event).__name__ for entry in busy_log().entries
             for outcome in engine.apply(entry).outcomes for event in outcome.events]
    for name in ("OrderFilled", "OrderTriggered", "OrderReplaced", "OrderRejected",
                 "OrderExpired", "OrderCancelled", "BalanceChanged"):
        assert name in names, name
    assert names.count("OrderExpired") >= 2


def test_risk_rejects_orders_on_an_instrument_finer_than_its_assets() -> None:
    """USD has 2 decimals here: an instrument priced in 4 decimals of USD cannot be held in
    whole USD units, so risk rejects its orders (INVALID_FIELD) and holds nothing."""
    modules = make_modules()
    driver = EngineDriver(modules, start_ns=0)
    driver.submit(AddInstrument(5, "FINE-USD", BTC, USD, price_decimals=4, quantity_decimals=0))
    driver.submit(Deposit(1, USD, 10**9))
    [rejected] = driver.submit(SubmitOrder(1, 5, "a", BUY, LIMIT, GTC, 10_000, 1))
    assert (rejected.reason, "price_decimals 4" in rejected.text) == (
        RejectReason.INVALID_FIELD, True)
    assert modules[1].balance(1, USD) == (10**9, 0)
