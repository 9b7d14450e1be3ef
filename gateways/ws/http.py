"""Plain HTTP on the WebSocket port: ``GET /health``, ``GET /stats`` (the core's counters as
JSON), ``GET /schema.json`` (the API as JSON Schema) and static files from
``gateways/ws/static/`` (``/`` is its ``index.html``), so a page can be served from the same
port later. Anything with an ``Upgrade: websocket`` header goes on to the JSON API."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .schema import json_schema

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILE_BYTES_MAX = 4 * 1024 * 1024
SCHEMA_JSON = json.dumps(json_schema(), indent=1).encode()


def _response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store")])
    return Response(status.value, status.phrase, headers, body)


def static_file(path: str, root: Path = STATIC_DIR) -> Path | None:
    """The file under ``root`` that ``path`` names, None if none (or outside ``root``).

    >>> static_file("/../server.py") is None
    True
    """
    relative = path.split("?", 1)[0].lstrip("/") or "index.html"
    candidate = (root / relative).resolve()
    if root.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def answer_http(connection: ServerConnection, request: Request,
                stats: Callable[[], dict[str, int]]) -> Response | None:
    """None for a WebSocket upgrade (the handshake goes on), else the HTTP answer."""
    if "websocket" in request.headers.get("Upgrade", "").lower():
        return None
    path = request.path.split("?", 1)[0]
    if path == "/health":
        return _response(HTTPStatus.OK, b"ok\n", "text/plain")
    if path == "/stats":
        return _response(HTTPStatus.OK, json.dumps(stats()).encode(), "application/json")
    if path == "/schema.json":
        return _response(HTTPStatus.OK, SCHEMA_JSON, "application/schema+json")
    found = static_file(path)
    if found is None or found.stat().st_size > STATIC_FILE_BYTES_MAX:
        return _response(HTTPStatus.NOT_FOUND, b"not found; the JSON API is a WebSocket "
                         b"on this port\n", "text/plain")
    content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return _response(HTTPStatus.OK, found.read_bytes(), content_type)
