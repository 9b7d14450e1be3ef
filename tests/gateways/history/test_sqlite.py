"""The SQLite backend and the queries over a history made by the real engine."""

from __future__ import annotations

import random
import sqlite3

import pytest

from venue.gateways.history.backends import SqliteHistory, open_history
from venue.gateways.history.fold import HistoryFolder
from venue.gateways.history.queries import BadParameter, HistoryQueries, iso_time

from .feed import dump, ingest, random_feed, scripted_feed


@pytest.fixture
def scripted_db(tmp_path):
    database = open_history(tmp_path / "history.db")
    ingest(database, scripted_feed().rows, batch_entries=4)
    yield database
    database.close()


@pytest.mark.parametrize("batch_entries", [1, 3, 1_000])
def test_batch_boundaries_do_not_change_the_tables(tmp_path, batch_entries):
    rows = random_feed(seed=7, commands=400).rows
    one = open_history(tmp_path / "one.db")
    ingest(one, rows, batch_entries=10_000)
    other = open_history(tmp_path / f"split-{batch_entries}.db")
    ingest(other, rows, batch_entries=batch_entries)
    assert dump(other) == dump(one)
    assert len(dump(one)["fills"]) > 50  # the flow really traded
    assert other.high_water_mark() == rows[-1][:2]


def test_resuming_from_the_high_water_mark_equals_one_pass(tmp_path):
    rows = random_feed(seed=11, commands=300).rows
    whole = open_history(tmp_path / "whole.db")
    ingest(whole, rows, batch_entries=50)
    cut = random.Random(3).randrange(10, len(rows) - 10)
    resumed = open_history(tmp_path / "resumed.db")
    ingest(resumed, rows[:cut], batch_entries=7)
    resumed.close()
    resumed = open_history(tmp_path / "resumed.db")  # a new process: only the file remains
    assert resumed.high_water_mark()[0] == cut
    ingest(resumed, rows, batch_entries=7)
    assert dump(resumed) == dump(whole)


def test_a_failed_batch_leaves_rows_and_mark_as_they_were(tmp_path):
    rows = scripted_feed().rows
    database = open_history(tmp_path / "history.db")
    ingest(database, rows[:10], batch_entries=100)  # the first fill is at position 10
    before = dump(database)
    folder = HistoryFolder(10)
    folder.add(*rows[9])  # position 10 again: its fill's primary key already exists
    with pytest.raises(sqlite3.IntegrityError):
        database.write(folder.take())
    assert dump(database) == before
    assert database.high_water_mark()[0] == 10


def test_trades_by_instrument_and_time_range_are_exact_decimals(scripted_db):
    queries = HistoryQueries(scripted_db)
    answer = queries.trades("BTC-USD")
    assert [(t["price"], t["quantity"], t["taker_side"]) for t in answer["trades"]] == [
        ("1000.50", "0.5000", "buy"), ("1000.50", "1.5000", "buy"),
        ("1002.00", "0.8000", "buy")]
    first, second, _ = answer["trades"]
    assert first["time"] == iso_time(first["timestamp_ns"])
    later = queries.trades("BTC-USD", str(second["timestamp_ns"]), None, None)
    assert [t["trade_id"] for t in later["trades"]] == [2, 3]
    before = queries.trades("BTC-USD", None, second["time"], "10")  # "to" is exclusive
    assert [t["trade_id"] for t in before["trades"]] == [1]
    assert len(queries.trades("BTC-USD", limit="2")["trades"]) == 2


def test_top_trades_by_price_over_a_window(scripted_db):
    queries = HistoryQueries(scripted_db)
    top = queries.top_trades("BTC-USD", "3600", "2")
    assert [(t["price"], t["quantity"]) for t in top["trades"]] == [
        ("1002.00", "0.8000"), ("1000.50", "0.5000")]
    trades = queries.trades("BTC-USD")["trades"]
    # a window that ends just after trade 1: only it is inside
    only_first = queries.top_trades("BTC-USD", "1", "5", str(trades[0]["timestamp_ns"] + 1))
    assert [t["trade_id"] for t in only_first["trades"]] == [1]


def test_an_accounts_orders_come_newest_first_with_their_fills(scripted_db):
    answer = HistoryQueries(scripted_db).account_orders("101")
    assert [(o["client_order_id"], o["status"], o["filled_quantity"]) for o in
            answer["orders"]] == [("s2r", "filled", "0.8000"), ("s1", "filled", "2.0000")]
    s2r, s1 = answer["orders"]
    assert (s2r["price"], s2r["quantity"]) == ("1002.00", "0.8000")
    assert [f["quantity"] for f in s1["fills"]] == ["0.5000", "1.5000"]
    b3 = HistoryQueries(scripted_db).account_orders("102")["orders"][0]
    assert (b3["client_order_id"], b3["status"], b3["fills"]) == ("b3", "cancelled", [])


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda q: q.trades("NOPE-USD"), "instrument"),
    (lambda q: q.trades(None), "instrument"),
    (lambda q: q.trades("BTC-USD", "yesterday"), "from"),
    (lambda q: q.trades("BTC-USD", "2026-01-02", "2026-01-01"), "to"),
    (lambda q: q.trades("BTC-USD", limit="0"), "limit"),
    (lambda q: q.trades("BTC-USD", limit="ten"), "limit"),
    (lambda q: q.top_trades("BTC-USD", None), "window_s"),
    (lambda q: q.top_trades("BTC-USD", "-5"), "window_s"),
    (lambda q: q.top_trades("BTC-USD", "60", "100000"), "n"),
    (lambda q: q.account_orders("abc"), "account"),
])
def test_bad_parameters_are_named(scripted_db, call, parameter):
    with pytest.raises(BadParameter) as caught:
        call(HistoryQueries(scripted_db))
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(("statement", "index"), [
    ("SELECT_TRADES", "fills_by_instrument_time"),
    ("SELECT_TOP_TRADES", "fills_by_instrument_time"),
    ("SELECT_ACCOUNT_ORDERS", "orders_by_account"),
])
def test_each_query_is_served_by_its_index(scripted_db, statement, index):
    from venue.gateways.history import schema

    parameters = {"SELECT_ACCOUNT_ORDERS": (101, 10)}.get(statement, (1, 0, 2**62, 10))
    plan = scripted_db.query("EXPLAIN QUERY PLAN " + getattr(schema, statement), parameters)
    assert any(index in str(row) for row in plan), plan


def test_order_fills_use_the_order_id_indexes(scripted_db):
    from venue.gateways.history import schema

    statement = schema.SELECT_ORDERS_FILLS.format(ids="?, ?")
    plan = " ".join(str(row) for row in scripted_db.query(
        "EXPLAIN QUERY PLAN " + statement, (1, 2, 1, 2)))
    assert "fills_by_maker_order" in plan and "fills_by_taker_order" in plan, plan


def test_a_readonly_connection_cannot_write(tmp_path, scripted_db):
    reader = SqliteHistory(tmp_path / "history.db", readonly=True)
    assert reader.high_water_mark() == scripted_db.high_water_mark()
    with pytest.raises(sqlite3.OperationalError):
        reader.query("DELETE FROM fills")


def test_the_tables_agree_with_a_simple_model_of_the_events(tmp_path):
    """Each order's filled quantity is the sum of its fills, its row is its last event's
    state, and there is one fill row per OrderFilled and one order row per OrderAccepted."""
    from venue.codecs import OrderAccepted, OrderCancelled, OrderFilled, OrderReplaced

    rows = random_feed(seed=23, commands=600).rows
    database = open_history(tmp_path / "history.db")
    ingest(database, rows, batch_entries=13)
    accepted, filled, leaves, fills = {}, {}, {}, 0
    for _, _, outcomes in rows:
        for event in (e for o in outcomes for e in o.events):
            if isinstance(event, OrderAccepted):
                accepted[event.order_id] = event
                leaves[event.order_id] = event.quantity
            elif isinstance(event, OrderFilled):
                fills += 1
                for order_id, left in ((event.maker_order_id, event.maker_leaves_quantity),
                                       (event.taker_order_id, event.taker_leaves_quantity)):
                    filled[order_id] = filled.get(order_id, 0) + event.quantity
                    leaves[order_id] = left
            elif isinstance(event, OrderCancelled):
                leaves[event.order_id] = 0
            elif isinstance(event, OrderReplaced):
                leaves[event.order_id] = event.leaves_quantity
    orders = {row[0]: row for row in database.table_rows("orders")}
    assert set(orders) == set(accepted)
    assert len(database.table_rows("fills")) == fills > 100
    for order_id, row in orders.items():
        assert row[11] == filled.get(order_id, 0), order_id  # filled_quantity
        assert row[10] == leaves[order_id], order_id  # leaves_quantity
    answer = HistoryQueries(database).account_orders("101", "10000")
    for order in answer["orders"]:
        assert len(order["fills"]) == sum(
            1 for fill in database.table_rows("fills") if order["order_id"] in (fill[5], fill[7]))
