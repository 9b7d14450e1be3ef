"""The history database's tables, indexes and statements, in SQL that SQLite and PostgreSQL
both accept (statements use ``?``; the PostgreSQL backend turns them into ``%s``).

Prices and quantities are stored as the integers of the log (ticks, lots); ``instruments``
holds each instrument's decimals, so queries turn them into exact decimal strings.

Indexes, one per query:

- ``fills_by_instrument_time`` (instrument_id, timestamp_ns, trade_id): trades of an
  instrument in a time range, in time order, read straight off the index. It also serves
  top-N by price over a window: the window is a range of this index, and the engine keeps the
  N highest prices while scanning it (a bounded sort), O(k log N) for k trades in the window.
  An (instrument_id, price) index would instead walk prices from the top and discard every
  trade outside the window, which is slow exactly when the window is short, the usual case.
- ``orders_by_account`` (account, accepted_position): an account's orders, newest first;
  ``fills_by_maker_order`` / ``fills_by_taker_order``: their fills.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = (
    """CREATE TABLE IF NOT EXISTS high_water_mark (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        position BIGINT NOT NULL,
        timestamp_ns BIGINT NOT NULL,
        schema_version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS instruments (
        instrument_id BIGINT PRIMARY KEY,
        symbol TEXT NOT NULL,
        price_decimals INTEGER NOT NULL,
        quantity_decimals INTEGER NOT NULL,
        status INTEGER NOT NULL,
        reference_price BIGINT NOT NULL,
        updated_position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS orders (
        order_id BIGINT PRIMARY KEY,
        account BIGINT NOT NULL,
        instrument_id BIGINT NOT NULL,
        client_order_id TEXT NOT NULL,
        side SMALLINT NOT NULL,
        order_type SMALLINT NOT NULL,
        time_in_force SMALLINT NOT NULL,
        price BIGINT NOT NULL,
        quantity BIGINT NOT NULL,
        stop_price BIGINT NOT NULL,
        leaves_quantity BIGINT NOT NULL,
        filled_quantity BIGINT NOT NULL,
        status TEXT NOT NULL,
        accepted_position BIGINT NOT NULL,
        accepted_ns BIGINT NOT NULL,
        updated_position BIGINT NOT NULL,
        updated_ns BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS fills (
        instrument_id BIGINT NOT NULL,
        trade_id BIGINT NOT NULL,
        price BIGINT NOT NULL,
        quantity BIGINT NOT NULL,
        taker_side SMALLINT NOT NULL,
        maker_order_id BIGINT NOT NULL,
        maker_account BIGINT NOT NULL,
        taker_order_id BIGINT NOT NULL,
        taker_account BIGINT NOT NULL,
        position BIGINT NOT NULL,
        timestamp_ns BIGINT NOT NULL,
        PRIMARY KEY (instrument_id, trade_id))""",
    """CREATE TABLE IF NOT EXISTS instrument_events (
        position BIGINT NOT NULL,
        sequence INTEGER NOT NULL,
        instrument_id BIGINT NOT NULL,
        kind TEXT NOT NULL,
        status INTEGER NOT NULL,
        price BIGINT NOT NULL,
        text TEXT NOT NULL,
        timestamp_ns BIGINT NOT NULL,
        PRIMARY KEY (position, sequence))""",
)

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS instruments_by_symbol ON instruments (symbol)",
    "CREATE INDEX IF NOT EXISTS fills_by_instrument_time "
    "ON fills (instrument_id, timestamp_ns, trade_id)",
    "CREATE INDEX IF NOT EXISTS fills_by_maker_order ON fills (maker_order_id)",
    "CREATE INDEX IF NOT EXISTS fills_by_taker_order ON fills (taker_order_id)",
    "CREATE INDEX IF NOT EXISTS orders_by_account ON orders (account, accepted_position)",
    "CREATE INDEX IF NOT EXISTS instrument_events_by_instrument "
    "ON instrument_events (instrument_id, position)",
)

# -- writes --------------------------------------------------------------------------------

UPSERT_HIGH_WATER_MARK = (
    "INSERT INTO high_water_mark (id, position, timestamp_ns, schema_version) "
    "VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position, "
    "timestamp_ns = excluded.timestamp_ns")
INSERT_INSTRUMENT = (
    "INSERT INTO instruments (instrument_id, symbol, price_decimals, quantity_decimals, "
    "status, reference_price, updated_position) VALUES (?, ?, ?, ?, ?, ?, ?)")
UPDATE_INSTRUMENT = (
    "UPDATE instruments SET status = COALESCE(?, status), "
    "reference_price = COALESCE(?, reference_price), updated_position = ? "
    "WHERE instrument_id = ?")
INSERT_ORDER = (
    "INSERT INTO orders (order_id, account, instrument_id, client_order_id, side, order_type, "
    "time_in_force, price, quantity, stop_price, leaves_quantity, filled_quantity, status, "
    "accepted_position, accepted_ns, updated_position, updated_ns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
UPDATE_ORDER = (
    "UPDATE orders SET filled_quantity = filled_quantity + ?, "
    "leaves_quantity = COALESCE(?, leaves_quantity), status = COALESCE(?, status), "
    "price = COALESCE(?, price), quantity = COALESCE(?, quantity), "
    "client_order_id = COALESCE(?, client_order_id), updated_position = ?, updated_ns = ? "
    "WHERE order_id = ?")
INSERT_FILL = (
    "INSERT INTO fills (instrument_id, trade_id, price, quantity, taker_side, maker_order_id, "
    "maker_account, taker_order_id, taker_account, position, timestamp_ns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_INSTRUMENT_EVENT = (
    "INSERT INTO instrument_events (position, sequence, instrument_id, kind, status, price, "
    "text, timestamp_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")

# -- queries -------------------------------------------------------------------------------

SELECT_HIGH_WATER_MARK = "SELECT position, timestamp_ns FROM high_water_mark WHERE id = 1"
SELECT_INSTRUMENT = (
    "SELECT instrument_id, symbol, price_decimals, quantity_decimals FROM instruments "
    "WHERE symbol = ?")
SELECT_INSTRUMENTS = (
    "SELECT instrument_id, symbol, price_decimals, quantity_decimals FROM instruments")
FILL_COLUMNS = ("instrument_id, trade_id, price, quantity, taker_side, maker_order_id, "
                "maker_account, taker_order_id, taker_account, position, timestamp_ns")
SELECT_TRADES = (
    f"SELECT {FILL_COLUMNS} FROM fills WHERE instrument_id = ? AND timestamp_ns >= ? "
    "AND timestamp_ns < ? ORDER BY timestamp_ns, trade_id LIMIT ?")
SELECT_TOP_TRADES = (
    f"SELECT {FILL_COLUMNS} FROM fills WHERE instrument_id = ? AND timestamp_ns >= ? "
    "AND timestamp_ns < ? ORDER BY price DESC, trade_id LIMIT ?")
ORDER_COLUMNS = ("order_id, account, instrument_id, client_order_id, side, order_type, "
                 "time_in_force, price, quantity, stop_price, leaves_quantity, "
                 "filled_quantity, status, accepted_position, accepted_ns, "
                 "updated_position, updated_ns")
SELECT_ACCOUNT_ORDERS = (
    f"SELECT {ORDER_COLUMNS} FROM orders WHERE account = ? "
    "ORDER BY accepted_position DESC, order_id DESC LIMIT ?")
# the fills of many orders at once; ``{ids}`` is a list of placeholders, used twice
SELECT_ORDERS_FILLS = (
    f"SELECT {FILL_COLUMNS} FROM fills WHERE maker_order_id IN ({{ids}}) "
    f"UNION SELECT {FILL_COLUMNS} FROM fills WHERE taker_order_id IN ({{ids}})")
