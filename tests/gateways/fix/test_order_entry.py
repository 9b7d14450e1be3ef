"""The gateway's order-entry application without a cluster: the gateway's FIX core driven by
a counterparty, commands captured where they would go to the cluster, events fed in as the
stream would deliver them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from venue.codecs import (
    InstrumentAdded,
    MassCancel,
    OrderAccepted,
    OrderType,
    RequestKind,
    Side,
    SubmitOrder,
    TimeInForce,
)
from venue.codecs.schema import Outcome, Schema
from venue.gateways.fix.gateway import FixGateway
from venue.gateways.fix.gateway_config import load_gateway_config

from ...modules.harness import EngineDriver
from ...modules.trading import btc_usd, make_modules
from .sessions import Counterparty, S, kinds

ORDER = ((11, b"o1"), (38, b"1.5000"), (40, b"2"), (44, b"65000.50"), (54, b"1"),
         (55, b"BTC-USD"), (60, b"20260101-00:00:00"))


def make_gateway(tmp_path: Path) -> tuple[FixGateway, list]:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({
        "cluster": {"addresses": ["127.0.0.1:1"], "cluster_id": "c", "principal": "p",
                    "credential": "x"},
        "listen": ["127.0.0.1", 0], "data_dir": "fix", "sender_comp_id": "VENUE",
        "sessions": [
            {"target_comp_id": "FIRM", "account": 101, "throttle_per_s": 3,
             "cancel_on_disconnect": True},
            {"target_comp_id": "COPY", "kind": "drop_copy", "accounts": [101]}]}))
    gateway = FixGateway(load_gateway_config(path))
    submitted: list = []
    gateway.submit = lambda command, must=False: submitted.append(command)  # type: ignore
    gateway.apply(1, [Outcome(0, 0, [InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4, 1, 1, 1, 0,
                                                     0, 0)])])
    return gateway, submitted


def test_orders_become_commands_for_the_sessions_account_only(tmp_path: Path) -> None:
    gateway, submitted = make_gateway(tmp_path)
    firm = Counterparty(gateway.core, 1, sender=b"FIRM", target=b"VENUE")
    firm.logon()
    firm.send(b"D", *ORDER)
    assert submitted == [SubmitOrder(101, 1, "o1", Side.BUY, OrderType.LIMIT,
                                     TimeInForce.DAY, 6_500_050, 15_000)]
    firm.send(b"D", (1, b"102"), *ORDER[1:], (11, b"o2"))  # acting for another firm
    refused = firm.received()
    assert kinds(refused) == [(b"8", 2)] and refused[0].get(39) == b"8"
    assert len(submitted) == 1
    priced = [(tag, b"65000.505" if tag == 44 else value) for tag, value in ORDER[1:]]
    firm.send(b"D", (11, b"o3"), *priced)  # more decimals than the instrument has
    assert firm.received()[0].get(150) == b"8" and len(submitted) == 1
    gateway.stores.close()


def test_the_throttle_rejects_without_disconnecting_and_refills(tmp_path: Path) -> None:
    gateway, submitted = make_gateway(tmp_path)
    firm = Counterparty(gateway.core, 1, sender=b"FIRM", target=b"VENUE")
    firm.logon()
    for n in range(4):
        firm.send(b"D", *ORDER[1:], (11, b"t%d" % n))
    rejects = firm.received()
    assert len(submitted) == 3 and kinds(rejects) == [(b"j", 2)]
    assert b"Throttle" in (rejects[0].get(58) or b"") and firm.close_reason is None
    firm.now += S  # a second later the bucket is full again
    firm.send(b"D", *ORDER[1:], (11, b"t9"))
    assert len(submitted) == 4 and submitted[-1].client_order_id == "t9"
    gateway.stores.close()


def test_cancel_on_disconnect_and_the_drop_copy(tmp_path: Path) -> None:
    gateway, submitted = make_gateway(tmp_path)
    firm = Counterparty(gateway.core, 1, sender=b"FIRM", target=b"VENUE")
    copy = Counterparty(gateway.core, 2, sender=b"COPY", target=b"VENUE")
    firm.logon()
    copy.logon()
    gateway.apply(2, [Outcome(5, 1, [OrderAccepted(7, 101, 1, "o1", Side.BUY,
                                                   OrderType.LIMIT, TimeInForce.DAY,
                                                   6_500_050, 15_000)])])
    to_firm, to_copy = firm.received(), copy.received()
    assert [(m.get(11), m.get(150)) for m in to_firm] == [(b"o1", b"0")]
    assert [(m.get(1), m.get(11), m.get(37)) for m in to_copy] == [(b"101", b"o1", b"7")]
    copy.send(b"D", *ORDER)  # a drop copy session does not trade
    assert kinds(copy.received()) == [(b"j", 3)] and not submitted
    gateway.core.connection_lost(1, firm.now)
    assert len(submitted) == 1 and isinstance(submitted[0], MassCancel)
    assert submitted[0].account == 101 and submitted[0].instrument_id == 0
    assert gateway.stores.position == 2
    gateway.stores.close()


def test_a_busy_gateway_refuses_orders_with_a_reject_instead_of_dropping_them(
        tmp_path: Path) -> None:
    gateway, submitted = make_gateway(tmp_path)
    firm = Counterparty(gateway.core, 1, sender=b"FIRM", target=b"VENUE")
    firm.logon()
    gateway.link.in_flight = gateway.link.in_flight_max  # as many commands await replies as allowed
    firm.send(b"D", *ORDER)
    firm.send(b"F", (11, b"c1"), (41, b"o1"), (54, b"1"), (55, b"BTC-USD"),
              (60, b"20260101-00:00:00"))
    answers = firm.received()
    assert [(m.msg_type, m.get(39)) for m in answers] == [(b"8", b"8"), (b"9", b"8")]
    assert all(b"busy" in (m.get(58) or b"") for m in answers) and submitted == []
    gateway.stores.close()


def test_a_reject_that_arrives_after_a_restart_is_reported_in_full(tmp_path: Path) -> None:
    """The gateway forwards o1 and dies before o1's reject comes back: the restarted
    gateway never saw o1 (it has no note of it), and still sends FIRM the ER 8 with o1's
    Side, OrderQty, OrdType, TimeInForce and Price, taken from the engine's reject."""
    gateway, submitted = make_gateway(tmp_path)
    firm = Counterparty(gateway.core, 1, sender=b"FIRM", target=b"VENUE")
    firm.logon()
    firm.send(b"D", *ORDER)
    [command] = submitted
    gateway.stores.close()  # the process dies with its memory of o1

    engine = EngineDriver(make_modules(with_risk=False))
    engine.submit(btc_usd(max_quantity=100_000))  # a 10% band around 100.00: o1 is outside
    schema = Schema()
    events = [schema.decode_event(schema.encode(event)) for event in engine.submit(command)]
    assert [type(event).__name__ for event in events] == ["OrderRejected"]

    restarted, _ = make_gateway(tmp_path)
    assert restarted.orders.take_request(101, RequestKind.SUBMIT, "o1") is None  # no note
    again = Counterparty(restarted.core, 1, sender=b"FIRM", target=b"VENUE")
    again.seq = firm.seq
    assert kinds(again.logon()) == [(b"A", 2)]
    restarted.apply(2, [Outcome(5, 1, events)])
    [report] = again.received()
    assert (report.msg_type, report.get(11), report.get(150), report.get(39)) == (
        b"8", b"o1", b"8", b"8")
    assert (report.get(54), report.get(38), report.get(40), report.get(59),
            report.get(44)) == (b"1", b"1.5000", b"2", b"0", b"65000.50")
    assert report.get(58, b"").startswith(b"PRICE_OUT_OF_BAND")
    restarted.stores.close()


def test_the_session_store_is_synced_unless_the_config_says_otherwise(
        tmp_path: Path) -> None:
    """``store_sync`` (default true): each store commit reaches the disk before output goes
    out; false writes without syncing, as QuickFIX's FileStore does by default; anything
    but a boolean is refused."""
    from venue.gateways.fix.gateway_config import GatewayConfigError

    (tmp_path / "a").mkdir()
    synced, _ = make_gateway(tmp_path / "a")
    assert synced.config.store_sync is True
    assert synced.stores.env.flags()["sync"] is True
    synced.stores.close()
    for value, expected in ((False, False), ("no", None)):
        folder = tmp_path / f"b-{value}"
        folder.mkdir()
        path = folder / "gateway.json"
        path.write_text(json.dumps({
            "cluster": {"addresses": ["127.0.0.1:1"], "cluster_id": "c", "principal": "p",
                        "credential": "x"},
            "sessions": [{"target_comp_id": "FIRM", "account": 101}], "store_sync": value}))
        if expected is None:
            with pytest.raises(GatewayConfigError, match="store_sync must be true or false"):
                load_gateway_config(path)
            continue
        gateway = FixGateway(load_gateway_config(path))
        assert gateway.stores.env.flags()["sync"] is expected
        gateway.stores.close()
