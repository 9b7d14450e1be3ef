"""The PostgreSQL backend against a real server: the same ingest, resume and queries as
SQLite, and the same rows."""

from __future__ import annotations

import pytest

from venue.gateways.history.backends import open_history
from venue.gateways.history.queries import HistoryQueries

from .feed import dump, ingest, random_feed, scripted_feed


def test_postgres_holds_the_same_rows_as_sqlite(postgres_server, tmp_path):
    rows = random_feed(seed=5, commands=400).rows
    lite = open_history(tmp_path / "history.db")
    ingest(lite, rows, batch_entries=100)
    with open_history(postgres=postgres_server.new_database()) as pg:
        ingest(pg, rows, batch_entries=37)
        assert dump(pg) == dump(lite)
        assert pg.high_water_mark() == rows[-1][:2]


def test_postgres_resumes_from_its_high_water_mark(postgres_server):
    rows = random_feed(seed=9, commands=200).rows
    whole_dsn, resumed_dsn = postgres_server.new_database(), postgres_server.new_database()
    with open_history(postgres=whole_dsn) as whole:
        ingest(whole, rows, batch_entries=1_000)
        expected = dump(whole)
    with open_history(postgres=resumed_dsn) as resumed:
        ingest(resumed, rows[:77], batch_entries=10)
    with open_history(postgres=resumed_dsn) as resumed:
        assert resumed.high_water_mark()[0] == 77
        ingest(resumed, rows, batch_entries=10)
        assert dump(resumed) == expected


def test_postgres_queries_answer_exact_decimals(postgres_server):
    with open_history(postgres=postgres_server.new_database()) as pg:
        ingest(pg, scripted_feed().rows, batch_entries=3)
        reader = open_history(postgres=pg_dsn(pg), readonly=True)
        queries = HistoryQueries(reader)
        assert [t["price"] for t in queries.trades("BTC-USD")["trades"]] == [
            "1000.50", "1000.50", "1002.00"]
        top = queries.top_trades("BTC-USD", "60", "1")
        assert [(t["price"], t["quantity"]) for t in top["trades"]] == [("1002.00", "0.8000")]
        orders = queries.account_orders("101")["orders"]
        assert [(o["client_order_id"], len(o["fills"])) for o in orders] == [
            ("s2r", 1), ("s1", 2)]
        with pytest.raises(Exception, match="read-only"):
            reader.query("DELETE FROM fills")
        reader.close()


def pg_dsn(database) -> str:
    return database.connection.info.dsn
