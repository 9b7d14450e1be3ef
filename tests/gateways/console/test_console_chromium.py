"""The operator console end to end: a real 3-node cluster (``venue node`` processes), the
demo instruments and balances, a ``venue console`` process, and the page in headless
Chromium driven over the DevTools protocol. Everything binds 127.0.0.1 and is stopped by
PID; every wait polls a real condition with a deadline."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.processes import LocalCluster, stop_process
from venue.cluster.nodeconfig import OPERATOR_PRINCIPAL
from venue.codecs import (
    Event,
    OrderAccepted,
    OrderRejected,
    OrderType,
    RejectReason,
    Side,
    SubmitOrder,
    TimeInForce,
)
from venue.gateways.console import local as console_local
from venue.gateways.console.config import ConsoleConfig

from ..running_cluster import free_port, start_seeded
from .cdp import Chromium, chromium_path
from .png import pixel_statistics

pytestmark = pytest.mark.slow
BTC_USD, ETH_USD = 1, 2


def _require_chromium() -> None:
    if chromium_path() is not None:
        return
    reason = ("headless Chromium is not installed (Debian: apt-get install chromium); "
              "VENUE_REQUIRE_CHROMIUM=1 makes this a failure")
    if os.environ.get("VENUE_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.mark.parametrize("required", ["", "1"])
def test_without_chromium_the_browser_tests_skip_unless_it_is_required(
        monkeypatch: pytest.MonkeyPatch, required: str) -> None:
    monkeypatch.setattr(f"{__name__}.chromium_path", lambda: None)
    monkeypatch.setenv("VENUE_REQUIRE_CHROMIUM", required)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="apt-get install chromium"):
        _require_chromium()



class RunningConsole:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cluster = LocalCluster(folder)
        self.process: subprocess.Popen | None = None
        self.config: ConsoleConfig | None = None

    def start(self) -> None:
        start_seeded(self.cluster, self.folder)
        node = self.cluster.configs[1]
        operator = node.credentials[OPERATOR_PRINCIPAL]
        console_local.write_local_console(self.folder, self.cluster.addresses,
                                          node.cluster_id, OPERATOR_PRINCIPAL, operator,
                                          free_port())
        self.config = console_local.load(self.folder)
        self.process = console_local.start_console(self.folder)
        if not console_local.wait_listening(self.config.host, self.config.port, self.process):
            raise AssertionError((self.folder / "console.log").read_text())

    @property
    def url(self) -> str:
        assert self.config is not None
        return f"http://{self.config.host}:{self.config.port}/"

    def submit(self, *commands: SubmitOrder) -> list[list[Event]]:
        return self.cluster.submit(*commands)

    def applied_index(self) -> int:
        return self.cluster.applied_index()

    def stop(self) -> None:
        stop_process(self.process)
        self.cluster.stop_all()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    _require_chromium()
    browser = Chromium(tmp_path)
    try:
        browser.start()
        yield browser
    finally:
        browser.stop()


@pytest.fixture
def console(tmp_path: Path, chromium: Chromium) -> Iterator[RunningConsole]:
    running = RunningConsole(tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _limit(order_id: str, account: int, side: Side, price: int, quantity: int,
           instrument_id: int = BTC_USD) -> SubmitOrder:
    return SubmitOrder(account, instrument_id, order_id, side, OrderType.LIMIT,
                       TimeInForce.GTC, price, quantity)


NODE_ROLES = "[...document.querySelectorAll('#nodes tbody td.role')].map(td => td.textContent)"
STATUS_OF_BTC = ("(document.querySelector('#instruments tr[data-symbol=\"BTC-USD\"] td.status')"
                 " || {}).textContent")


def _click_halt(chromium: Chromium, token: str) -> None:
    chromium.evaluate(f"document.getElementById('token').value = {json.dumps(token)}; true")
    chromium.evaluate("document.querySelector('#instruments button[data-action=\"halt\"]"
                      f"[data-instrument_id=\"{BTC_USD}\"]').click(); true")


def _newest_result(chromium: Chromium, css_class: str) -> str:
    return str(chromium.wait_for(
        f"(() => {{ const li = document.querySelector('#results li');"
        f" return li && li.className === '{css_class}' ? li.textContent : ''; }})()",
        what=f"the newest action result to be {css_class}"))


def test_the_page_shows_the_cluster_and_the_book_and_its_halt_stops_matching(
        console: RunningConsole, chromium: Chromium, tmp_path: Path) -> None:
    """Nodes with one leader; resting orders appear in the page's book and the account's
    open orders, a trade in the recent trades and the last price; a wrong token is refused
    and changes nothing; "halt" with the operator token halts BTC-USD, and a crossing order
    is then rejected by the engine (INSTRUMENT_HALTED) and does not trade on the page
    either. The screenshot is kept as console.png in the test's temporary directory."""
    chromium.navigate(console.url)
    chromium.wait_for(f"(() => {{ const roles = {NODE_ROLES}; return roles.length === 3 &&"
                      " roles.filter(r => r === 'leader').length === 1 &&"
                      " roles.filter(r => r === 'follower').length === 2; })()",
                      what="3 nodes, one leader")
    assert chromium.wait_for(STATUS_OF_BTC, what="BTC-USD listed") == "OPEN"
    chromium.evaluate("const a = document.getElementById('account'); a.value = '101';"
                      " a.dispatchEvent(new Event('change')); true")

    accepted = console.submit(_limit("bid-1", 101, Side.BUY, 6_500_000, 10_000),
                              _limit("ask-1", 102, Side.SELL, 6_510_000, 5_000))
    assert all(isinstance(events[0], OrderAccepted) for events in accepted), accepted
    chromium.wait_for("!!document.querySelector('#bids tr[data-price=\"65000.00\"]') &&"
                      " !!document.querySelector('#offers tr[data-price=\"65100.00\"]')",
                      what="both orders in the page's book")
    bid_row = chromium.evaluate("document.querySelector('#bids tr[data-price=\"65000.00\"]')"
                                ".innerText")
    assert "1.0000" in str(bid_row)
    chromium.wait_for("document.querySelector('#orders tbody').innerText.includes('bid-1')",
                      what="account 101's open order")
    console.submit(_limit("eth-ask", 102, Side.SELL, 300_000, 2_000, ETH_USD),
                   _limit("eth-bid", 101, Side.BUY, 300_000, 2_000, ETH_USD))
    trade = chromium.wait_for("(document.querySelector('#trades tbody tr') || {}).innerText",
                              what="the ETH-USD trade")
    assert "ETH-USD" in str(trade) and "3000.00" in str(trade) and "2.000" in str(trade)
    assert chromium.evaluate("document.querySelector('#instruments tr[data-symbol=\"ETH-USD\"]"
                             " td.last-price').textContent") == "3000.00"

    _click_halt(chromium, "not-the-operator-token")
    assert "wrong operator token" in _newest_result(chromium, "fail")
    assert chromium.evaluate(STATUS_OF_BTC) == "OPEN"

    assert console.config is not None
    _click_halt(chromium, console.config.operator_token)
    assert "InstrumentStatusChanged" in _newest_result(chromium, "ok")
    chromium.wait_for(f"{STATUS_OF_BTC} === 'HALTED'", what="BTC-USD shown HALTED")

    [events] = console.submit(_limit("cross-1", 101, Side.BUY, 6_510_000, 5_000))
    assert [type(e) for e in events] == [OrderRejected], events
    assert events[0].reason == RejectReason.INSTRUMENT_HALTED
    applied = console.applied_index()
    chromium.wait_for(f"Number(document.getElementById('position').textContent) >= {applied}",
                      what="the page to reach the rejected order's position")
    assert chromium.evaluate("document.querySelectorAll('#trades tbody tr').length") == 1
    assert chromium.evaluate("!!document.querySelector('#offers tr[data-price=\"65100.00\"]')")

    screenshot = chromium.screenshot(tmp_path / "console.png")
    distinct, not_background = pixel_statistics(screenshot)
    assert distinct >= 50 and not_background > 0.02, (distinct, not_background)


def test_the_pages_kill_switch_snapshot_and_leader_transfer_reach_the_cluster(
        console: RunningConsole, chromium: Chromium) -> None:
    """With the operator token: "engage kill switch" cancels account 101's open order and
    the page says so; "snapshot every node" is answered by every node; "make leader" on a
    follower moves the leadership there, as the nodes table then shows."""
    assert console.config is not None
    chromium.navigate(console.url)
    chromium.wait_for(f"{NODE_ROLES}.filter(r => r === 'leader').length === 1",
                      what="a leader")
    chromium.evaluate(f"document.getElementById('token').value ="
                      f" {json.dumps(console.config.operator_token)};"
                      " const a = document.getElementById('account'); a.value = '101';"
                      " a.dispatchEvent(new Event('change')); true")
    console.submit(_limit("bid-1", 101, Side.BUY, 6_500_000, 10_000))
    chromium.wait_for("document.querySelector('#orders tbody').innerText.includes('bid-1')",
                      what="account 101's open order")

    chromium.evaluate("document.getElementById('kill-engage').click(); true")
    assert "KillSwitchSet" in _newest_result(chromium, "ok")
    chromium.wait_for("document.getElementById('kill-switch').textContent ==="
                      " 'KILL SWITCH ENGAGED' &&"
                      " document.querySelectorAll('#orders tbody tr').length === 0",
                      what="the kill switch engaged and the order cancelled")
    [events] = console.submit(_limit("bid-2", 101, Side.BUY, 6_500_000, 10_000))
    assert events[0].reason == RejectReason.KILL_SWITCH_ACTIVE, events

    chromium.evaluate("document.getElementById('snapshot-all').click(); true")
    text = _newest_result(chromium, "ok")
    assert all(f"node {node}:" in text for node in (1, 2, 3)), text

    follower = chromium.evaluate("document.querySelector('#nodes tr[data-role=\"follower\"]')"
                                 ".dataset.node")
    chromium.evaluate(f"document.querySelector('#nodes tr[data-node=\"{follower}\"]"
                      " button[data-action=\"transfer_leader\"]').click(); true")
    _newest_result(chromium, "ok")
    chromium.wait_for(f"(() => {{ const row = document.querySelector("
                      f"'#nodes tr[data-node=\"{follower}\"]'); return row &&"
                      f" row.dataset.role === 'leader' &&"
                      f" {NODE_ROLES}.filter(r => r === 'leader').length === 1; }})()",
                      what=f"node {follower} leading")
