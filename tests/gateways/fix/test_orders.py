"""Inbound order entry: FIX 4.4 D, F, G and q messages into engine commands, and every way
one is refused (``RequestError`` says how FIX answers)."""

from __future__ import annotations

import pytest

from venue.codecs import InstrumentAdded, InstrumentStatus, InstrumentStatusChanged
from venue.codecs.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.codecs.enums import OrderType, Side, TimeInForce
from venue.codecs.events import OrderAccepted
from venue.codecs.tagvalue import FixParser, encode
from venue.gateways.fix.dictionary import DataDictionary
from venue.gateways.fix.execreports import OrderTable
from venue.gateways.fix.orders import (
    RequestError,
    cancel_request,
    mass_cancel_request,
    new_order,
    replace_request,
)
from venue.gateways.fix.orders_rejects import request_reject, session_exception
from venue.gateways.fix.session import FieldReject
from venue.gateways.instruments import Instruments

from .test_execreports import NOW, sent

ACCOUNT = 7
FIX44 = DataDictionary.for_version("FIX.4.4")
TRANSACT = (60, b"20260101-00:00:00")


def instruments() -> Instruments:
    table = Instruments()
    table.on_event(InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4, 1, 1, 1, 0, 0, 0))
    table.on_event(InstrumentAdded(2, "ETH-USD", 3, 1, 2, 0, 5, 1, 1, 0, 0, 0))
    return table


def message(msg_type: bytes, *body: tuple[int, bytes], validate: bool = True):
    """A parsed message; by default it must also pass the FIX 4.4 dictionary, as every
    message does before the application sees it."""
    raw = encode(b"FIX.4.4", [(35, msg_type), (34, b"2"), (49, b"TW44"),
                              (52, b"20260101-00:00:00.000"), (56, b"ISLD"), *body])
    parser = FixParser()
    parser.feed(raw)
    parsed = parser.next()
    assert parsed is not None and not parsed.garbled
    if validate:
        assert FIX44.validate(parsed.fields()) is None, FIX44.validate(parsed.fields())
    return parsed


def order(*extra: tuple[int, bytes], drop: tuple[int, ...] = (), validate: bool = True):
    fields = {11: b"C1", 38: b"1.5", 40: b"2", 44: b"65100.50", 54: b"1", 55: b"BTC-USD",
              60: TRANSACT[1]}
    fields.update(dict(extra))
    for tag in drop:
        fields.pop(tag)
    return message(b"D", *sorted(fields.items()), validate=validate)


def refused(function, msg, account: int = ACCOUNT) -> RequestError:
    with pytest.raises(RequestError) as caught:
        function(msg, account, instruments())
    return caught.value


# -- NewOrderSingle ----------------------------------------------------------------------


def test_limit_order_converts_price_and_quantity_exactly() -> None:
    command = new_order(order(), ACCOUNT, instruments())
    assert command == SubmitOrder(ACCOUNT, 1, "C1", Side.BUY, OrderType.LIMIT,
                                  TimeInForce.DAY, 6510050, 15000)


def test_every_field_maps() -> None:
    command = new_order(order((1, b"7"), (18, b"6"), (54, b"2"), (59, b"6"),
                              (111, b"0.5"), (126, b"20260102-00:00:00")),
                        ACCOUNT, instruments())
    assert (command.side, command.time_in_force, command.post_only) == (
        Side.SELL, TimeInForce.GTD, True)
    assert command.display_quantity == 5000
    assert command.expire_time_ns == 1_767_312_000 * 10**9


@pytest.mark.parametrize(("fix", "tif"), [(b"0", TimeInForce.DAY), (b"1", TimeInForce.GTC),
                                          (b"3", TimeInForce.IOC), (b"4", TimeInForce.FOK)])
def test_time_in_force_maps(fix: bytes, tif: TimeInForce) -> None:
    assert new_order(order((59, fix)), ACCOUNT, instruments()).time_in_force == tif


def test_absent_time_in_force_is_day_but_a_market_order_is_ioc() -> None:
    assert new_order(order(), ACCOUNT, instruments()).time_in_force == TimeInForce.DAY
    market = new_order(order((40, b"1"), drop=(44,)), ACCOUNT, instruments())
    assert (market.order_type, market.time_in_force, market.price) == (
        OrderType.MARKET, TimeInForce.IOC, 0)


def test_market_and_stop_orders_leave_the_protection_price_to_the_engine() -> None:
    """The engine computes a protection price when price is 0; a Price on a market or stop
    order is not passed on."""
    market = new_order(order((40, b"1"), (59, b"4")), ACCOUNT, instruments())
    assert (market.price, market.time_in_force) == (0, TimeInForce.FOK)
    stop = new_order(order((40, b"3"), (59, b"1"), (99, b"64000")), ACCOUNT, instruments())
    assert (stop.order_type, stop.price, stop.stop_price) == (OrderType.STOP, 0, 6400000)
    stop_limit = new_order(order((40, b"4"), (99, b"64000.5")), ACCOUNT, instruments())
    assert (stop_limit.price, stop_limit.stop_price) == (6510050, 6400050)


def test_more_decimals_than_the_instrument_allows_is_refused_not_rounded() -> None:
    error = refused(new_order, order((44, b"65100.505")))
    assert error.answer == "execution_report" and error.ord_rej_reason == 99
    assert error.text == "Price 65100.505 has more than 2 decimals"
    assert error.cl_ord_id == b"C1"
    error = refused(new_order, order((38, b"0.00001")))
    assert (error.answer, error.ord_rej_reason) == ("execution_report", 13)
    assert error.text == "OrderQty 0.00001 has more than 4 decimals"


def test_trailing_zeros_beyond_the_decimals_are_exact() -> None:
    assert new_order(order((44, b"65100.5000")), ACCOUNT, instruments()).price == 6510050


def test_a_value_that_is_not_a_decimal_is_a_session_reject() -> None:
    """QuickFIX's validator refuses "1e5" as a PRICE; so does the translation."""
    error = refused(new_order, order((44, b"1e5"), validate=False))
    assert (error.answer, error.session_reason, error.ref_tag) == ("session_reject", 6, 44)


def test_unknown_symbol_is_ord_rej_reason_1() -> None:
    error = refused(new_order, order((55, b"DOGE-USD")))
    assert (error.answer, error.ord_rej_reason, error.text) == (
        "execution_report", 1, "Unknown symbol DOGE-USD")


def test_a_foreign_account_is_refused() -> None:
    error = refused(new_order, order((1, b"8")))
    assert (error.answer, error.ord_rej_reason) == ("execution_report", 15)
    assert "Account 8" in error.text


def test_the_command_always_carries_the_sessions_account() -> None:
    assert new_order(order(), 42, instruments()).account == 42
    with pytest.raises(ValueError):
        new_order(order(), 0, instruments())  # account 0 would mean every account


@pytest.mark.parametrize(("tag", "value"), [(54, b"5"), (40, b"P"), (59, b"2"),
                                            (18, b"G"), (18, b"6 G")])
def test_unsupported_values_are_ord_rej_reason_11(tag: int, value: bytes) -> None:
    error = refused(new_order, order((tag, value)))
    assert (error.answer, error.ord_rej_reason) == ("execution_report", 11)


def test_conditionally_required_fields() -> None:
    for msg, text in ((order(drop=(44,)), "Price(44) is required for OrdType LIMIT"),
                      (order((40, b"3")), "StopPx(99) is required for OrdType STOP"),
                      (order((59, b"6")), "ExpireTime(126) is required for TimeInForce GTD"),
                      (order(drop=(38,)), "OrderQty(38) is required")):
        error = refused(new_order, msg)
        assert (error.answer, error.text) == ("execution_report", text)


def test_malformed_expire_time_is_a_session_reject() -> None:
    error = refused(new_order, order((59, b"6"), (126, b"2026-01-02"), validate=False))
    assert (error.answer, error.session_reason, error.ref_tag) == ("session_reject", 6, 126)


def test_missing_cl_ord_id_is_a_session_reject() -> None:
    error = refused(new_order, order(drop=(11,), validate=False))
    assert (error.answer, error.session_reason, error.ref_tag) == ("session_reject", 1, 11)


def test_an_open_instrument_is_not_required_the_engine_decides() -> None:
    table = instruments()
    table.on_event(InstrumentStatusChanged(1, InstrumentStatus.HALTED))
    assert new_order(order(), ACCOUNT, table).instrument_id == 1


# -- OrderCancelRequest ------------------------------------------------------------------


def cancel(*extra: tuple[int, bytes]):
    fields = {11: b"X1", 38: b"1.5", 41: b"C1", 54: b"1", 55: b"BTC-USD", 60: TRANSACT[1]}
    fields.update(dict(extra))
    return message(b"F", *sorted(fields.items()))


def test_cancel_by_orig_cl_ord_id() -> None:
    assert cancel_request(cancel(), ACCOUNT, instruments()) == CancelOrder(
        ACCOUNT, 1, "X1", order_id=0, orig_client_order_id="C1")


def test_cancel_passes_a_numeric_order_id_to_the_engine() -> None:
    assert cancel_request(cancel((37, b"12")), ACCOUNT, instruments()).order_id == 12
    assert cancel_request(cancel((37, b"NONE")), ACCOUNT, instruments()).order_id == 0
    assert cancel_request(cancel((37, b"%d" % 2**63)), ACCOUNT, instruments()).order_id == 0


def test_cancel_rejects_are_cancel_rejects() -> None:
    error = refused(cancel_request, cancel((55, b"DOGE-USD")))
    assert (error.answer, error.cxl_rej_reason, error.response_to) == ("cancel_reject", 1, 1)
    assert (error.cl_ord_id, error.orig_cl_ord_id) == (b"X1", b"C1")
    error = refused(cancel_request, cancel((1, b"70")))
    assert (error.answer, error.cxl_rej_reason) == ("cancel_reject", 99)


# -- OrderCancelReplaceRequest -----------------------------------------------------------


def replace(*extra: tuple[int, bytes], drop: tuple[int, ...] = ()):
    fields = {11: b"C2", 38: b"2", 40: b"2", 41: b"C1", 44: b"65000", 54: b"1",
              55: b"BTC-USD", 60: TRANSACT[1]}
    fields.update(dict(extra))
    for tag in drop:
        fields.pop(tag)
    return message(b"G", *sorted(fields.items()))


def test_replace_takes_the_new_total_quantity() -> None:
    assert replace_request(replace((37, b"3")), ACCOUNT, instruments()) == ReplaceOrder(
        ACCOUNT, 1, "C2", 6500000, 20000, order_id=3, orig_client_order_id="C1")


def test_replace_of_a_stop_carries_the_new_stop_price() -> None:
    command = replace_request(replace((40, b"3"), (99, b"64000"), drop=(44,)), ACCOUNT,
                              instruments())
    assert (command.price, command.stop_price) == (0, 6400000)


def test_replace_rejects_are_cancel_rejects_in_response_to_a_replace() -> None:
    for msg, reason in ((replace((44, b"65000.001")), 99), (replace(drop=(44,)), 99),
                        (replace((55, b"DOGE-USD")), 1), (replace((1, b"8")), 99)):
        error = refused(replace_request, msg)
        assert (error.answer, error.cxl_rej_reason, error.response_to) == (
            "cancel_reject", reason, 2)


# -- OrderMassCancelRequest --------------------------------------------------------------


def mass(*extra: tuple[int, bytes], validate: bool = True):
    fields = {11: b"M1", 530: b"7", 60: TRANSACT[1]}
    fields.update(dict(extra))
    return message(b"q", *sorted(fields.items()), validate=validate)


def test_mass_cancel_of_all_orders_and_of_one_security() -> None:
    assert mass_cancel_request(mass(), ACCOUNT, instruments()) == MassCancel(
        "M1", account=ACCOUNT, instrument_id=0)
    by_symbol = mass_cancel_request(mass((530, b"1"), (55, b"ETH-USD")), ACCOUNT,
                                    instruments())
    assert (by_symbol.account, by_symbol.instrument_id) == (ACCOUNT, 2)


def test_mass_cancel_rejects() -> None:
    error = refused(mass_cancel_request, mass((530, b"3")))
    assert (error.answer, error.mass_cancel_reject_reason) == ("mass_cancel_reject", 0)
    error = refused(mass_cancel_request, mass((530, b"1"), (55, b"DOGE-USD")))
    assert (error.answer, error.mass_cancel_reject_reason) == ("mass_cancel_reject", 1)
    # FIX 4.4 defines no Account on a q; should a session's dictionary allow one anyway:
    error = refused(mass_cancel_request, mass((1, b"8"), validate=False))
    assert (error.answer, error.mass_cancel_reject_reason) == ("mass_cancel_reject", 99)


# -- answering a refused request ---------------------------------------------------------


def answer(function, msg, table: OrderTable | None = None) -> dict[int, bytes]:
    report = request_reject(refused(function, msg), msg, ACCOUNT, NOW, b"R-1", table)
    assert report is not None and report.account == ACCOUNT
    return {35: report.msg_type, **sent(report)}


def test_a_refused_order_is_answered_by_a_rejected_execution_report() -> None:
    report = answer(new_order, order((44, b"65100.505")))
    assert (report[35], report[150], report[39], report[103]) == (b"8", b"8", b"8", b"99")
    assert (report[11], report[17], report[37], report[44], report[54], report[38]) == (
        b"C1", b"R-1", b"NONE", b"65100.505", b"1", b"1.5")
    assert report[58] == b"Price 65100.505 has more than 2 decimals"
    assert answer(new_order, order((55, b"DOGE-USD")))[103] == b"1"


def test_a_refused_cancel_is_answered_by_an_order_cancel_reject() -> None:
    report = answer(cancel_request, cancel((1, b"70")))
    assert (report[35], report[434], report[102], report[39], report[41], report[37]) == (
        b"9", b"1", b"99", b"8", b"C1", b"NONE")
    table = OrderTable({ACCOUNT})
    table.add(OrderAccepted(4, ACCOUNT, 1, "C1", Side.BUY, OrderType.LIMIT, TimeInForce.GTC,
                            6510050, 15000))
    known = answer(replace_request, replace((44, b"1.001")), table)
    assert (known[434], known[39], known[37], known[11]) == (b"2", b"0", b"4", b"C2")


def test_a_refused_mass_cancel_is_answered_by_a_rejected_report() -> None:
    report = answer(mass_cancel_request, mass((530, b"3")))
    assert (report[35], report[530], report[531], report[532], report[11]) == (
        b"r", b"3", b"0", b"0", b"M1")


def test_session_rejects_are_left_to_the_session_layer() -> None:
    msg = order((44, b"1e5"), validate=False)
    error = refused(new_order, msg)
    assert request_reject(error, msg, ACCOUNT, NOW, b"R-1") is None
    exception = session_exception(error)
    assert isinstance(exception, FieldReject) and (exception.reason, exception.tag) == (6, 44)
    assert session_exception(refused(new_order, order((1, b"8")))) is None
