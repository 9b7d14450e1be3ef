"""The FIX gateway in front of a real 3-node cluster (``venue node`` processes and a
``venue fix-gateway`` process on 127.0.0.1): orders that cross, execution reports to both
firms and the drop copy, market data, firm isolation, and a gateway killed with SIGKILL that
comes back without losing or repeating a report, a reject among them."""

from __future__ import annotations

import asyncio

import pytest

from venue.codecs import OrderType, Side, SubmitOrder, TimeInForce

from .fixclient import FixClient, execution
from .venue_fixture import Venue

BTC = b"BTC-USD"


def _order(cl_ord_id: bytes, side: bytes, price: bytes, quantity: bytes):
    return ((11, cl_ord_id), (38, quantity), (40, b"2"), (44, price), (54, side),
            (55, BTC), (59, b"1"), (60, b"20260101-00:00:00"))


@pytest.mark.slow
def test_orders_cross_and_every_party_hears_of_it(venue: Venue) -> None:
    seller, buyer, drop = venue.client("DEMO1"), venue.client("DEMO2"), venue.client("DEMO-DC")
    buyer.send(b"V", (262, b"md1"), (263, b"1"), (264, b"0"), (265, b"1"), (267, b"2"),
               (269, b"0"), (269, b"1"), (146, b"1"), (55, BTC))
    snapshot = buyer.expect(lambda m: m.msg_type == b"W")
    assert snapshot.get(268) == b"0"  # an empty book

    seller.send(b"D", *_order(b"s1", b"2", b"65000.00", b"1.0000"))
    accepted = seller.expect(execution(b"s1", b"0"))
    assert accepted.get(1) == b"101" and accepted.get(151) == b"1.0000"
    update = buyer.expect(lambda m: m.msg_type == b"X")
    assert update.get(270) == b"65000.00" and update.get(271) == b"1.0000"

    buyer.send(b"D", *_order(b"b1", b"1", b"65100.00", b"0.4000"))
    taker = buyer.expect(execution(b"b1", b"F"))
    assert (taker.get(31), taker.get(32), taker.get(39)) == (b"65000.00", b"0.4000", b"2")
    maker = seller.expect(execution(b"s1", b"F"))
    assert (maker.get(14), maker.get(151), maker.get(39)) == (b"0.4000", b"0.6000", b"1")
    copies = [drop.expect(lambda m: m.msg_type == b"8") for _ in range(4)]
    assert sorted((m.get(1), m.get(11), m.get(150)) for m in copies) == [
        (b"101", b"s1", b"0"), (b"101", b"s1", b"F"), (b"102", b"b1", b"0"),
        (b"102", b"b1", b"F")]

    # firm isolation: DEMO2 cannot cancel DEMO1's order, nor act for account 101
    buyer.send(b"F", (11, b"x1"), (41, b"s1"), (54, b"2"), (55, BTC),
               (60, b"20260101-00:00:00"))
    refused = buyer.expect(lambda m: m.msg_type == b"9")
    assert refused.get(102) == b"1"  # unknown order
    buyer.send(b"D", (1, b"101"), *_order(b"b2", b"1", b"65000.00", b"0.1000"))
    assert buyer.expect(execution(b"b2", b"8")).get(103) is not None
    seller.send(b"F", (11, b"c1"), (41, b"s1"), (54, b"2"), (55, BTC),
                (60, b"20260101-00:00:00"))
    cancelled = seller.expect(execution(b"c1", b"4"))
    assert cancelled.get(41) == b"s1" and cancelled.get(151) == b"0.0000"
    for client in (seller, buyer, drop):
        client.close()


def _act_while_the_gateway_is_down(venue: Venue, command: SubmitOrder
                                   ) -> tuple[FixClient, int]:
    """DEMO1 rests a sell s1 of 1.0000 at 65000.00; the gateway is SIGKILLed; a direct
    cluster client submits ``command``; the restarted gateway takes DEMO1's logon (whose
    MsgSeqNum shows the report stored meanwhile: a gap) and a ResendRequest for the gap.
    Returns the client and the first MsgSeqNum resent."""
    seller = venue.client("DEMO1")
    seller.send(b"D", *_order(b"s1", b"2", b"65000.00", b"1.0000"))
    accepted = seller.expect(execution(b"s1", b"0"))
    expected_in, next_out = int(accepted.get(34) or 0) + 1, seller.seq
    seller.close()
    venue.kill_gateway()

    async def submit() -> None:
        client = venue.cluster.client()
        await client.start()
        await client.submit(command)
        await client.close()
    asyncio.run(submit())

    venue.start_gateway()
    again = FixClient(venue.config.host, venue.config.port, "DEMO1")
    again.seq = next_out
    logon = again.logon(venue.config.sessions[0].fix.password)
    assert logon.msg_type == b"A" and int(logon.get(34) or 0) == expected_in + 1
    again.send(b"2", (7, b"%d" % expected_in), (16, b"0"))
    return again, expected_in


@pytest.mark.slow
def test_a_killed_gateway_comes_back_without_losing_or_repeating_reports(
        venue: Venue) -> None:
    # while the gateway is down, another firm fills DEMO1's order
    again, expected_in = _act_while_the_gateway_is_down(venue, SubmitOrder(
        102, 1, "b-direct", Side.BUY, OrderType.LIMIT, TimeInForce.IOC, 6_500_000, 2_500))
    fill = again.expect(execution(b"s1", b"F"))
    assert (fill.get(32), fill.get(43), fill.get(34)) == (b"0.2500", b"Y",
                                                         b"%d" % expected_in)
    again.send(b"1", (112, b"probe"))
    again.expect(lambda m: m.msg_type == b"0" and m.get(112) == b"probe")
    assert [m for m in again.received if m.msg_type == b"8"] == [], "a report came twice"
    again.close()


@pytest.mark.slow
def test_a_reject_the_killed_gateway_never_saw_reaches_the_client_in_full(
        venue: Venue) -> None:
    """An order of DEMO1's is rejected while the gateway is down; the restarted gateway has
    no note of it (as after a crash between forwarding an order and its reject) and still
    sends the ER 8 with the order's Side, OrderQty, OrdType and Price, from the event."""
    # s1 is open: a second s1 is a duplicate
    again, _ = _act_while_the_gateway_is_down(venue, SubmitOrder(
        101, 1, "s1", Side.SELL, OrderType.LIMIT, TimeInForce.GTC, 6_510_050, 2_500))
    reject = again.expect(execution(b"s1", b"8"))
    assert (reject.get(39), reject.get(103), reject.get(43)) == (b"8", b"6", b"Y")
    assert (reject.get(54), reject.get(38), reject.get(40), reject.get(44)) == (
        b"2", b"0.2500", b"2", b"65100.50")
    again.close()


@pytest.mark.slow
def test_a_drop_copy_resumes_from_its_last_sequence_after_a_reconnect(venue: Venue) -> None:
    drop = venue.client("DEMO-DC")
    seller = venue.client("DEMO1")
    seller.send(b"D", *_order(b"s1", b"2", b"65000.00", b"1.0000"))
    drop.expect(execution(b"s1", b"0"))
    drop.send(b"5")  # logs out; its session keeps collecting copies
    logout = drop.expect(lambda m: m.msg_type == b"5")
    expected_in, next_out = int(logout.get(34) or 0) + 1, drop.seq
    drop.close()
    buyer = venue.client("DEMO2")
    buyer.send(b"D", *_order(b"b1", b"1", b"65000.00", b"0.3000"))
    buyer.expect(execution(b"b1", b"F"))
    seller.expect(execution(b"s1", b"F"))

    again = FixClient(venue.config.host, venue.config.port, "DEMO-DC")
    again.seq = next_out
    logon = again.logon(venue.config.sessions[2].fix.password)
    missed = int(logon.get(34) or 0) - expected_in
    assert missed == 3  # b1 New, b1 fill, s1 fill, stored while it was away
    again.send(b"2", (7, b"%d" % expected_in), (16, b"0"))
    copies = [again.expect(lambda m: m.msg_type == b"8") for _ in range(missed)]
    assert sorted((m.get(11), m.get(150)) for m in copies) == [
        (b"b1", b"0"), (b"b1", b"F"), (b"s1", b"F")]
    assert all(m.get(43) == b"Y" for m in copies)
    for client in (again, seller, buyer):
        client.close()
