"""The reference data module, through a real engine.

Most behaviour is specified by the scenario files in ``scenarios/refdata_*.txt`` (run by
``test_scenario``); the tests below cover what reads better in Python: limits that take long
values, snapshots, configuration, and a property test of the band arithmetic.
"""

from __future__ import annotations

import doctest
from fractions import Fraction
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from venue.codecs import (
    AddInstrument,
    CloseInstrument,
    CommandRejected,
    HaltInstrument,
    InstrumentAdded,
    InstrumentStatus,
    InstrumentStatusChanged,
    RejectReason,
    ResumeInstrument,
    SetReferencePrice,
)
from venue.engine import SnapshotError, load_modules
from venue.engine.modules import instrument as instrument_rules
from venue.engine.modules import refdata
from venue.engine.modules.refdata import (
    HALT_REASON_LENGTH_MAX,
    Instrument,
    ReferenceDataModule,
)

from .harness import EngineDriver, ScenarioRunner, check_scenario

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("refdata_*.txt"))
QUERIES = ("instrument", "by_symbol", "instruments", "check_order", "price_band", "summary")
BTC, ETH, SOL = 1, 2, 3


def btc(instrument_id: int = BTC, symbol: str = "BTC-USD") -> AddInstrument:
    return AddInstrument(instrument_id, symbol, 2, 1, price_decimals=2, quantity_decimals=4,
                         tick_size=50, lot_size=10, min_quantity=10, max_quantity=1_000_000,
                         price_band_bps=500, reference_price=6_500_000)


def simple(instrument_id: int, symbol: str) -> AddInstrument:
    return AddInstrument(instrument_id, symbol, 3, 1, price_decimals=2, quantity_decimals=3)


def started(*commands: AddInstrument, **options: int) -> tuple[EngineDriver, ReferenceDataModule]:
    module = ReferenceDataModule(**options)
    driver = EngineDriver([module])
    for command in commands:
        [event] = driver.submit(command)
        assert isinstance(event, InstrumentAdded), event
    return driver, module


def rejection(driver: EngineDriver, module: ReferenceDataModule, command: object
              ) -> CommandRejected:
    """Submit a command that must be rejected; assert it changed nothing."""
    before = module.take_snapshot()
    [event] = driver.submit(command)
    assert isinstance(event, CommandRejected), event
    assert event.command_tag == command.__struct_config__.tag
    assert event.instrument_id == command.instrument_id
    assert event.text
    assert module.take_snapshot() == before
    module._check()
    return event


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path: Path) -> None:
    check_scenario(path, ScenarioRunner(ReferenceDataModule, QUERIES))


def test_scenario_files_exist() -> None:
    assert len(SCENARIOS) >= 4


def test_docstring_example_runs() -> None:
    for python_module in (refdata, instrument_rules):
        result = doctest.testmod(python_module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0


# -- every reject reason, and that it changes nothing ------------------------------------


def _venue_with_each_status() -> tuple[EngineDriver, ReferenceDataModule]:
    """BTC-USD open, ETH-USD halted, SOL-USD closed."""
    driver, module = started(btc(), simple(ETH, "ETH-USD"), simple(SOL, "SOL-USD"))
    driver.submit(HaltInstrument(ETH))
    driver.submit(CloseInstrument(SOL))
    return driver, module


REJECTS = [
    (HaltInstrument(99), RejectReason.UNKNOWN_INSTRUMENT),
    (ResumeInstrument(99), RejectReason.UNKNOWN_INSTRUMENT),
    (CloseInstrument(99), RejectReason.UNKNOWN_INSTRUMENT),
    (SetReferencePrice(99, 100), RejectReason.UNKNOWN_INSTRUMENT),
    (btc(), RejectReason.DUPLICATE_INSTRUMENT),
    (btc(instrument_id=9), RejectReason.DUPLICATE_INSTRUMENT),
    (btc(symbol="BTC-USD-2"), RejectReason.DUPLICATE_INSTRUMENT),
    (simple(9, "SOL-USD"), RejectReason.DUPLICATE_INSTRUMENT),
    (simple(9, ""), RejectReason.INVALID_FIELD),
    (msgspec.structs.replace(btc(9, "X"), tick_size=0), RejectReason.INVALID_FIELD),
    (SetReferencePrice(BTC, 6_500_001), RejectReason.INVALID_FIELD),
    (SetReferencePrice(BTC, -50), RejectReason.INVALID_FIELD),
    (HaltInstrument(BTC, "x" * (HALT_REASON_LENGTH_MAX + 1)), RejectReason.INVALID_FIELD),
    (HaltInstrument(ETH), RejectReason.INVALID_STATE_TRANSITION),
    (HaltInstrument(SOL), RejectReason.INVALID_STATE_TRANSITION),
    (ResumeInstrument(BTC), RejectReason.INVALID_STATE_TRANSITION),
    (ResumeInstrument(SOL), RejectReason.INVALID_STATE_TRANSITION),
    (CloseInstrument(SOL), RejectReason.INVALID_STATE_TRANSITION),
    (SetReferencePrice(SOL, 100), RejectReason.INSTRUMENT_CLOSED),
]


@pytest.mark.parametrize(("command", "reason"), REJECTS,
                         ids=[f"{type(c).__name__}-{r.name}" for c, r in REJECTS])
def test_a_rejected_command_changes_nothing(command: object, reason: RejectReason) -> None:
    driver, module = _venue_with_each_status()
    assert rejection(driver, module, command).reason == reason


def test_instruments_max_is_reached_and_closed_instruments_count() -> None:
    driver, module = started(btc(), simple(ETH, "ETH-USD"), instruments_max=2)
    driver.submit(CloseInstrument(ETH))
    event = rejection(driver, module, simple(SOL, "SOL-USD"))
    assert event.reason == RejectReason.LIMIT_REACHED
    assert "instruments_max 2" in event.text


def test_a_halt_reason_may_be_as_long_as_the_limit() -> None:
    driver, _ = started(btc())
    reason = "x" * HALT_REASON_LENGTH_MAX
    assert driver.submit(HaltInstrument(BTC, reason)) == [
        InstrumentStatusChanged(BTC, InstrumentStatus.HALTED, reason)]


def test_symbol_length_max_is_configurable() -> None:
    driver, module = started(symbol_length_max=7)
    assert isinstance(driver.submit(btc(symbol="BTC-USD"))[0], InstrumentAdded)
    event = rejection(driver, module, btc(instrument_id=2, symbol="BTC-USDT"))
    assert event.reason == RejectReason.INVALID_FIELD
    assert "1 to 7 printable ASCII" in event.text


@pytest.mark.parametrize("options", [{"instruments_max": 0}, {"instruments_max": True},
                                     {"symbol_length_max": 0}, {"symbol_length_max": "32"}])
def test_the_constructor_refuses_limits_that_are_not_positive_integers(options: dict) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReferenceDataModule(**options)


def test_it_loads_by_dotted_path_with_options() -> None:
    spec = "venue.engine.modules.refdata:ReferenceDataModule"
    [module] = load_modules([spec], {spec: {"instruments_max": 3}})
    assert isinstance(module, ReferenceDataModule) and module.instruments_max == 3


# -- records ---------------------------------------------------------------------------------


def test_record_command_and_event_share_their_fields_in_order() -> None:
    """``_add`` builds the record and the event from the command's fields by position."""
    names = [field.name for field in msgspec.structs.fields(AddInstrument)]
    assert [f.name for f in msgspec.structs.fields(InstrumentAdded)] == names
    assert [f.name for f in msgspec.structs.fields(Instrument)] == [*names, "status"]


def test_a_record_held_by_a_caller_never_changes() -> None:
    driver, module = started(btc())
    held = module.instrument(BTC)
    with pytest.raises(AttributeError):
        held.status = InstrumentStatus.HALTED
    driver.submit(HaltInstrument(BTC))
    driver.submit(SetReferencePrice(BTC, 6_600_000))
    assert (held.status, held.reference_price) == (InstrumentStatus.OPEN, 6_500_000)
    current = module.instrument(BTC)
    assert (current.status, current.reference_price) == (InstrumentStatus.HALTED, 6_600_000)
    assert module.by_symbol("BTC-USD") is current


# -- snapshots -------------------------------------------------------------------------------


def test_a_restored_engine_continues_exactly_like_the_original() -> None:
    driver, module = _venue_with_each_status()
    driver.submit(SetReferencePrice(BTC, 6_400_000))
    restored = ReferenceDataModule()
    follower = EngineDriver([restored], snapshot=driver.engine.take_snapshot(),
                            session_id=driver.session_id)
    assert restored.take_snapshot() == module.take_snapshot()
    assert restored.instruments() == module.instruments()
    assert restored.summary() == module.summary() == {
        "instruments": 3, "open": 1, "halted": 1, "closed": 1}
    assert restored.by_symbol("ETH-USD") == module.by_symbol("ETH-USD")
    assert restored.check_order(BTC, 6_720_000, 10, True) is None
    assert restored.check_order(BTC, 6_720_050, 10, True) == RejectReason.PRICE_OUT_OF_BAND
    # the same next entries give the same events and the same chain head
    assert (follower.index, follower.client_seq) == (driver.index, driver.client_seq)
    for command in (ResumeInstrument(ETH), simple(4, "DOGE-USD"), ResumeInstrument(SOL)):
        assert follower.submit(command) == driver.submit(command)
        assert follower.engine.chain.head == driver.engine.chain.head


def test_snapshot_bytes_depend_on_the_state_not_on_the_order_of_listing() -> None:
    _, forward = started(btc(), simple(ETH, "ETH-USD"), simple(SOL, "SOL-USD"))
    _, backward = started(simple(SOL, "SOL-USD"), simple(ETH, "ETH-USD"), btc())
    assert forward.take_snapshot() == backward.take_snapshot()


def test_an_empty_module_round_trips() -> None:
    module = ReferenceDataModule()
    module.on_start(module.take_snapshot())
    assert module.instruments() == [] and module.summary()["instruments"] == 0


def _record(instrument_id: int, symbol: str) -> Instrument:
    fields = msgspec.structs.astuple(simple(instrument_id, symbol))
    return Instrument(*fields, InstrumentStatus.OPEN)


@pytest.mark.parametrize(("rows", "message"), [
    ([_record(1, "A"), _record(2, "A")], "symbols are not unique"),
    ([_record(2, "B"), _record(1, "A")], "not strictly increasing"),
    ([_record(1, "A"), _record(1, "B")], "not strictly increasing"),
    ([_record(1, "BAD SYMBOL")], "printable ASCII"),
])
def test_a_snapshot_that_breaks_an_invariant_is_refused(rows: list, message: str) -> None:
    data = msgspec.msgpack.encode(rows)
    with pytest.raises(SnapshotError, match=message):
        ReferenceDataModule().on_start(data)


def test_a_snapshot_that_does_not_decode_is_refused() -> None:
    with pytest.raises(SnapshotError, match="does not decode"):
        ReferenceDataModule().on_start(b"\x91\x01")


# -- the band, against a deliberately simple model ---------------------------------------


@given(tick_size=st.integers(1, 1_000), reference_ticks=st.integers(1, 100_000),
       band_bps=st.integers(1, 30_000), price_ticks=st.integers(1, 200_000))
def test_the_band_check_matches_exact_rational_arithmetic(
        tick_size: int, reference_ticks: int, band_bps: int, price_ticks: int) -> None:
    reference, price = reference_ticks * tick_size, price_ticks * tick_size
    record = Instrument(1, "X", 2, 1, 0, 0, tick_size, 1, 1, 0, band_bps, reference,
                        InstrumentStatus.OPEN)
    inside = abs(Fraction(price, reference) - 1) <= Fraction(band_bps, 10_000)
    assert instrument_rules.within_band(record, price) == inside
    low, high = instrument_rules.band_limits(record)
    assert (low <= price <= high) == inside
    assert low % tick_size == 0 and high % tick_size == 0
    assert instrument_rules.within_band(record, low)
    assert instrument_rules.within_band(record, high)
    assert not instrument_rules.within_band(record, high + tick_size)
    assert low == tick_size or not instrument_rules.within_band(record, low - tick_size)


# -- the harness catches what it claims to catch -----------------------------------------


def test_a_wrong_expectation_fails_with_a_diff(tmp_path: Path) -> None:
    text = SCENARIOS[0].read_text().replace("status=OPEN", "status=HALTED", 1)
    path = tmp_path / "refdata_wrong.txt"
    path.write_text(text)
    with pytest.raises(AssertionError, match=r"(?s)-Instrument\(.*status=HALTED"):
        check_scenario(path, ScenarioRunner(ReferenceDataModule, QUERIES))


class _LeakyModule(ReferenceDataModule):
    """A broken module: rejects a halt after changing the reference price."""

    def on_command(self, ctx, command) -> None:
        if isinstance(command, HaltInstrument) and command.reason == "leak":
            self._store(msgspec.structs.replace(self.instrument(BTC), reference_price=50))
        super().on_command(ctx, command)


def test_a_reject_that_changes_state_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "refdata_leak.txt"
    path.write_text(f"{btc()!r}\nHaltInstrument(1)\nHaltInstrument(1, reason='leak')\n")
    with pytest.raises(AssertionError, match="changed the state"):
        check_scenario(path, ScenarioRunner(_LeakyModule, QUERIES))
