"""The history queries, shared by the HTTP API and ``venue history-query``: parameters in
(strings, checked: a bad one raises ``BadParameter`` naming it), JSON-ready dicts out, with
prices and quantities as exact decimal strings in the instrument's units.

- ``trades``: an instrument's trades in ``[from, to)``, oldest first (``limit``).
- ``top_trades``: the ``n`` highest-priced trades in the ``window_s`` seconds before ``to``
  (default: the last entry stored), highest first.
- ``account_orders``: an account's orders, newest first, each with its fills.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from venue.codecs import OrderType, Side, TimeInForce

from . import schema
from .backends import HistoryDatabase

LIMIT_DEFAULT, LIMIT_MAX = 100, 10_000
TOP_N_DEFAULT, TOP_N_MAX = 10, 1_000
WINDOW_S_MAX = 10 * 365 * 86_400
TIME_NS_MAX = 2**63 - 1
ORDER_IDS_PER_QUERY = 500


class BadParameter(ValueError):
    def __init__(self, parameter: str, why: str) -> None:
        super().__init__(f"{parameter}: {why}")
        self.parameter = parameter
        self.why = why


def decimal_string(units: int, decimals: int) -> str:
    """Exact decimal text of an integer count of 10**-decimals.

    >>> decimal_string(123456, 2), decimal_string(-5, 3), decimal_string(7, 0)
    ('1234.56', '-0.005', '7')
    """
    if decimals <= 0:
        return str(units)
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def iso_time(timestamp_ns: int) -> str:
    """UTC ISO 8601 with nanoseconds: ``2026-12-02T03:04:05.000000123Z``."""
    seconds, nanoseconds = divmod(timestamp_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanoseconds:09d}Z"


def parse_time(parameter: str, text: str) -> int:
    """Nanoseconds since the epoch from ISO 8601 (``Z`` or an offset; naive means UTC) or
    an integer count of nanoseconds."""
    if text.isdigit():
        value = int(text)
        if value > TIME_NS_MAX:
            raise BadParameter(parameter, f"past the largest time ({TIME_NS_MAX} ns)")
        return value
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadParameter(parameter, f"not an ISO 8601 time or nanoseconds: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def parse_int(parameter: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(parameter, f"not an integer: {text!r}") from None
    if not low <= value <= high:
        raise BadParameter(parameter, f"must be between {low} and {high}, got {value}")
    return value


class HistoryQueries:
    def __init__(self, database: HistoryDatabase) -> None:
        self.database = database

    def _instrument(self, symbol: str | None) -> tuple[int, str, int, int]:
        if not symbol:
            raise BadParameter("instrument", "required (a symbol such as BTC-USD)")
        rows = self.database.query(schema.SELECT_INSTRUMENT, (symbol,))
        if not rows:
            raise BadParameter("instrument", f"unknown instrument {symbol!r}")
        instrument_id, symbol, price_decimals, quantity_decimals = rows[0]
        return int(instrument_id), symbol, int(price_decimals), int(quantity_decimals)

    def trades(self, instrument: str | None, start: str | None = None, end: str | None = None,
               limit: str | None = None) -> dict[str, Any]:
        instrument_id, symbol, price_decimals, quantity_decimals = self._instrument(instrument)
        from_ns = parse_time("from", start) if start else 0
        to_ns = parse_time("to", end) if end else TIME_NS_MAX
        if to_ns < from_ns:
            raise BadParameter("to", "is before from")
        count = parse_int("limit", limit, LIMIT_DEFAULT, 1, LIMIT_MAX)
        rows = self.database.query(schema.SELECT_TRADES, (instrument_id, from_ns, to_ns, count))
        return {"instrument": symbol,
                "trades": [self._trade(row, symbol, price_decimals, quantity_decimals)
                           for row in rows]}

    def top_trades(self, instrument: str | None, window_s: str | None, n: str | None = None,
                   end: str | None = None) -> dict[str, Any]:
        instrument_id, symbol, price_decimals, quantity_decimals = self._instrument(instrument)
        if window_s is None or window_s == "":
            raise BadParameter("window_s", "required (seconds)")
        seconds = parse_int("window_s", window_s, 0, 1, WINDOW_S_MAX)
        count = parse_int("n", n, TOP_N_DEFAULT, 1, TOP_N_MAX)
        to_ns = parse_time("to", end) if end else self.database.high_water_mark()[1] + 1
        from_ns = to_ns - seconds * 1_000_000_000
        rows = self.database.query(schema.SELECT_TOP_TRADES,
                                   (instrument_id, from_ns, to_ns, count))
        return {"instrument": symbol, "from": iso_time(max(from_ns, 0)), "to": iso_time(to_ns),
                "trades": [self._trade(row, symbol, price_decimals, quantity_decimals)
                           for row in rows]}

    def account_orders(self, account: str | None, limit: str | None = None) -> dict[str, Any]:
        if account is None or not account.isdigit():
            raise BadParameter("account", f"not an account number: {account!r}")
        count = parse_int("limit", limit, LIMIT_DEFAULT, 1, LIMIT_MAX)
        instruments = {int(row[0]): (row[1], int(row[2]), int(row[3]))
                       for row in self.database.query(schema.SELECT_INSTRUMENTS)}
        rows = self.database.query(schema.SELECT_ACCOUNT_ORDERS, (int(account), count))
        fills = self._fills_of([int(row[0]) for row in rows])
        orders = []
        for row in rows:
            symbol, price_decimals, quantity_decimals = instruments.get(
                int(row[2]), (str(row[2]), 0, 0))
            order = _order(row, symbol, price_decimals, quantity_decimals)
            order["fills"] = [self._trade(fill, symbol, price_decimals, quantity_decimals)
                              for fill in fills.get(int(row[0]), [])]
            orders.append(order)
        return {"account": int(account), "orders": orders}

    def _fills_of(self, order_ids: list[int]) -> dict[int, list[tuple]]:
        """Order id -> its fills in stream order, in a query per ``ORDER_IDS_PER_QUERY``
        orders (not one per order)."""
        fills: dict[int, list[tuple]] = {}
        wanted = set(order_ids)
        for start in range(0, len(order_ids), ORDER_IDS_PER_QUERY):
            chunk = tuple(order_ids[start:start + ORDER_IDS_PER_QUERY])
            marks = ", ".join("?" * len(chunk))
            statement = schema.SELECT_ORDERS_FILLS.format(ids=marks)
            for fill in self.database.query(statement, chunk + chunk):
                for order_id in {int(fill[5]), int(fill[7])} & wanted:  # maker, taker
                    fills.setdefault(order_id, []).append(fill)
        for rows in fills.values():
            rows.sort(key=lambda fill: (fill[9], fill[1]))  # position, trade id
        return fills

    @staticmethod
    def _trade(row: tuple, symbol: str, price_decimals: int, quantity_decimals: int
               ) -> dict[str, Any]:
        (_, trade_id, price, quantity, taker_side, maker_order_id, maker_account,
         taker_order_id, taker_account, position, timestamp_ns) = row
        return {"trade_id": trade_id, "instrument": symbol,
                "price": decimal_string(price, price_decimals),
                "quantity": decimal_string(quantity, quantity_decimals),
                "taker_side": Side(taker_side).name.lower(),
                "maker_order_id": maker_order_id, "maker_account": maker_account,
                "taker_order_id": taker_order_id, "taker_account": taker_account,
                "position": position, "time": iso_time(timestamp_ns),
                "timestamp_ns": timestamp_ns}


def _order(row: tuple, symbol: str, price_decimals: int, quantity_decimals: int
           ) -> dict[str, Any]:
    (order_id, account, _, client_order_id, side, order_type, time_in_force, price, quantity,
     stop_price, leaves, filled, status, accepted_position, accepted_ns, updated_position,
     updated_ns) = row
    return {"order_id": order_id, "account": account, "instrument": symbol,
            "client_order_id": client_order_id, "side": Side(side).name.lower(),
            "order_type": OrderType(order_type).name.lower(),
            "time_in_force": TimeInForce(time_in_force).name.lower(),
            "price": decimal_string(price, price_decimals),
            "quantity": decimal_string(quantity, quantity_decimals),
            "stop_price": decimal_string(stop_price, price_decimals),
            "leaves_quantity": decimal_string(leaves, quantity_decimals),
            "filled_quantity": decimal_string(filled, quantity_decimals),
            "status": status, "accepted_position": accepted_position,
            "accepted_time": iso_time(accepted_ns), "updated_position": updated_position,
            "updated_time": iso_time(updated_ns)}
