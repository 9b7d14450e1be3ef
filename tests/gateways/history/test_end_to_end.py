"""``venue history`` against a real 3-node cluster (``venue node`` processes on 127.0.0.1):
trades made through the cluster are queried over HTTP; then, while a load of orders is
being applied, the history process is killed with SIGKILL and restarted, and its database
must equal a full replay of the stream into a fresh one: no entry twice, none missing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.cluster.processes import LocalCluster
from venue.codecs import OrderFilled, OrderType, Side, SubmitOrder, TimeInForce
from venue.gateways.history.backends import open_history

from ..running_cluster import start_seeded
from .feed import dump
from .running import HistoryProcess

pytestmark = pytest.mark.slow
LOAD_ORDERS = 4_000
LOAD_CHUNK = 50
CATCH_UP_TIMEOUT_S = 90
PRICE = 5_000_000  # 50000.00 (BTC-USD: 2 price decimals, 4 quantity decimals)


def limit(account: int, cl_id: str, side: Side, price: int, quantity: int) -> SubmitOrder:
    return SubmitOrder(account, 1, cl_id, side, OrderType.LIMIT, TimeInForce.GTC, price,
                       quantity)


class Load(threading.Thread):
    """Pairs of crossing orders from accounts 101 and 102, submitted in concurrent chunks;
    counts the fills the replies report."""

    def __init__(self, cluster: LocalCluster) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.fills = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._submit_all())
        except BaseException as exc:  # reported by the test
            self.error = exc

    async def _submit_all(self) -> None:
        client = self.cluster.client()
        await client.start()
        try:
            for chunk in range(0, LOAD_ORDERS, LOAD_CHUNK):
                commands = [limit(101 + n % 2, f"L{chunk + n}", Side.SELL if n % 2 == 0
                                  else Side.BUY, PRICE + (chunk // LOAD_CHUNK) % 7, 100)
                            for n in range(LOAD_CHUNK)]
                replies = await asyncio.gather(*(client.submit(c) for c in commands))
                self.fills += sum(isinstance(e, OrderFilled) for r in replies for e in r)
        finally:
            await client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    """A factory of fresh, empty history databases: their ``venue history`` flags and a way
    to open them."""
    if request.param == "sqlite":
        def make(name: str) -> tuple[list[str], dict]:
            path = str(tmp_path / f"{name}.db")
            return ["--sqlite", path], {"sqlite": path}
    else:
        server = request.getfixturevalue("postgres_server")

        def make(name: str) -> tuple[list[str], dict]:
            dsn = server.new_database()
            return ["--postgres", dsn], {"postgres": dsn}
    return make


@pytest.fixture
def cluster(tmp_path):
    running = LocalCluster(tmp_path)
    try:
        start_seeded(running, tmp_path)
        yield running
    finally:
        running.stop_all()


def test_history_is_queried_over_http_and_resumes_exactly_after_sigkill(
        tmp_path, cluster, backend):
    flags, where = backend("resumed")
    history = HistoryProcess(tmp_path, "history", cluster.addresses, flags,
                             cluster.credential())
    replay: HistoryProcess | None = None
    try:
        history.start()
        _trades_are_queried_over_http(cluster, history)
        at_kill = _kill_under_load(cluster, history, where)
        history.start()
        assert f"resuming at position {at_kill + 1}" in history.log()
        final = cluster.applied_index()
        history.wait_until(lambda: history.position() >= final, CATCH_UP_TIMEOUT_S,
                           f"the restarted history to reach {final}")
        replay_flags, replay_where = backend("replay")
        replay = HistoryProcess(tmp_path, "replay", cluster.addresses, replay_flags,
                                cluster.credential())
        replay.start()
        assert "resuming at position 1" in replay.log()
        replay.wait_until(lambda: replay.position() >= final, CATCH_UP_TIMEOUT_S,
                          f"the full replay to reach {final}")
    finally:
        history.stop()
        if replay is not None:
            replay.stop()
    with open_history(**where) as resumed, open_history(**replay_where) as full:
        resumed_rows, full_rows = dump(resumed), dump(full)
    for table in ("instruments", "orders", "fills", "instrument_events"):
        assert resumed_rows[table] == full_rows[table], table
    assert len(full_rows["orders"]) == LOAD_ORDERS + 3
    assert len(full_rows["fills"]) == LOAD_ORDERS // 2 + 2


def _trades_are_queried_over_http(cluster: LocalCluster, history: HistoryProcess) -> None:
    started_ns = time.time_ns()
    replies = cluster.submit(*[limit(101, "s1", Side.SELL, PRICE, 10_000),
                               limit(102, "b1", Side.BUY, PRICE, 4_000),
                               limit(102, "b2", Side.BUY, PRICE, 6_000)])
    assert sum(isinstance(e, OrderFilled) for r in replies for e in r) == 2
    final = cluster.applied_index()
    history.wait_until(lambda: history.position() >= final, CATCH_UP_TIMEOUT_S,
                       "the history to catch up")
    status, body = history.get("/trades?instrument=BTC-USD")
    assert status == 200
    trades = body["trades"]
    assert [(t["price"], t["quantity"], t["taker_side"]) for t in trades] == [
        ("50000.00", "0.4000", "buy"), ("50000.00", "0.6000", "buy")]
    for trade in trades:  # the log's timestamps, stamped by the leader as it ran
        assert started_ns - 60e9 < trade["timestamp_ns"] < time.time_ns() + 60e9
    status, body = history.get(f"/trades?instrument=BTC-USD&from={trades[1]['time']}")
    assert [t["quantity"] for t in body["trades"]] == ["0.6000"]
    status, body = history.get("/trades/top?instrument=BTC-USD&window_s=3600&n=1")
    assert (status, len(body["trades"])) == (200, 1)
    status, body = history.get("/accounts/101/orders")
    [s1] = body["orders"]
    assert (s1["status"], s1["filled_quantity"], len(s1["fills"])) == ("filled", "1.0000", 2)
    assert history.get("/trades?instrument=BTC-USD&limit=zero")[0] == 400


def _kill_under_load(cluster: LocalCluster, history: HistoryProcess, where: dict) -> int:
    """SIGKILL the history while the load is applied; the mark it left behind."""
    start = cluster.applied_index()
    load = Load(cluster)
    load.start()
    history.wait_until(lambda: history.position() > start + 40, CATCH_UP_TIMEOUT_S,
                       "the history to follow the load")
    history.kill()
    assert load.is_alive(), "the load finished before the kill: make it longer"
    with open_history(**where) as database:
        at_kill = database.high_water_mark()[0]
    assert at_kill > start
    load.join(CATCH_UP_TIMEOUT_S)
    assert not load.is_alive() and load.error is None, load.error
    assert load.fills == LOAD_ORDERS // 2
    assert cluster.applied_index() > at_kill  # entries were applied after the kill
    return at_kill
