"""``venue history`` (the read model's process) and ``venue history-query`` (the same
queries as the HTTP API, printed as JSON). Kept light: the modules load when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from venue.gateways.service import run_until_stopped, setup_logging

EXIT_BAD_INPUT = 2


def _config(args: argparse.Namespace):  # -> HistoryConfig
    from .process import HistoryConfig, HistoryConfigError, load_history_config, parse_host_port

    if args.config:
        return load_history_config(args.config)
    host, port = parse_host_port(args.http) if args.http else ("127.0.0.1", 0)
    cluster = tuple(a for a in (args.cluster or "").split(",") if a)
    credential = ""
    if args.credential_file:  # a file, so the secret is not on the command line (ps)
        try:
            credential = Path(args.credential_file).read_text().strip()
        except OSError as exc:
            raise HistoryConfigError(f"--credential-file: {exc}") from None
    return HistoryConfig(cluster, args.sqlite, args.postgres, host, port,
                         args.batch_entries_max, args.batch_interval_ms,
                         args.principal or "", credential)


def cmd_history(args: argparse.Namespace) -> int:
    from .backends import HistoryDatabaseError
    from .process import HistoryConfigError, run_history

    setup_logging(args.verbose)
    try:
        config = _config(args)
    except HistoryConfigError as exc:
        print(f"venue history: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    try:
        run_until_stopped(lambda stop: run_history(config, stop))
    except HistoryDatabaseError as exc:
        print(f"venue history: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def cmd_history_query(args: argparse.Namespace) -> int:
    from .backends import HistoryDatabaseError, open_history
    from .queries import BadParameter, HistoryQueries

    if (args.db is None) == (args.postgres is None):
        print("venue history-query: give --db PATH or --postgres DSN", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        database = open_history(args.db, args.postgres, readonly=True)
    except (HistoryDatabaseError, OSError, sqlite3.Error) as exc:
        print(f"venue history-query: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        queries = HistoryQueries(database)
        if args.query == "trades":
            answer = queries.trades(args.instrument, args.start, args.end, args.limit)
        elif args.query == "top":
            answer = queries.top_trades(args.instrument, args.window_s, args.n, args.end)
        else:
            answer = queries.account_orders(args.account, args.limit)
    except BadParameter as exc:
        print(json.dumps({"error": str(exc), "parameter": exc.parameter}))
        return EXIT_BAD_INPUT
    except Exception as exc:  # sqlite3.Error, psycopg.Error: the database, not the input
        print(f"venue history-query: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        database.close()
    print(json.dumps(answer, indent=2))
    return 0


def add_history_commands(commands: argparse._SubParsersAction) -> None:
    from .process import BATCH_ENTRIES_MAX_DEFAULT, BATCH_INTERVAL_MS_DEFAULT

    run = commands.add_parser("history", help="follow the event stream into an SQL history")
    run.add_argument("--config", help="a JSON config file (instead of the flags below)")
    run.add_argument("--cluster", help="node client addresses, comma-separated host:port")
    run.add_argument("--principal", help="a principal of the cluster's credentials")
    run.add_argument("--credential-file", help="a file holding that principal's credential")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--sqlite", help="the SQLite database file (created if missing)")
    target.add_argument("--postgres", help="a PostgreSQL DSN")
    run.add_argument("--http", help="serve the queries on host:port")
    run.add_argument("--batch-entries-max", type=int, default=BATCH_ENTRIES_MAX_DEFAULT)
    run.add_argument("--batch-interval-ms", type=int, default=BATCH_INTERVAL_MS_DEFAULT)
    run.add_argument("-v", "--verbose", action="store_true")
    run.set_defaults(handler=cmd_history)

    query = commands.add_parser("history-query", help="query a history database (JSON)")
    source = query.add_mutually_exclusive_group()
    source.add_argument("--db", help="the SQLite database file")
    source.add_argument("--postgres", help="a PostgreSQL DSN")
    kinds = query.add_subparsers(dest="query", required=True)
    trades = kinds.add_parser("trades", help="an instrument's trades in a time range")
    trades.add_argument("--instrument", required=True)
    trades.add_argument("--from", dest="start", help="ISO 8601 time or nanoseconds")
    trades.add_argument("--to", dest="end", help="ISO 8601 time or nanoseconds (exclusive)")
    trades.add_argument("--limit")
    top = kinds.add_parser("top", help="the top-N trades by price over a window")
    top.add_argument("--instrument", required=True)
    top.add_argument("--window-s", required=True)
    top.add_argument("--n")
    top.add_argument("--to", dest="end", help="the window's end (default: the last entry)")
    orders = kinds.add_parser("orders", help="an account's orders with their fills")
    orders.add_argument("--account", required=True)
    orders.add_argument("--limit")
    query.set_defaults(handler=cmd_history_query)
