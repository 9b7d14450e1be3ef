"""The history queries over HTTP/1.1 and JSON: a deliberately small asyncio server (GET
only, one request per connection, bounded request size and time), no framework.

    GET /trades?instrument=BTC-USD&from=2026-12-02T03:00:00Z&to=...&limit=100
    GET /trades/top?instrument=BTC-USD&window_s=3600&n=10[&to=...]
    GET /accounts/101/orders?limit=50
    GET /status

Answers are JSON; a bad parameter is ``400 {"error": ..., "parameter": name}``, an unknown
path 404, anything but GET 405.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .queries import BadParameter, HistoryQueries

log = logging.getLogger("venue.history.http")
REQUEST_BYTES_MAX = 8 * 1024
REQUEST_TIMEOUT_S = 10.0
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Content Too Large", 500: "Internal Server Error"}


def route(queries: HistoryQueries, target: str, status: Callable[[], dict[str, Any]]
          ) -> tuple[int, dict[str, Any]]:
    """Answer one GET ``target`` (path and query string): (HTTP status, JSON body)."""
    parts = urlsplit(target)
    path = unquote(parts.path).rstrip("/") or "/"
    raw = parse_qs(parts.query, keep_blank_values=True)
    params = {name: values[-1] for name, values in raw.items()}
    try:
        if path == "/trades":
            return 200, queries.trades(params.get("instrument"), params.get("from"),
                                       params.get("to"), params.get("limit"))
        if path == "/trades/top":
            return 200, queries.top_trades(params.get("instrument"), params.get("window_s"),
                                           params.get("n"), params.get("to"))
        segments = path.split("/")
        if len(segments) == 4 and segments[1] == "accounts" and segments[3] == "orders":
            return 200, queries.account_orders(segments[2], params.get("limit"))
        if path == "/status":
            return 200, status()
    except BadParameter as exc:
        return 400, {"error": str(exc), "parameter": exc.parameter}
    return 404, {"error": f"no such path: {path}"}


class HistoryHttpServer:
    def __init__(self, queries: HistoryQueries, status: Callable[[], dict[str, Any]]) -> None:
        self.queries = queries
        self.status = status
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; return the port (useful with port 0)."""
        self.server = await asyncio.start_server(self._connection, host, port,
                                                 limit=REQUEST_BYTES_MAX)
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            code, body = await asyncio.wait_for(self._answer(reader), REQUEST_TIMEOUT_S)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        payload = json.dumps(body).encode()
        writer.write(f"HTTP/1.1 {code} {REASONS[code]}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                     + payload)
        try:
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return 413, {"error": "request head too large"}
        if len(head) > REQUEST_BYTES_MAX:
            return 413, {"error": "request head too large"}
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        fields = request_line.split(" ")
        if len(fields) != 3 or not fields[2].startswith("HTTP/1."):
            return 400, {"error": "not an HTTP/1.x request line"}
        method, target, _ = fields
        if method != "GET":
            return 405, {"error": f"method {method} not allowed (GET only)"}
        try:
            return route(self.queries, target, self.status)
        except Exception:  # a bug or a database fault: answer, log, keep serving
            log.exception("query %s failed", target)
            return 500, {"error": "the query failed; see the history process's log"}
