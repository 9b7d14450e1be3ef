"""The history database: one class over SQLite (stdlib ``sqlite3``, WAL) and PostgreSQL
(psycopg 3), which differ only in connecting, placeholders and transactions.

``write(batch)`` stores a folded ``Batch`` and moves the high-water mark to its last
position in one transaction: after a crash the database holds every entry up to the mark and
nothing after it, so a reader that resumes at mark + 1 sees no entry twice and misses none.
SQLite runs with ``synchronous=NORMAL`` in WAL mode: a power loss may drop the last commits,
never half of one, so the resume stays exact (it just resumes earlier).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import schema
from .fold import Batch

SQLITE_BUSY_TIMEOUT_S = 10.0


class HistoryDatabaseError(Exception):
    """The database cannot be used (wrong schema version, unreachable server...)."""


class HistoryDatabase:
    """A history database connection; one writer, any number of readers (own connections).
    Not thread-safe."""

    kind = "sql"
    placeholder = "?"

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._statements: dict[str, str] = {}

    def sql(self, statement: str) -> str:
        text = self._statements.get(statement)
        if text is None:
            text = self._statements[statement] = statement.replace("?", self.placeholder)
        return text

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> HistoryDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions (per backend) ------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        raise NotImplementedError

    def _executemany(self, cursor: Any, statement: str, rows: Sequence[tuple]) -> None:
        if rows:
            cursor.executemany(self.sql(statement), rows)

    def query(self, statement: str, parameters: tuple = ()) -> list[tuple]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.sql(statement), parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    # -- schema and high-water mark ------------------------------------------------------

    def create_schema(self) -> None:
        with self.transaction() as cursor:
            for statement in (*schema.TABLES, *schema.INDEXES):
                cursor.execute(statement)
        rows = self.query("SELECT schema_version FROM high_water_mark WHERE id = 1")
        if rows and rows[0][0] != schema.SCHEMA_VERSION:
            raise HistoryDatabaseError(f"history schema version {rows[0][0]}, this venue "
                                       f"writes {schema.SCHEMA_VERSION}")

    def high_water_mark(self) -> tuple[int, int]:
        """(last position stored, its log timestamp); (0, 0) for an empty database."""
        rows = self.query(schema.SELECT_HIGH_WATER_MARK)
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    # -- the write path ------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Store the batch's rows and its high-water mark, atomically. O(rows)."""
        if batch.entries == 0:
            return
        with self.transaction() as cursor:
            self._write_instruments(cursor, batch)
            self._executemany(cursor, schema.INSERT_ORDER, [
                (o.order_id, o.account, o.instrument_id, o.client_order_id, o.side,
                 o.order_type, o.time_in_force, o.price, o.quantity, o.stop_price,
                 o.leaves_quantity, o.filled_quantity, o.status, o.accepted_position,
                 o.accepted_ns, o.updated_position, o.updated_ns)
                for o in batch.new_orders.values()])
            self._executemany(cursor, schema.UPDATE_ORDER, [
                (u.filled_add, u.leaves_quantity, u.status, u.price, u.quantity,
                 u.client_order_id, u.updated_position, u.updated_ns, u.order_id)
                for u in batch.order_updates.values()])
            self._executemany(cursor, schema.INSERT_FILL, [
                (f.instrument_id, f.trade_id, f.price, f.quantity, f.taker_side,
                 f.maker_order_id, f.maker_account, f.taker_order_id, f.taker_account,
                 f.position, f.timestamp_ns) for f in batch.fills])
            self._executemany(cursor, schema.INSERT_INSTRUMENT_EVENT, [
                (e.position, e.sequence, e.instrument_id, e.kind, e.status, e.price, e.text,
                 e.timestamp_ns) for e in batch.instrument_events])
            cursor.execute(self.sql(schema.UPSERT_HIGH_WATER_MARK),
                           (batch.position, batch.timestamp_ns, schema.SCHEMA_VERSION))

    def _write_instruments(self, cursor: Any, batch: Batch) -> None:
        added = [row for row in batch.instruments.values() if row.symbol is not None]
        changed = [row for row in batch.instruments.values() if row.symbol is None]
        self._executemany(cursor, schema.INSERT_INSTRUMENT, [
            (r.instrument_id, r.symbol, r.price_decimals, r.quantity_decimals, r.status,
             r.reference_price, r.updated_position) for r in added])
        self._executemany(cursor, schema.UPDATE_INSTRUMENT, [
            (r.status, r.reference_price, r.updated_position, r.instrument_id)
            for r in changed])

    def table_rows(self, table: str) -> list[tuple]:
        """Every row of one of the history tables, in primary-key order (for comparisons)."""
        keys = {"instruments": "instrument_id", "orders": "order_id",
                "fills": "instrument_id, trade_id", "instrument_events": "position, sequence",
                "high_water_mark": "id"}
        return self.query(f"SELECT * FROM {table} ORDER BY {keys[table]}")  # KeyError: not a table


class SqliteHistory(HistoryDatabase):
    kind = "sqlite"

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        target = f"file:{Path(path)}?mode=ro" if readonly else str(path)
        connection = sqlite3.connect(target, uri=readonly, isolation_level=None,
                                     timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
        if not readonly:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        super().__init__(connection)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        cursor.close()


class PostgresHistory(HistoryDatabase):
    kind = "postgres"
    placeholder = "%s"

    def __init__(self, dsn: str, *, readonly: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise HistoryDatabaseError("the PostgreSQL backend needs psycopg: pip install "
                                       "'venue[history-pg]'") from None
        try:
            connection = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise HistoryDatabaseError(f"cannot connect to PostgreSQL: {exc}") from None
        if readonly:
            connection.execute("SET default_transaction_read_only = on")
        super().__init__(connection)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            yield cursor


def open_history(sqlite: str | Path | None = None, postgres: str | None = None, *,
                 readonly: bool = False) -> HistoryDatabase:
    """The database at ``sqlite`` (a file path) or ``postgres`` (a DSN), schema created."""
    if (sqlite is None) == (postgres is None):
        raise ValueError("give exactly one of an SQLite path and a PostgreSQL DSN")
    database: HistoryDatabase = (SqliteHistory(sqlite, readonly=readonly) if sqlite is not None
                                 else PostgresHistory(postgres or "", readonly=readonly))
    if not readonly:
        database.create_schema()
    return database
