"""``venue history-query`` prints the queries' JSON; ``venue history`` reads its config."""

from __future__ import annotations

import json

import pytest

from venue.cluster.cli import main
from venue.gateways.history.backends import open_history
from venue.gateways.history.process import HistoryConfigError, load_history_config

from .feed import ingest, scripted_feed


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "history.db"
    with open_history(path) as database:
        ingest(database, scripted_feed().rows, batch_entries=6)
    return str(path)


def test_history_query_prints_trades_top_and_orders(db_path, capsys):
    assert main(["history-query", "--db", db_path, "trades", "--instrument", "BTC-USD",
                 "--limit", "2"]) == 0
    trades = json.loads(capsys.readouterr().out)["trades"]
    assert [t["quantity"] for t in trades] == ["0.5000", "1.5000"]
    assert main(["history-query", "--db", db_path, "top", "--instrument", "BTC-USD",
                 "--window-s", "60", "--n", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["trades"][0]["price"] == "1002.00"
    assert main(["history-query", "--db", db_path, "orders", "--account", "103"]) == 0
    [order] = json.loads(capsys.readouterr().out)["orders"]
    assert (order["client_order_id"], order["status"], len(order["fills"])) == (
        "b2", "cancelled", 2)


def test_history_query_names_a_bad_parameter_and_exits_2(db_path, capsys):
    assert main(["history-query", "--db", db_path, "trades", "--instrument", "BTC-USD",
                 "--from", "noon"]) == 2
    assert json.loads(capsys.readouterr().out)["parameter"] == "from"


def test_history_query_of_a_missing_database_exits_2(tmp_path, capsys):
    assert main(["history-query", "--db", str(tmp_path / "none.db"), "trades",
                 "--instrument", "BTC-USD"]) == 2
    assert "history-query" in capsys.readouterr().err


def test_the_config_file_is_checked(tmp_path):
    path = tmp_path / "history.json"
    me = {"principal": "history", "credential": "t0ken"}
    path.write_text(json.dumps({"cluster": ["127.0.0.1:7201"], "sqlite": "h.db",
                                "http": "127.0.0.1:8600", "batch_entries_max": 500, **me}))
    config = load_history_config(path)
    assert (config.cluster, config.sqlite, config.http_port, config.batch_entries_max,
            config.principal, config.credential) == (
        ("127.0.0.1:7201",), "h.db", 8600, 500, "history", "t0ken")
    for bad in ({"cluster": ["a:1"], **me}, {"cluster": [], "sqlite": "h.db", **me},
                {"cluster": ["a:1"], "sqlite": "h.db", "postgres": "x", **me},
                {"cluster": ["a:1"], "sqlite": "h.db", "colour": "red", **me},
                {"cluster": ["a:1"], "sqlite": "h.db", "http": "nowhere", **me},
                {"cluster": ["a:1"], "sqlite": "h.db"},  # no credential: refused
                {"cluster": ["a:1"], "sqlite": "h.db", "principal": "history"}):
        path.write_text(json.dumps(bad))
        with pytest.raises(HistoryConfigError):
            load_history_config(path)
