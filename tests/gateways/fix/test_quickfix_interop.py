"""Interop with a real FIX engine: QuickFIX (the ``quickfix`` package) initiators DEMO1 and
DEMO2 trade through venue's FIX gateway in front of a running 3-node cluster.

QuickFIX validates every message venue sends against venue's own ``spec/FIX44.xml``
(UseDataDictionary=Y); a message it finds wrong never reaches ``fromApp`` and is answered with
a Reject(3) or BusinessMessageReject(j). So the test records everything QuickFIX sends and
receives and demands that neither side rejected anything.

QuickFIX calls back on its own threads; the callbacks only copy each message's text into a
queue, and the test thread parses and checks it, waiting with timeouts.

Needs ``pip install -e ".[interop]"`` (quickfix builds from source, ~6 min the first time).
Without it the test is skipped, unless VENUE_REQUIRE_QUICKFIX=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import queue
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import venue.gateways.fix

from .venue_fixture import Venue

try:
    import quickfix as fix
    import quickfix44 as fix44
    QUICKFIX_MISSING: str | None = None
except ImportError as exc:  # an optional extra; see _require_quickfix
    fix = fix44 = None
    QUICKFIX_MISSING = str(exc)
REQUIRE_QUICKFIX = os.environ.get("VENUE_REQUIRE_QUICKFIX") == "1"  # CI sets it

SKIP_REASON = "quickfix not installed: pip install -e '.[interop]' (builds from source, ~6 min)"
DICTIONARY = Path(venue.gateways.fix.__file__).resolve().parent / "spec" / "FIX44.xml"
SESSIONS = ("DEMO1", "DEMO2")
WAIT_S = 15.0
REJECTS = ("3", "j")  # Reject, BusinessMessageReject
BTC = "BTC-USD"


def _require_quickfix() -> None:
    if QUICKFIX_MISSING is not None:
        pytest.fail(f"VENUE_REQUIRE_QUICKFIX=1 but quickfix cannot be imported "
                    f"({QUICKFIX_MISSING}); install it with pip install -e '.[interop]'",
                    pytrace=False)


def _readable(raw: str) -> str:
    return raw.replace("\x01", "|")


def _msg_type(raw: str) -> str:
    return raw.split("\x0135=", 1)[1].split("\x01", 1)[0]


class Traffic:
    """What the QuickFIX callbacks saw, handed from QuickFIX's threads to the test thread:
    logons and application messages received per session in queues, and every message
    QuickFIX sent or received, in order."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = passwords
        self.logons: queue.Queue[str] = queue.Queue()
        self.inbound: dict[str, queue.Queue[str]] = {name: queue.Queue() for name in passwords}
        self.lock = threading.Lock()
        self.sent: list[str] = []
        self.received: list[str] = []

    def record_sent(self, raw: str) -> None:
        with self.lock:
            self.sent.append(raw)
        self._wake_on_reject(raw)

    def record_received(self, raw: str) -> None:
        with self.lock:
            self.received.append(raw)
        self._wake_on_reject(raw)

    def _wake_on_reject(self, raw: str) -> None:
        """A reject either way ends the test at once: every waiting session is handed it."""
        if _msg_type(raw) in REJECTS:
            for inbound in self.inbound.values():
                inbound.put(raw)

    def rejects(self) -> tuple[list[str], list[str]]:
        """The Rejects and BusinessMessageRejects QuickFIX sent, and those it received."""
        with self.lock:
            return ([_readable(m) for m in self.sent if _msg_type(m) in REJECTS],
                    [_readable(m) for m in self.received if _msg_type(m) in REJECTS])

    def describe(self) -> str:
        sent, received = self.rejects()
        with self.lock:
            logouts = [_readable(m) for m in self.received if _msg_type(m) == "5"]
        return f"QuickFIX sent rejects {sent}, received rejects {received}; logouts {logouts}"


def _application(traffic: Traffic) -> Any:
    """A quickfix.Application that only records, and adds the password to the Logon. The
    callbacks run on QuickFIX's threads and do nothing that could raise there."""

    class Recorder(fix.Application):
        def onCreate(self, session_id: Any) -> None:
            pass

        def onLogon(self, session_id: Any) -> None:
            traffic.logons.put(session_id.getSenderCompID().getValue())

        def onLogout(self, session_id: Any) -> None:
            pass

        def toAdmin(self, message: Any, session_id: Any) -> None:
            sender = session_id.getSenderCompID().getValue()
            if message.getHeader().getField(35) == "A":
                message.setField(554, traffic.passwords[sender])
            traffic.record_sent(message.toString())

        def fromAdmin(self, message: Any, session_id: Any) -> None:
            traffic.record_received(message.toString())

        def toApp(self, message: Any, session_id: Any) -> None:
            traffic.record_sent(message.toString())

        def fromApp(self, message: Any, session_id: Any) -> None:
            raw = message.toString()
            traffic.record_received(raw)
            traffic.inbound[session_id.getSenderCompID().getValue()].put(raw)

    return Recorder()


def _settings_file(folder: Path, port: int) -> Path:
    lines = ["[DEFAULT]", "ConnectionType=initiator", "BeginString=FIX.4.4",
             "TargetCompID=VENUE", "SocketConnectHost=127.0.0.1", f"SocketConnectPort={port}",
             "HeartBtInt=30", "ReconnectInterval=1", "UseDataDictionary=Y",
             f"DataDictionary={DICTIONARY}", "ResetOnLogon=Y",
             f"FileStorePath={folder / 'store'}", f"FileLogPath={folder / 'log'}",
             "StartTime=00:00:00", "EndTime=00:00:00"]
    for sender in SESSIONS:
        lines += ["", "[SESSION]", f"SenderCompID={sender}"]
    path = folder / "quickfix.cfg"
    path.write_text("\n".join(lines) + "\n")
    return path


class Peer:
    """The test thread's side of the QuickFIX sessions: send, and take what arrived."""

    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.dictionary = fix.DataDictionary(str(DICTIONARY))

    def send(self, sender: str, message: Any) -> None:
        session_id = fix.SessionID("FIX.4.4", sender, "VENUE")
        assert fix.Session.sendToTarget(message, session_id), f"{sender}: not sent"

    def wait_logons(self) -> None:
        pending = set(SESSIONS)
        while pending:
            try:
                pending.discard(self.traffic.logons.get(timeout=WAIT_S))
            except queue.Empty:
                raise AssertionError(f"no logon of {sorted(pending)}; "
                                     f"{self.traffic.describe()}") from None

    def take(self, sender: str, msg_type: str) -> Any:
        """The next application message ``sender`` received, parsed with the dictionary
        (so repeating groups are groups); it must be of ``msg_type``."""
        try:
            raw = self.traffic.inbound[sender].get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError(f"{sender}: no {msg_type} within {WAIT_S} s; "
                                 f"{self.traffic.describe()}") from None
        if _msg_type(raw) in REJECTS:
            raise AssertionError(f"{sender}: waiting for {msg_type}, a reject: "
                                 f"{self.traffic.describe()}")
        assert _msg_type(raw) == msg_type, f"{sender}: expected {msg_type}: {_readable(raw)}"
        return fix.Message(raw, self.dictionary, False)


def _field(message: Any, tag: int) -> str | None:
    return message.getField(tag) if message.isSetField(tag) else None


def _fields(message: Any, *tags: int) -> tuple[str | None, ...]:
    return tuple(_field(message, tag) for tag in tags)


def _entries(message: Any, group: Any, *tags: int) -> list[tuple[str | None, ...]]:
    """The NoMDEntries(268) entries of a W or an X, each as the values of ``tags``."""
    entries = []
    for index in range(1, message.groupCount(268) + 1):
        message.getGroup(index, group)
        entries.append(_fields(group, *tags))
    return entries


def _order(cl_ord_id: str, side: str, quantity: float,
           price: float) -> Any:
    order = fix44.NewOrderSingle()
    order.setField(fix.ClOrdID(cl_ord_id))
    order.setField(fix.Side(side))
    order.setField(fix.Symbol(BTC))
    order.setField(fix.OrderQty(quantity))
    order.setField(fix.OrdType(fix.OrdType_LIMIT))
    order.setField(fix.Price(price))
    order.setField(fix.TimeInForce(fix.TimeInForce_GOOD_TILL_CANCEL))
    order.setField(fix.TransactTime())
    return order


def _market_data_request(md_req_id: str) -> Any:
    request = fix44.MarketDataRequest()
    request.setField(fix.MDReqID(md_req_id))
    request.setField(fix.SubscriptionRequestType(
        fix.SubscriptionRequestType_SNAPSHOT_AND_UPDATES))
    request.setField(fix.MarketDepth(0))
    request.setField(fix.MDUpdateType(fix.MDUpdateType_INCREMENTAL_REFRESH))
    for entry_type in (fix.MDEntryType_BID, fix.MDEntryType_OFFER, fix.MDEntryType_TRADE):
        group = fix44.MarketDataRequest.NoMDEntryTypes()
        group.setField(fix.MDEntryType(entry_type))
        request.addGroup(group)
    symbol = fix44.MarketDataRequest.NoRelatedSym()
    symbol.setField(fix.Symbol(BTC))
    request.addGroup(symbol)
    return request


def _cancel(cl_ord_id: str, original: str) -> Any:
    cancel = fix44.OrderCancelRequest()
    cancel.setField(fix.OrigClOrdID(original))
    cancel.setField(fix.ClOrdID(cl_ord_id))
    cancel.setField(fix.Side(fix.Side_SELL))
    cancel.setField(fix.Symbol(BTC))
    cancel.setField(fix.TransactTime())
    return cancel


def _trade_and_fill(peer: Peer) -> None:
    """DEMO1 rests a sell of 1 at 65000, DEMO2 buys 0.4 through it at up to 65100."""
    peer.send("DEMO1", _order("s1", fix.Side_SELL, 1.0, 65000.0))
    accepted = peer.take("DEMO1", "8")
    assert _fields(accepted, 11, 150, 39, 1, 151) == ("s1", "0", "0", "101", "1.0000")

    peer.send("DEMO2", _order("b1", fix.Side_BUY, 0.4, 65100.0))
    taker_new = peer.take("DEMO2", "8")
    assert _fields(taker_new, 11, 150, 39, 1) == ("b1", "0", "0", "102")
    taker_fill = peer.take("DEMO2", "8")
    assert _fields(taker_fill, 11, 150, 39, 31, 32, 14, 151) == (
        "b1", "F", "2", "65000.00", "0.4000", "0.4000", "0.0000")
    assert Decimal(_field(taker_fill, 6) or "nan") == Decimal("65000")

    maker_fill = peer.take("DEMO1", "8")
    assert _fields(maker_fill, 11, 150, 39, 31, 32, 14, 151) == (
        "s1", "F", "1", "65000.00", "0.4000", "0.4000", "0.6000")


def _book_then_cancel(peer: Peer) -> None:
    """DEMO2 subscribes and sees the rest of the offer; DEMO1 cancels it and DEMO2 sees the
    level go."""
    peer.send("DEMO2", _market_data_request("md1"))
    snapshot = peer.take("DEMO2", "W")
    assert _fields(snapshot, 262, 55) == ("md1", BTC)
    entries = _entries(snapshot, fix44.MarketDataSnapshotFullRefresh.NoMDEntries(),
                       269, 270, 271)
    assert [e for e in entries if e[0] == "1"] == [("1", "65000.00", "0.6000")], entries
    assert [e for e in entries if e[0] == "0"] == [], entries
    assert ("2", "65000.00", "0.4000") in entries, entries

    peer.send("DEMO1", _cancel("c1", "s1"))
    cancelled = peer.take("DEMO1", "8")
    assert _fields(cancelled, 11, 41, 150, 39, 14) == ("c1", "s1", "4", "4", "0.4000")
    assert Decimal(_field(cancelled, 151) or "nan") == 0

    update = peer.take("DEMO2", "X")
    assert _field(update, 262) == "md1"
    changes = _entries(update, fix44.MarketDataIncrementalRefresh.NoMDEntries(),
                       279, 269, 55, 270)
    assert changes == [("2", "1", BTC, "65000.00")], changes


@pytest.mark.slow
@pytest.mark.skipif(QUICKFIX_MISSING is not None and not REQUIRE_QUICKFIX, reason=SKIP_REASON)
def test_quickfix_initiators_trade_and_subscribe_and_quickfix_rejects_nothing(
        venue: Venue, tmp_path: Path) -> None:
    """Logon, a cross (New, partial fill, fill), a market data snapshot and the incremental
    delete after a cancel, all received by QuickFIX with its data dictionary validation on,
    and no Reject or BusinessMessageReject either way."""
    _require_quickfix()
    passwords = {entry.fix.session_id.target_comp_id: entry.fix.password
                 for entry in venue.config.sessions
                 if entry.fix.session_id.target_comp_id in SESSIONS}
    traffic = Traffic(passwords)
    application = _application(traffic)
    folder = tmp_path / "quickfix"
    folder.mkdir()
    settings = fix.SessionSettings(str(_settings_file(folder, venue.config.port)))
    initiator = fix.SocketInitiator(application, fix.FileStoreFactory(settings), settings,
                                    fix.FileLogFactory(settings))
    initiator.start()
    try:
        peer = Peer(traffic)
        peer.wait_logons()
        _trade_and_fill(peer)
        _book_then_cancel(peer)
        assert traffic.rejects() == ([], []), traffic.describe()
        logons = [m for m in traffic.sent if _msg_type(m) == "A"]
        assert logons and all("\x01554=" in m for m in logons), logons
    finally:
        initiator.stop(True)
