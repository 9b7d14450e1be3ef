"""Outbound order entry: event sequences into ExecutionReports, OrderCancelRejects and
OrderMassCancelReports. Every report built here is encoded, parsed back and validated
against QuickFIX's FIX 4.4 dictionary (``sent``), as a real FIX client would."""

from __future__ import annotations

from fractions import Fraction

from venue.codecs import InstrumentAdded
from venue.codecs.commands import CancelOrder, ReplaceOrder, SubmitOrder
from venue.codecs.enums import CancelReason, OrderType, RejectReason, RequestKind, Side
from venue.codecs.enums import TimeInForce as Tif
from venue.codecs.events import (
    MassCancelCompleted,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
)
from venue.codecs.tagvalue import FixParser, encode
from venue.gateways.fix.dictionary import DataDictionary
from venue.gateways.fix.execreports import OrderTable, Report, reports, status_report
from venue.gateways.fix.fixtime import format_utc
from venue.gateways.fix.orders import new_order, replace_request
from venue.gateways.instruments import Instruments

from ...modules.harness import EngineDriver
from ...modules.trading import btc_usd, make_modules

FIX44 = DataDictionary.for_version("FIX.4.4")
NOW = b"20260101-00:00:01.000"
MAKER, TAKER = 7, 8
REQUIRED_ER_TAGS = {1, 6, 11, 14, 17, 37, 38, 39, 40, 54, 55, 59, 60, 150, 151}


def instruments() -> Instruments:
    table = Instruments()
    table.on_event(InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4, 1, 1, 1, 0, 0, 0))
    return table


def sent(report: Report, complete: bool = True) -> dict[int, bytes]:
    """``report`` as a client receives it: encoded, parsed, valid FIX 4.4; its body by tag.
    An ER must be ``complete`` (carry every field the gateway promises) unless it answers
    a status request for an order the gateway cannot name."""
    tags = [tag for tag, _ in report.body]
    assert tags == sorted(tags), "the body is in tag order"
    raw = encode(b"FIX.4.4", [(35, report.msg_type), (34, b"2"), (49, b"ISLD"),
                              (52, b"20260101-00:00:00.000"), (56, b"TW44"), *report.body])
    parser = FixParser()
    parser.feed(raw)
    message = parser.next()
    assert message is not None and not message.garbled
    assert FIX44.validate(message.fields()) is None, FIX44.validate(message.fields())
    if report.msg_type == b"8" and complete:
        assert REQUIRED_ER_TAGS <= set(tags), REQUIRED_ER_TAGS - set(tags)
    return dict(report.body)


def run(table: OrderTable, *events, position: int = 5) -> list[dict[int, bytes]]:
    out = reports(position, list(events), table, instruments(), NOW)
    table._check()
    return [sent(report) for report in out]


def accepted(order_id: int = 1, account: int = MAKER, client_order_id: str = "C1",
             side: Side = Side.BUY, order_type: OrderType = OrderType.LIMIT,
             tif: Tif = Tif.GTC, price: int = 6510050, quantity: int = 30000,
             stop_price: int = 0) -> OrderAccepted:
    return OrderAccepted(order_id, account, 1, client_order_id, side, order_type, tif, price,
                         quantity, stop_price)


def fill(price: int, quantity: int, maker_leaves: int, taker_leaves: int = 0,
         trade_id: int = 1) -> OrderFilled:
    return OrderFilled(trade_id, 1, price, quantity, Side.SELL, 1, MAKER, "C1", maker_leaves,
                       2, TAKER, "T1", taker_leaves)


def test_accept_is_exec_type_new_with_every_field() -> None:
    [report] = run(OrderTable({MAKER}), accepted())
    assert report == {1: b"7", 6: b"0", 11: b"C1", 14: b"0.0000", 17: b"5-0", 37: b"1",
                      38: b"3.0000", 39: b"0", 40: b"2", 44: b"65100.50", 54: b"1",
                      55: b"BTC-USD", 59: b"1", 60: NOW, 150: b"0", 151: b"3.0000"}


def test_partial_then_full_fill_with_exact_average_price() -> None:
    """1 at 65100.50 then 2 at 65100.00: AvgPx 65100.1666..., exactly rounded."""
    table = OrderTable({MAKER})
    run(table, accepted())
    [partial] = run(table, fill(6510050, 10000, 20000))
    assert (partial[150], partial[39], partial[31], partial[32]) == (
        b"F", b"1", b"65100.50", b"1.0000")
    assert (partial[14], partial[151], partial[6]) == (b"1.0000", b"2.0000", b"65100.500000")
    [full] = run(table, fill(6510000, 20000, 0, trade_id=2), position=6)
    average = Fraction(6510050 * 1 + 6510000 * 2, 3) / 100
    assert full[6] == b"65100.166667" and abs(Fraction(full[6].decode()) - average) < \
        Fraction(1, 10**6)
    assert (full[39], full[14], full[151], full[17]) == (b"2", b"3.0000", b"0.0000", b"6-0-M")
    assert len(table) == 0 and table.order(1).status == b"2"


def test_a_fill_concerns_two_accounts() -> None:
    one = OrderTable({MAKER})
    run(one, accepted())
    assert [r[1] for r in run(one, fill(6510050, 10000, 20000))] == [b"7"]
    both = OrderTable(None)  # a drop copy of every account
    run(both, accepted(), accepted(2, TAKER, "T1", Side.SELL, tif=Tif.IOC, quantity=10000))
    maker, taker = run(both, fill(6510050, 10000, 20000))
    assert (maker[1], maker[11], maker[54], maker[39]) == (b"7", b"C1", b"1", b"1")
    assert (taker[1], taker[11], taker[54], taker[39]) == (b"8", b"T1", b"2", b"2")
    assert maker[17] != taker[17]


def test_cancel_by_client_names_the_request_and_the_order() -> None:
    table = OrderTable({MAKER})
    run(table, accepted())
    table.note_request(CancelOrder(MAKER, 1, "X1", orig_client_order_id="C1"))
    [report] = run(table, OrderCancelled(1, MAKER, 1, "C1", CancelReason.USER, 30000, "X1"))
    assert (report[150], report[39], report[11], report[41]) == (b"4", b"4", b"X1", b"C1")
    assert (report[151], report[58]) == (b"0.0000", b"Cancelled on request")
    assert table.open_order(1) is None and table.find(MAKER, "C1").status == b"4"


def test_ioc_remainder_is_cancelled_under_the_orders_own_id() -> None:
    table = OrderTable({TAKER})
    run(table, accepted(2, TAKER, "T1", Side.SELL, tif=Tif.IOC, quantity=30000))
    [partial] = run(table, fill(6510050, 10000, 0, taker_leaves=20000))
    [cancel] = run(table, OrderCancelled(2, TAKER, 1, "T1", CancelReason.IOC_REMAINDER,
                                         20000))
    assert (partial[39], cancel[150], cancel[39], cancel[11]) == (b"1", b"4", b"4", b"T1")
    assert 41 not in cancel and cancel[14] == b"1.0000" and cancel[59] == b"3"


def test_self_trade_decrement_restates_the_order() -> None:
    table = OrderTable({MAKER})
    run(table, accepted())
    [report] = run(table, OrderCancelled(1, MAKER, 1, "C1", CancelReason.SELF_TRADE_PREVENTION,
                                         10000))
    assert (report[150], report[39], report[38], report[151], report[378]) == (
        b"D", b"0", b"2.0000", b"2.0000", b"5")


def test_replace_keeps_or_loses_priority() -> None:
    table = OrderTable({MAKER})
    run(table, accepted())
    [down] = run(table, OrderReplaced(1, MAKER, 1, "C2", "C1", 6510050, 20000, 20000, True))
    assert (down[150], down[39], down[11], down[41], down[38]) == (
        b"5", b"0", b"C2", b"C1", b"2.0000")
    assert down[58] == b"Replaced, time priority kept"
    run(table, fill(6510050, 10000, 10000))
    [moved] = run(table, OrderReplaced(1, MAKER, 1, "C3", "C2", 6500000, 30000, 20000, False))
    assert (moved[39], moved[44], moved[14], moved[151]) == (
        b"1", b"65000.00", b"1.0000", b"2.0000")
    assert moved[58] == b"Replaced, time priority lost"
    assert table.find(MAKER, "C3") is table.order(1) and table.find(MAKER, "C1") is None


def test_expiry() -> None:
    table = OrderTable({MAKER})
    run(table, accepted(tif=Tif.DAY))
    [report] = run(table, OrderExpired(1, MAKER, 1, "C1", 30000))
    assert (report[150], report[39], report[151], report[59]) == (b"C", b"C", b"0.0000", b"0")


def test_stop_trigger_is_restated_with_the_trigger_price() -> None:
    table = OrderTable({MAKER})
    [new] = run(table, accepted(order_type=OrderType.STOP, price=7161055,
                                stop_price=6510000))
    assert (new[40], new[99]) == (b"3", b"65100.00") and 44 not in new
    [report] = run(table, OrderTriggered(1, MAKER, 1, "C1", 6510000))
    assert (report[150], report[39], report[378]) == (b"D", b"0", b"99")
    assert report[58] == b"Stop triggered at 65100.00"


def test_submit_reject_is_an_er_8_from_the_noted_request() -> None:
    table = OrderTable({MAKER})
    table.note_request(SubmitOrder(MAKER, 1, "C1", Side.SELL, OrderType.LIMIT, Tif.GTC,
                                   6510050, 30000))
    [report] = run(table, OrderRejected(MAKER, 1, "C1", RequestKind.SUBMIT,
                                        RejectReason.DUPLICATE_CLIENT_ORDER_ID, 0, "in use"))
    assert (report[150], report[39], report[103], report[37]) == (b"8", b"8", b"6", b"NONE")
    assert (report[54], report[38], report[44]) == (b"2", b"3.0000", b"65100.50")
    assert report[58] == b"DUPLICATE_CLIENT_ORDER_ID: in use"


def test_ord_rej_reasons() -> None:
    expected = {RejectReason.UNKNOWN_INSTRUMENT: b"1", RejectReason.INSTRUMENT_HALTED: b"2",
                RejectReason.INSTRUMENT_CLOSED: b"2",
                RejectReason.MAX_ORDER_NOTIONAL_EXCEEDED: b"3",
                RejectReason.QUANTITY_OFF_LOT: b"13", RejectReason.POST_ONLY_WOULD_TAKE: b"99"}
    for reason, code in expected.items():
        table = OrderTable({MAKER})
        table.note_request(SubmitOrder(MAKER, 1, "C1", Side.BUY, OrderType.MARKET, Tif.IOC,
                                       0, 10000))
        [report] = run(table, OrderRejected(MAKER, 1, "C1", RequestKind.SUBMIT, reason))
        assert report[103] == code and 44 not in report


def test_a_submit_reject_without_a_note_is_an_er_8_from_the_events_terms() -> None:
    """A gateway restarted since it forwarded the order (or another gateway's request):
    the reject carries the order's own Side, OrderQty, OrdType, TimeInForce and prices."""
    table = OrderTable({MAKER})
    [report] = run(table, OrderRejected(
        MAKER, 1, "C1", RequestKind.SUBMIT, RejectReason.PRICE_OUT_OF_BAND, side=Side.SELL,
        order_type=OrderType.STOP_LIMIT, time_in_force=Tif.DAY, price=6510050,
        quantity=30000, stop_price=6500000))
    assert (report[150], report[39], report[37], report[11]) == (b"8", b"8", b"NONE", b"C1")
    assert (report[54], report[38], report[40], report[59]) == (b"2", b"3.0000", b"4", b"0")
    assert (report[44], report[99], report[58]) == (b"65100.50", b"65000.00",
                                                    b"PRICE_OUT_OF_BAND")


def test_the_events_terms_win_over_a_note() -> None:
    table = OrderTable({MAKER})
    table.note_request(SubmitOrder(MAKER, 1, "C1", Side.BUY, OrderType.MARKET, Tif.IOC, 0,
                                   10000))
    [report] = run(table, OrderRejected(
        MAKER, 1, "C1", RequestKind.SUBMIT, RejectReason.NO_LIQUIDITY, side=Side.SELL,
        order_type=OrderType.MARKET, time_in_force=Tif.FOK, quantity=20000))
    assert (report[54], report[38], report[40], report[59]) == (b"2", b"2.0000", b"1", b"4")
    assert 44 not in report and table.take_request(MAKER, RequestKind.SUBMIT, "C1") is None


def test_a_submit_reject_written_before_its_terms_without_a_note_gives_no_report() -> None:
    """An OrderRejected from before the request's terms were appended (side 0) has no Side,
    which an ER requires, and no note to take it from."""
    table = OrderTable(None)
    assert run(table, OrderRejected(MAKER, 1, "C1", RequestKind.SUBMIT,
                                    RejectReason.INSUFFICIENT_BALANCE)) == []


def test_cancel_and_replace_rejects_are_order_cancel_rejects() -> None:
    table = OrderTable({MAKER})
    run(table, accepted())
    table.note_request(CancelOrder(MAKER, 1, "X1", orig_client_order_id="C9"))
    [unknown] = run(table, OrderRejected(MAKER, 1, "X1", RequestKind.CANCEL,
                                         RejectReason.UNKNOWN_ORDER))
    assert (unknown[37], unknown[39], unknown[41], unknown[102], unknown[434]) == (
        b"NONE", b"8", b"C9", b"1", b"1")
    run(table, fill(6510050, 30000, 0))
    table.note_request(ReplaceOrder(MAKER, 1, "C2", 6510050, 40000, order_id=1))
    [late] = run(table, OrderRejected(MAKER, 1, "C2", RequestKind.REPLACE,
                                      RejectReason.TOO_LATE_TO_CANCEL, 1))
    assert (late[37], late[39], late[41], late[102], late[434], late[11]) == (
        b"1", b"2", b"C1", b"0", b"2", b"C2")


def test_a_cancel_reject_without_a_note_names_the_requests_orig_cl_ord_id() -> None:
    table = OrderTable({MAKER})
    [report] = run(table, OrderRejected(MAKER, 1, "X1", RequestKind.CANCEL,
                                        RejectReason.UNKNOWN_ORDER, orig_client_order_id="C9"))
    assert (report[11], report[37], report[39], report[41]) == (b"X1", b"NONE", b"8", b"C9")


def test_a_cancel_reject_never_reveals_another_accounts_order() -> None:
    table = OrderTable(None)
    run(table, accepted(1, TAKER, "T1"))
    [report] = run(table, OrderRejected(MAKER, 1, "X1", RequestKind.CANCEL,
                                        RejectReason.UNKNOWN_ORDER, 1))
    assert (report[1], report[37], report[39], report[41]) == (b"7", b"NONE", b"8", b"NONE")


def test_mass_cancel_report() -> None:
    table = OrderTable({MAKER})
    run(table, accepted())
    out = run(table, OrderCancelled(1, MAKER, 1, "C1", CancelReason.MASS_CANCEL, 30000, "M1"),
              MassCancelCompleted("M1", MAKER, 0, 1))
    cancel, report = out
    assert (cancel[150], cancel[11], cancel[58]) == (b"4", b"C1", b"Cancelled by mass cancel M1")
    assert (report[11], report[37], report[530], report[531], report[533]) == (
        b"M1", b"M1", b"7", b"7", b"1")
    [by_symbol] = run(table, MassCancelCompleted("M2", MAKER, 1, 0))
    assert (by_symbol[530], by_symbol[531], by_symbol[55], by_symbol[533]) == (
        b"1", b"1", b"BTC-USD", b"0")
    assert run(table, MassCancelCompleted("M3", TAKER, 0, 0)) == []


def test_exec_ids_are_stable_across_a_replay() -> None:
    events = [accepted(), fill(6510050, 10000, 20000), OrderExpired(1, MAKER, 1, "C1", 20000)]
    first = run(OrderTable({MAKER}), *events, position=9)
    again = run(OrderTable({MAKER}), *events, position=9)
    assert [r[17] for r in first] == [b"9-0", b"9-1-M", b"9-2"] == [r[17] for r in again]


def test_the_finished_orders_memory_is_bounded() -> None:
    table = OrderTable({MAKER}, finished_orders_max=2)
    for order_id in (1, 2, 3):
        run(table, accepted(order_id, client_order_id=f"C{order_id}"),
            OrderExpired(order_id, MAKER, 1, f"C{order_id}", 30000))
    assert table.order(1) is None and table.find(MAKER, "C1") is None
    assert table.order(3).status == b"C"


def parsed(msg_type: bytes, *fields: tuple[int, bytes]):
    """A message from the client, valid FIX 4.4."""
    raw = encode(b"FIX.4.4", [(35, msg_type), (34, b"2"), (49, b"TW44"), (52, NOW),
                              (56, b"ISLD"), *fields])
    parser = FixParser()
    parser.feed(raw)
    message = parser.next()
    assert FIX44.validate(message.fields()) is None
    return message


def status_request(*fields: tuple[int, bytes]):
    return parsed(b"H", *fields)


def test_status_request_of_a_known_and_an_unknown_order() -> None:
    table = OrderTable(None)
    run(table, accepted(), accepted(2, TAKER, "T1"))
    known = sent(status_report(table, instruments(), MAKER, status_request(
        (11, b"C1"), (54, b"1"), (55, b"BTC-USD"), (790, b"S1")), NOW))
    assert (known[150], known[39], known[37], known[790]) == (b"I", b"0", b"1", b"S1")
    unknown = status_request((11, b"C9"), (54, b"1"), (55, b"BTC-USD"))
    others = status_request((11, b"T1"), (37, b"2"), (54, b"1"), (55, b"BTC-USD"))
    for request, order_id in ((unknown, b"NONE"), (others, b"2")):
        report = sent(status_report(table, instruments(), MAKER, request, NOW), complete=False)
        assert (report[150], report[39], report[58]) == (b"I", b"8", b"Unknown order")
        assert (report[37], report[60], report[151], report[14]) == (order_id, NOW, b"0", b"0")


# -- through the real engine -------------------------------------------------------------


def fix_order(cl_ord_id: bytes, side: bytes, price: bytes, quantity: bytes,
              tif: bytes = b"1"):
    return parsed(b"D", (11, cl_ord_id), (38, quantity), (40, b"2"), (44, price),
                  (54, side), (55, b"BTC-USD-1"), (59, tif), (60, NOW))


class Venue:
    """The engine (refdata and matching), and two gateways' order tables: one serving the
    taker's account, one a drop copy of every account."""

    def __init__(self) -> None:
        self.driver = EngineDriver(make_modules(with_risk=False))
        self.instruments = Instruments()
        self.taker = OrderTable({TAKER})
        self.drop_copy = OrderTable(None)
        self.apply(btc_usd())

    def apply(self, command) -> tuple[list[dict[int, bytes]], list[dict[int, bytes]]]:
        for table in (self.taker, self.drop_copy):
            table.note_request(command)
        return self.report(self.driver.submit(command))

    def fire_timers(self, deadline_ns: int) -> list[dict[int, bytes]]:
        return self.report(self.driver.fire_timers(deadline_ns))[0]

    def report(self, events: list) -> tuple[list[dict[int, bytes]], list[dict[int, bytes]]]:
        for event in events:
            self.instruments.on_event(event)
        now = format_utc(self.driver.now_ns)
        out = []
        for table in (self.taker, self.drop_copy):
            out.append([sent(report) for report in reports(
                self.driver.index, events, table, self.instruments, now)])
            table._check()
        self.taker_reports = out[0]
        return out[0], out[1]

    def order(self, account: int, *args: bytes):
        return new_order(fix_order(*args), account, self.instruments)


def test_engine_events_become_reports_for_the_accounts_served() -> None:
    """Two resting sells of account 7, a buy of account 8 sweeping both (IOC, its remainder
    cancelled), then a cancel of a finished order: too late."""
    venue = Venue()
    taker, drop_copy = venue.apply(venue.order(MAKER, b"S1", b"2", b"100.00", b"2"))
    assert taker == [] and [(r[1], r[150], r[37]) for r in drop_copy] == [(b"7", b"0", b"1")]
    venue.apply(venue.order(MAKER, b"S2", b"2", b"100.05", b"1"))
    taker, drop_copy = venue.apply(venue.order(TAKER, b"B1", b"1", b"100.05", b"4", b"3"))
    assert [(r[150], r[39]) for r in taker] == [
        (b"0", b"0"), (b"F", b"1"), (b"F", b"1"), (b"4", b"4")]
    assert (taker[2][14], taker[2][6], taker[3][14], taker[3][6]) == (
        b"3", b"100.016667", b"3", b"100.016667")
    assert len(drop_copy) == 6  # the taker's four, and one fill of each maker order
    assert sorted(r[11] for r in drop_copy if r[1] == b"7") == [b"S1", b"S2"]
    late = CancelOrder(TAKER, 1, "X1", orig_client_order_id="B1")
    [reject], _ = venue.apply(late)
    assert (reject[102], reject[434], reject[39], reject[41], reject[37]) == (
        b"0", b"1", b"4", b"B1", b"3")
    duplicate = venue.order(TAKER, b"B1", b"1", b"100.00", b"1")
    [report], _ = venue.apply(duplicate)
    assert (report[150], report[103]) == (b"8", b"6")


def test_engine_stop_trigger_replace_and_expiry() -> None:
    venue = Venue()
    symbol, now = (55, b"BTC-USD-1"), (60, NOW)
    venue.apply(venue.order(MAKER, b"S1", b"2", b"100.00", b"1"))
    venue.apply(venue.order(MAKER, b"S2", b"2", b"100.50", b"1"))
    stop = parsed(b"D", (11, b"P1"), (38, b"1"), (40, b"3"), (54, b"1"), symbol, (59, b"1"),
                  now, (99, b"100.00"))
    [accepted], _ = venue.apply(new_order(stop, TAKER, venue.instruments))
    assert (accepted[40], accepted[99], accepted[150]) == (b"3", b"100.00", b"0")
    venue.apply(venue.order(9, b"O1", b"1", b"100.00", b"1", b"3"))  # trades S1: triggers
    assert [(r[150], r[39]) for r in venue.taker_reports] == [(b"D", b"0"), (b"F", b"2")]
    triggered, filled = venue.taker_reports
    assert (triggered[58], filled[31], filled[6]) == (
        b"Stop triggered at 100.00", b"100.50", b"100.500000")

    venue.apply(venue.order(TAKER, b"B1", b"1", b"99.00", b"2"))
    for cl_ord_id, orig, price, quantity, text in (
            (b"B2", b"B1", b"99.00", b"1", b"Replaced, time priority kept"),
            (b"B3", b"B2", b"99.05", b"1", b"Replaced, time priority lost")):
        message = parsed(b"G", (11, cl_ord_id), (38, quantity), (40, b"2"), (41, orig),
                         (44, price), (54, b"1"), symbol, now)
        [replaced], _ = venue.apply(replace_request(message, TAKER, venue.instruments))
        assert (replaced[150], replaced[11], replaced[41], replaced[58]) == (
            b"5", cl_ord_id, orig, text)

    expire_ns = venue.driver.now_ns + 10 * 10**9
    gtd = parsed(b"D", (11, b"G1"), (38, b"1"), (40, b"2"), (44, b"98.00"), (54, b"1"),
                 symbol, (59, b"6"), now, (126, format_utc(expire_ns)))
    venue.apply(new_order(gtd, TAKER, venue.instruments))
    [expired] = venue.fire_timers(expire_ns)
    assert (expired[150], expired[39], expired[11], expired[126]) == (
        b"C", b"C", b"G1", format_utc(expire_ns))
