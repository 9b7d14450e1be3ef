"""MarketDataHub: V and x in, W X Y y out, from the engine's events.

Every message built here, the hub's and the requests fed to it, goes through the real
encoder and parser and must pass the FIX 4.4 data dictionary's validation (what a real FIX
client checks), and every repeating-group entry must start with its delimiter and keep
``spec/FIX44.xml``'s field order.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ElementTree
from functools import cache

import pytest

from venue.codecs import (
    AddInstrument,
    BookLevelChanged,
    InstrumentAdded,
    InstrumentStatusChanged,
    OrderFilled,
    SubmitOrder,
)
from venue.codecs.enums import InstrumentStatus, OrderType, Side, TimeInForce
from venue.codecs.tagvalue import FixParser, encode
from venue.gateways.fix.dictionary import SPEC_DIRECTORY, DataDictionary
from venue.gateways.fix.marketdata import MarketDataHub
from venue.gateways.instruments import Instruments

from ...modules.harness import EngineDriver
from ...modules.trading import make_modules

FIX44 = DataDictionary.for_version("FIX.4.4")
BUY, SELL = Side.BUY, Side.SELL
#: message type -> (count tag of its group, the XML component holding the group)
GROUPS = {b"W": (268, "MDFullGrp"), b"X": (268, "MDIncGrp"), b"y": (146, "SecListGrp"),
          b"V": (146, "InstrmtMDReqGrp")}


def btc(instrument_id: int = 1, symbol: str = "BTC-USD") -> InstrumentAdded:
    """Prices in cents (2 decimals), quantities in thousandths; tick 0.50, lot 0.001."""
    return InstrumentAdded(instrument_id, symbol, 2, 1, 2, 3, 50, 1, 1, 1_000_000, 0, 0)


@cache
def _spec_order(component: str) -> tuple[int, ...]:
    """The tags of ``component``'s first group entry in the XML's order, components
    expanded (nested groups' own entries left out)."""
    root = ElementTree.parse(SPEC_DIRECTORY / "FIX44.xml").getroot()
    tag_of = {node.get("name"): int(node.get("number")) for node in root.iter("field")
              if node.get("number")}
    components = {node.get("name"): node for node in root.find("components")}

    def walk(node: ElementTree.Element) -> list[int]:
        tags: list[int] = []
        for child in node:
            if child.tag == "field":
                tags.append(tag_of[child.get("name")])
            elif child.tag == "component":
                tags += walk(components[child.get("name")])
            elif child.tag == "group":
                tags.append(tag_of[child.get("name")])
        return tags
    return tuple(walk(components[component].find("group")))


def wire(msg_type: bytes, body: list[tuple[int, bytes]]):
    """``body`` as a counterparty receives it: encoded, parsed, validated, group order
    checked. Returns the parsed message."""
    raw = encode(b"FIX.4.4", [(35, msg_type), (34, b"2"), (49, b"ISLD"),
                              (52, b"20260101-00:00:00.000"), (56, b"TW44"), *body])
    parser = FixParser()
    parser.feed(raw)
    message = parser.next()
    assert message is not None and message.garbled == "", message
    assert FIX44.validate(message.fields()) is None, (FIX44.validate(message.fields()), raw)
    if msg_type in GROUPS:
        count_tag, component = GROUPS[msg_type]
        order = _spec_order(component)
        for entry in FIX44.groups(msg_type.decode(), message.fields()).get(count_tag, []):
            tags = list(entry)
            assert tags[0] == order[0], f"{msg_type} entry starts with {tags[0]}: {entry}"
            assert tags == sorted(tags, key=order.index), f"{msg_type} entry order: {entry}"
    return message


def md_request(md_req_id: bytes, kind: bytes = b"1", depth: bytes = b"0",
               types: tuple[bytes, ...] = (b"0", b"1"), symbols: tuple[bytes, ...] = (b"BTC-USD",),
               extra: tuple[tuple[int, bytes], ...] = (), validate: bool = True):
    """A MarketDataRequest(V) as a client sends it."""
    body = [(262, md_req_id), (263, kind), (264, depth), *extra, (267, b"%d" % len(types)),
            *((269, value) for value in types), (146, b"%d" % len(symbols)),
            *((55, symbol) for symbol in symbols)]
    if not validate:  # values the dictionary itself refuses, to reach the hub's own check
        raw = encode(b"FIX.4.4", [(35, b"V"), (49, b"TW44"), (56, b"ISLD"), *body])
        parser = FixParser()
        parser.feed(raw)
        return parser.next()
    return wire(b"V", body)


def answers(replies: list) -> list:
    """Each reply of the hub, checked on the wire: (msg_type, parsed message)."""
    return [(msg_type, wire(msg_type, body)) for msg_type, body in replies]


def entries(message, msg_type: bytes = b"W") -> list[dict]:
    count_tag = GROUPS[msg_type][0]
    return FIX44.groups(msg_type.decode(), message.fields()).get(count_tag, [])


def level(side: Side, price: int, quantity: int, count: int = 1) -> BookLevelChanged:
    return BookLevelChanged(1, side, price, quantity, count)


@pytest.fixture
def hub() -> MarketDataHub:
    """BTC-USD (id 1) and ETH-USD (id 2) listed at position 1, then a book at position 2:
    bids 650.00 x 1.5 (2 orders), 649.50 x 2, 648 x 0.25; offers 651 x 1, 652.50 x 3."""
    hub = MarketDataHub(Instruments(), depth_max=5, trades_kept=3)
    assert hub.on_events(1, [btc(), btc(2, "ETH-USD")]) == []
    hub.on_events(2, [level(BUY, 65000, 1500, 2), level(BUY, 64950, 2000),
                      level(BUY, 64800, 250), level(SELL, 65100, 1000),
                      level(SELL, 65250, 3000)])
    hub._check()
    return hub


def book_rows(message) -> list[tuple]:
    return [(entry[269], entry[270], entry.get(271), entry.get(346)) for entry in
            entries(message)]


def test_snapshot_lists_bids_best_first_then_offers_best_first_in_exact_decimals(hub):
    [(msg_type, snapshot)] = answers(hub.request("s1", md_request(b"R1", kind=b"0")))
    assert msg_type == b"W" and (snapshot.get(262), snapshot.get(55)) == (b"R1", b"BTC-USD")
    assert book_rows(snapshot) == [
        (b"0", b"650.00", b"1.500", b"2"), (b"0", b"649.50", b"2.000", b"1"),
        (b"0", b"648.00", b"0.250", b"1"),
        (b"1", b"651.00", b"1.000", b"1"), (b"1", b"652.50", b"3.000", b"1")]
    assert hub.subscriptions("s1") == [], "a snapshot request leaves no subscription"


def test_market_depth_limits_levels_a_side_and_1_is_top_of_book(hub):
    [(_, two)] = answers(hub.request("s1", md_request(b"R1", kind=b"0", depth=b"2")))
    assert [row[1] for row in book_rows(two)] == [b"650.00", b"649.50", b"651.00", b"652.50"]
    [(_, top)] = answers(hub.request("s1", md_request(b"R2", kind=b"0", depth=b"1",
                                                       types=(b"1",))))
    assert book_rows(top) == [(b"1", b"651.00", b"1.000", b"1")]


def test_full_book_is_the_published_depth_max_levels():
    hub = MarketDataHub(Instruments(), depth_max=2)
    hub.on_events(1, [btc(), *(level(BUY, 60000 + 50 * i, 1) for i in range(4))])
    [(_, snapshot)] = answers(hub.request("s1", md_request(b"R1", kind=b"0", depth=b"0")))
    assert [row[1] for row in book_rows(snapshot)] == [b"601.50", b"601.00"]


def test_an_empty_book_gives_a_valid_snapshot_with_no_entries(hub):
    [(_, snapshot)] = answers(hub.request("s1", md_request(b"R1", symbols=(b"ETH-USD",))))
    assert snapshot.get(268) == b"0" and entries(snapshot) == []


def test_recent_trades_are_in_the_snapshot_only_when_asked_oldest_first(hub):
    fills = [OrderFilled(10 + i, 1, 65100, 100 * (i + 1), BUY, 1, 1, "m", 0, 2, 2, "t", 0)
             for i in range(4)]
    hub.on_events(3, fills)
    [(_, with_trades)] = answers(hub.request("s1", md_request(b"R1", kind=b"0",
                                                               types=(b"2",))))
    assert book_rows(with_trades) == [(b"2", b"651.00", b"0.200", None),
                                      (b"2", b"651.00", b"0.300", None),
                                      (b"2", b"651.00", b"0.400", None)], "trades_kept is 3"
    [(_, without)] = answers(hub.request("s1", md_request(b"R2", kind=b"0")))
    assert b"2" not in [row[0] for row in book_rows(without)]


def test_updates_of_one_entry_come_as_one_x_per_subscriber_of_that_symbol(hub):
    answers(hub.request("btc", md_request(b"B1")))
    answers(hub.request("eth", md_request(b"E1", symbols=(b"ETH-USD",))))
    out = hub.on_events(3, [level(BUY, 65050, 500), level(BUY, 65000, 1200, 1),
                            level(SELL, 65100, 0, 0)])
    assert [(key, msg_type) for key, msg_type, _ in out] == [("btc", b"X")]
    update = wire(b"X", out[0][2])
    assert update.get(262) == b"B1"
    assert [(e[279], e[269], e[55], e[270], e.get(271), e.get(346))
            for e in entries(update, b"X")] == [
        (b"0", b"0", b"BTC-USD", b"650.50", b"0.500", b"1"),
        (b"1", b"0", b"BTC-USD", b"650.00", b"1.200", b"1"),
        (b"2", b"1", b"BTC-USD", b"651.00", None, None)]
    assert hub.on_events(4, [level(SELL, 65250, 3000)]) == [], "an unchanged level is quiet"


def test_one_x_carries_every_symbol_of_a_subscription_that_the_entry_changed(hub):
    answers(hub.request("s1", md_request(b"R1", symbols=(b"BTC-USD", b"ETH-USD"))))
    out = hub.on_events(3, [level(BUY, 65050, 100), BookLevelChanged(2, SELL, 300000, 5, 1)])
    [(_, _, body)] = out
    assert [(e[55], e[269], e[270]) for e in entries(wire(b"X", body), b"X")] == [
        (b"BTC-USD", b"0", b"650.50"), (b"ETH-USD", b"1", b"3000.00")]


def test_a_depth_limited_view_loses_its_last_level_to_a_better_one_and_refills(hub):
    answers(hub.request("s1", md_request(b"R1", depth=b"2", types=(b"0",))))
    [(_, _, body)] = hub.on_events(3, [level(BUY, 65050, 100)])
    rows = [(e[279], e[270]) for e in entries(wire(b"X", body), b"X")]
    assert rows == [(b"2", b"649.50"), (b"0", b"650.50")]
    [(_, _, body)] = hub.on_events(4, [level(BUY, 65050, 0, 0)])
    rows = [(e[279], e[270], e.get(271)) for e in entries(wire(b"X", body), b"X")]
    assert rows == [(b"2", b"650.50", None), (b"0", b"649.50", b"2.000")]
    assert hub.on_events(5, [level(SELL, 65100, 7)]) == [], "offers were not asked for"


def test_trades_stream_with_their_trade_id_to_trade_subscribers(hub):
    answers(hub.request("s1", md_request(b"T1", types=(b"2",))))
    fill = OrderFilled(77, 1, 65100, 250, BUY, 1, 1, "m", 750, 2, 2, "t", 0)
    [(_, _, body)] = hub.on_events(3, [fill, level(SELL, 65100, 750)])
    assert [(e[279], e[269], e[278], e[270], e[271]) for e in entries(wire(b"X", body), b"X")
            ] == [(b"0", b"2", b"77", b"651.00", b"0.250")]


def test_a_replayed_position_is_ignored(hub):
    answers(hub.request("s1", md_request(b"R1")))
    assert hub.on_events(2, [level(BUY, 65000, 1, 1)]) == []
    [(_, snapshot)] = answers(hub.request("s1", md_request(b"R2", kind=b"0")))
    assert book_rows(snapshot)[0] == (b"0", b"650.00", b"1.500", b"2")


def test_unsubscribe_stops_updates_and_an_unknown_md_req_id_is_rejected(hub):
    answers(hub.request("s1", md_request(b"R1")))
    assert hub.request("s1", md_request(b"R1", kind=b"2")) == []
    assert hub.on_events(3, [level(BUY, 65050, 100)]) == []
    [(msg_type, reject)] = answers(hub.request("s1", md_request(b"R1", kind=b"2")))
    assert (msg_type, reject.get(262), reject.get(281)) == (b"Y", b"R1", None)
    assert b"no subscription" in reject.get(58)
    hub._check()


def test_drop_forgets_every_subscription_of_the_session(hub):
    answers(hub.request("s1", md_request(b"R1")))
    answers(hub.request("s1", md_request(b"R2", symbols=(b"ETH-USD", b"BTC-USD"))))
    answers(hub.request("s2", md_request(b"R1")))
    hub.drop("s1")
    hub._check()
    assert [key for key, _, _ in hub.on_events(3, [level(BUY, 65050, 100)])] == ["s2"]


REJECTS = [
    (dict(symbols=(b"DOGE-USD",)), b"0", "unknown symbol 'DOGE-USD'"),
    (dict(kind=b"1", depth=b"6"), b"5", "MarketDepth '6' is not supported"),
    (dict(extra=((265, b"0"),)), b"6", "MDUpdateType '0' is not supported"),
    (dict(extra=((266, b"N"),)), b"7", "aggregated book"),
    (dict(types=(b"0", b"4")), b"8", "MDEntryType '4' is not supported"),
    (dict(kind=b"3", validate=False), b"4", "SubscriptionRequestType '3' is not supported"),
]


@pytest.mark.parametrize(("request_fields", "reason", "text"), REJECTS)
def test_each_unsupported_request_gets_its_md_req_rej_reason(hub, request_fields, reason, text):
    [(msg_type, reject)] = answers(hub.request("s1", md_request(b"BAD", **request_fields)))
    assert (msg_type, reject.get(262), reject.get(281)) == (b"Y", b"BAD", reason)
    assert text in reject.get(58).decode()
    assert hub.subscriptions("s1") == []


def test_a_second_live_subscription_with_the_same_md_req_id_is_a_duplicate(hub):
    answers(hub.request("s1", md_request(b"R1")))
    [(msg_type, reject)] = answers(hub.request("s1", md_request(b"R1")))
    assert (msg_type, reject.get(281)) == (b"Y", b"1")
    assert [msg_type for msg_type, _ in hub.request("s2", md_request(b"R1"))] == [b"W"]


def test_subscription_limits_per_hub_and_per_session_are_rejected_with_text():
    hub = MarketDataHub(Instruments(), subscriptions_max=3, subscriber_subscriptions_max=2)
    hub.on_events(1, [btc()])
    for md_req_id in (b"A", b"B"):
        assert [t for t, _ in hub.request("s1", md_request(md_req_id))] == [b"W"]
    [(_, per_session)] = answers(hub.request("s1", md_request(b"C")))
    assert per_session.get(281) is None and b"a session" in per_session.get(58)
    answers(hub.request("s2", md_request(b"A")))
    [(_, per_hub)] = answers(hub.request("s3", md_request(b"A")))
    assert b"venue's limit of 3" in per_hub.get(58)
    assert [t for t, _ in hub.request("s3", md_request(b"A", kind=b"0"))] == [b"W"], (
        "a snapshot takes no subscription slot")
    hub._check()


def test_more_symbols_than_a_request_may_name_are_rejected(hub):
    symbols = tuple(b"S%d" % i for i in range(101))
    [(_, reject)] = answers(hub.request("s1", md_request(b"R1", symbols=symbols)))
    assert reject.get(281) is None and b"at most 100 symbols" in reject.get(58)


def security_request(request_type: bytes, symbol: bytes | None = None):
    body = [(320, b"Q1"), (559, request_type)]
    return wire(b"x", body + ([(55, symbol)] if symbol else []))


def test_security_list_lists_every_instrument_with_what_the_table_knows(hub):
    hub.on_events(3, [InstrumentStatusChanged(2, InstrumentStatus.HALTED, "news")])
    msg_type, body = hub.security_list(security_request(b"4"))
    reply = wire(msg_type, body)
    assert (msg_type, reply.get(320), reply.get(560), reply.get(393)) == (b"y", b"Q1", b"0",
                                                                          b"2")
    assert entries(reply, b"y") == [
        {55: b"BTC-USD", 48: b"1", 22: b"8", 561: b"0.001", 562: b"0.001",
         58: b"tick_size=0.50 max_quantity=1000.000 status=OPEN"},
        {55: b"ETH-USD", 48: b"2", 22: b"8", 561: b"0.001", 562: b"0.001",
         58: b"tick_size=0.50 max_quantity=1000.000 status=HALTED"}]
    again = wire(*hub.security_list(security_request(b"4")))
    assert again.get(322) != reply.get(322), "each SecurityResponseID is new"


def test_security_list_by_symbol_unknown_symbol_and_unsupported_type(hub):
    one = wire(*hub.security_list(security_request(b"0", b"ETH-USD")))
    assert [entry[55] for entry in entries(one, b"y")] == [b"ETH-USD"]
    unknown = wire(*hub.security_list(security_request(b"0", b"DOGE")))
    assert (unknown.get(560), unknown.get(146)) == (b"2", None)
    by_product = wire(*hub.security_list(security_request(b"2")))
    assert (by_product.get(560), by_product.get(146)) == (b"1", None)


class ClientBook:
    """What a FIX client keeps: a W, then each X applied by price (the simple model)."""

    def __init__(self, snapshot) -> None:
        self.sides: dict[bytes, dict[bytes, tuple]] = {b"0": {}, b"1": {}}
        for entry in entries(snapshot):
            self.sides[entry[269]][entry[270]] = (entry[271], entry[346])

    def apply(self, update) -> None:
        for entry in entries(update, b"X"):
            side = self.sides[entry[269]]
            if entry[279] == b"2":
                del side[entry[270]]  # a delete for a level the client lacks is a bug
            else:
                assert (entry[279] == b"0") == (entry[270] not in side), entry
                side[entry[270]] = (entry[271], entry[346])

    def rows(self, info, bids: list, offers: list) -> bool:
        expected = [{info.price_text(p): (info.quantity_text(q), b"%d" % n) for p, q, n in rows}
                    for rows in (bids, offers)]
        return [self.sides[b"0"], self.sides[b"1"]] == expected


@pytest.mark.parametrize("seed", range(3))
def test_clients_of_every_depth_track_the_engine_book_through_random_orders(seed):
    """Random limit and market orders through refdata and matching: after every entry,
    a client that applied its W and every X holds exactly the engine's top N levels."""
    modules = make_modules(with_risk=False)
    driver = EngineDriver(modules)
    hub = MarketDataHub(Instruments(), depth_max=8)
    events = driver.submit(AddInstrument(1, "BTC-USD", 2, 1, 2, 0, tick_size=5,
                                         max_quantity=1_000))
    hub.on_events(driver.index, events)
    clients = {depth: ClientBook(answers(hub.request(depth, md_request(
        b"D%d" % depth, depth=b"%d" % depth)))[0][1]) for depth in (1, 3, 0)}
    rng = random.Random(seed)
    matching, info = modules[-1], hub.instruments.by_symbol("BTC-USD")
    for step in range(150):
        market = rng.random() < 0.1
        order = SubmitOrder(1, 1, f"c{step}", rng.choice((BUY, SELL)),
                            OrderType.MARKET if market else OrderType.LIMIT,
                            TimeInForce.IOC if market else TimeInForce.GTC,
                            0 if market else 10_000 + 5 * rng.randint(-12, 12),
                            rng.randint(1, 30))
        events = driver.submit(order)
        for key, msg_type, body in hub.on_events(driver.index, events):
            clients[key].apply(wire(msg_type, body))
        hub._check()
        for depth, client in clients.items():
            bids, offers = matching.book(1).depth(depth or 8)
            assert client.rows(info, bids, offers), (seed, step, depth)
