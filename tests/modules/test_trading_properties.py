"""Random command logs through refdata, risk and matching in a real engine (hypothesis).

Each example builds a log: two instruments, funded accounts, then up to 60 random commands
(submits of every type, time in force and STP mode, cancels, replaces, mass cancels, kill
switches, deposits and withdrawals, limits, halts and resumes, timers that expire GTD and
DAY orders). After every entry: the engine has not halted, the events decode back to what
was emitted, ``check_trading`` holds (books, order table, holds), and for every asset the
risk module's totals equal the deposits less the withdrawals reported so far. At the end,
a snapshot taken at any index and restored into fresh modules reproduces the rest of the
chain. Every fifth example runs matching without risk.
"""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from venue.codecs import (
    CancelOrder,
    Deposit,
    EntryKind,
    HaltInstrument,
    LogEntry,
    MassCancel,
    ReplaceOrder,
    ResumeInstrument,
    SetKillSwitch,
    SetRiskLimits,
    SubmitOrder,
    TimerFire,
    Withdraw,
)
from venue.codecs.enums import BalanceReason, OrderType, SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BalanceChanged
from venue.engine import Engine
from venue.engine.modules.matching import MatchingModule
from venue.engine.testing import LogBuilder, check_snapshot_replay

from .trading import BTC, ETH, HOUR_NS, USD, btc_usd, check_trading, eth_usd, make_modules

ACCOUNTS = (1, 2, 3)
INSTRUMENTS = (1, 2)
#: a small grid so that orders cross: instrument 1 has tick 5 around 10,000, 2 tick 1
PRICES = {1: [10_000 + 5 * step for step in range(-4, 5)], 2: list(range(96, 105))}
CLIENT_IDS = ["c1", "c2", "c3"]  # drawn now and then, so that ids collide
FRESH = "fresh"  # replaced by an id of its own (``resolve``)
LIMIT, MARKET, STOP, STOP_LIMIT = OrderType.LIMIT, OrderType.MARKET, OrderType.STOP, \
    OrderType.STOP_LIMIT
GTC, IOC, FOK, DAY, GTD = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, \
    TimeInForce.DAY, TimeInForce.GTD
START_NS = 0  # 1970-01-01: DAY orders expire at 01:00 (``trading.TRADING_DAY_END_NS``)


def funding() -> list:
    commands: list = [btc_usd(1), eth_usd(2)]
    for account in ACCOUNTS:
        commands += [Deposit(account, USD, 3_000_000, "f"), Deposit(account, BTC, 60, "f"),
                     Deposit(account, ETH, 60, "f")]
    return commands


@st.composite
def submits(draw: st.DrawFn) -> SubmitOrder:
    instrument = draw(st.sampled_from(INSTRUMENTS))
    prices = PRICES[instrument]
    order_type = draw(st.sampled_from([LIMIT, LIMIT, LIMIT, MARKET, STOP, STOP_LIMIT]))
    if order_type == MARKET:
        tif = draw(st.sampled_from([IOC, FOK]))
    elif order_type == LIMIT:
        tif = draw(st.sampled_from([GTC, GTC, IOC, FOK, DAY, GTD]))
    else:
        tif = draw(st.sampled_from([GTC, DAY, GTD]))
    price = draw(st.sampled_from(prices))
    if order_type in (MARKET, STOP) and draw(st.booleans()):
        price = 0  # the module computes the protection price
    quantity = draw(st.integers(1, 8))
    display = 0
    if order_type in (LIMIT, STOP_LIMIT) and draw(st.integers(0, 4)) == 0:
        display = draw(st.integers(1, quantity))
    stop_price = draw(st.sampled_from(prices)) if order_type >= STOP else 0
    stp_mode = draw(st.sampled_from(list(SelfTradePrevention)))
    post_only = order_type == LIMIT and tif in (GTC, DAY, GTD) and draw(st.integers(0, 5)) == 0
    return SubmitOrder(
        draw(st.sampled_from(ACCOUNTS)), instrument,
        draw(st.sampled_from([*[FRESH] * 9, *CLIENT_IDS])),
        draw(st.sampled_from([Side.BUY, Side.SELL])), order_type, tif, price, quantity,
        post_only=post_only, display_quantity=display, stop_price=stop_price,
        expire_time_ns=draw(st.integers(0, 40)) * 1_000 if tif == GTD else 0,
        self_trade_group=draw(st.sampled_from([0, 0, 7])), stp_mode=stp_mode)


TARGETS = st.integers(0, 40)  # which open order a cancel or replace names (``resolve``)


@st.composite
def others(draw: st.DrawFn) -> object:
    account = draw(st.sampled_from(ACCOUNTS))
    instrument = draw(st.sampled_from(INSTRUMENTS))
    kind = draw(st.integers(0, 13))
    if kind <= 2:
        return ("cancel", draw(TARGETS), draw(st.booleans()))
    if kind <= 5:
        return ("replace", draw(TARGETS), draw(st.sampled_from([None, None, "c1", "r"])),
                draw(st.integers(0, len(PRICES[1]) - 1)), draw(st.integers(-3, 3)),
                draw(st.sampled_from([0, 0, 2, 5])))
    if kind == 6:
        return MassCancel("m", draw(st.sampled_from([0, account])),
                          draw(st.sampled_from([0, instrument])))
    if kind == 7:
        return SetKillSwitch(account, draw(st.integers(0, 2)) == 0)
    if kind == 8:
        asset = draw(st.sampled_from([USD, BTC, ETH]))
        amount = draw(st.integers(1, 400_000 if asset == USD else 40))
        return (Deposit if draw(st.booleans()) else Withdraw)(account, asset, amount, "t")
    if kind == 9:
        return SetRiskLimits(account, draw(st.sampled_from([0, 6])),
                             draw(st.sampled_from([0, 50_000])), draw(st.sampled_from([0, 3])))
    if kind == 10:
        return (HaltInstrument if draw(st.integers(0, 2)) == 0 else ResumeInstrument)(instrument)
    # a timer: a few microseconds on (GTD orders expire) or past the trading day's end
    return ("timer", draw(st.sampled_from([5_000, 20_000, 40_000, HOUR_NS])))


STEPS = st.lists(st.one_of(submits(), submits(), others()), min_size=15, max_size=60)


def resolve(step: object, matching: MatchingModule, number: int, now_ns: int) -> object:
    """The command a drawn step stands for in the current state. A cancel or replace names
    an open order (by id or client order id) most of the time, else an id that is unknown
    or has finished; a submit's client order id is fresh unless drawn from the pool, and
    its GTD expiry is relative to now."""
    if type(step) is SubmitOrder:
        changes: dict = {}
        if step.client_order_id == FRESH:
            changes["client_order_id"] = f"o{number}"
        if step.expire_time_ns:
            changes["expire_time_ns"] = now_ns + step.expire_time_ns
        return msgspec.structs.replace(step, **changes)
    if not isinstance(step, tuple) or step[0] == "timer":
        return step
    orders = list(matching.table.orders.values())
    target = step[1]
    if not orders or target >= 36:
        order_id, account, instrument, client_order_id, quantity = target, 1, 1, "c1", 5
    else:
        order = orders[target % len(orders)]
        order_id, account, instrument = order.order_id, order.account, order.instrument_id
        client_order_id, quantity = order.client_order_id, order.quantity
    if step[0] == "cancel":
        if step[2]:
            return CancelOrder(account, instrument, "x", order_id=order_id)
        return CancelOrder(account, instrument, "x", orig_client_order_id=client_order_id)
    _, _, new_id, price_index, quantity_change, stop_index = step
    prices = PRICES[instrument]
    new_client_order_id = {None: client_order_id, "r": f"r{number}"}.get(new_id, new_id)
    return ReplaceOrder(account, instrument, new_client_order_id, prices[price_index],
                        max(1, quantity + quantity_change), order_id=order_id,
                        stop_price=prices[stop_index] if stop_index else 0)


def transfers(outcomes: list, totals: dict[int, int]) -> None:
    """Add the deposits and withdrawals ``outcomes`` report to ``totals`` (per asset)."""
    for outcome in outcomes:
        for event in outcome.events:
            if type(event) is BalanceChanged and event.reason in (BalanceReason.DEPOSIT,
                                                                   BalanceReason.WITHDRAW):
                totals[event.asset] = totals.get(event.asset, 0) + event.delta


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, with_risk=st.integers(0, 4).map(bool))
def test_random_logs_keep_every_invariant_and_replay_from_any_snapshot(
        steps: list, with_risk: bool) -> None:
    modules = make_modules(with_risk=with_risk)
    by_name = {module.name: module for module in modules}
    engine = Engine(modules)
    log = LogBuilder(start_ns=START_NS)
    deposited: dict[int, int] = {}

    def apply(entry: LogEntry) -> None:
        applied = engine.apply(entry)
        assert engine.schema.decode_outcomes(applied.event_bytes) == applied.outcomes
        check_trading(by_name)
        if with_risk:
            transfers(applied.outcomes, deposited)
            totals = {asset: total for asset, total in by_name["risk"].totals().items() if total}
            assert totals == {asset: total for asset, total in deposited.items() if total}

    session = log.open("operator")
    apply(log.entries[-1])
    client_seq = 0
    for number, drawn in enumerate([*funding(), *steps], 1):
        step = resolve(drawn, by_name["matching"], number, log.now_ns + log.step_ns)
        if isinstance(step, tuple):  # a timer
            deadline_ns = log.now_ns + step[1]
            apply(log.add(EntryKind.TIMER, msgspec.msgpack.encode(TimerFire(deadline_ns)),
                          at_ns=deadline_ns))
        else:
            client_seq += 1
            apply(log.batch((session, client_seq, step)))
    check_snapshot_replay(lambda: make_modules(with_risk=with_risk), log.entries)
