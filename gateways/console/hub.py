"""The console's one port: the static page over plain HTTP GET, and ``/ws``, the WebSocket
of each browser tab (its state feed, its choices, its actions).

Limits: at most ``connections_max`` tabs (more get HTTP 503), a bounded outgoing queue per
tab (a tab that stops reading is dropped, never buffered for), a bounded message size from
tabs, and a bounded number of wrong operator tokens per tab. A WebSocket from another
origin (a page of some other site open in the operator's browser) is refused with 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from importlib import resources
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .actions import ActionHandler, TokenCheck
from .config import ConsoleConfig

log = logging.getLogger("venue.console")
WS_PATH = "/ws"
CLOSE_TIMEOUT_S = 2.0
_CONTENT_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                  "css": "text/css; charset=utf-8"}
_CLOSE = "(close)"  # compared by identity: the writer's cue to close the connection
STATIC_FILES = ("index.html", "console.js", "console.css")
#: the page may talk to its own origin only; no inline script, no other host
_SECURITY_HEADERS = (("Content-Security-Policy", "default-src 'self'; connect-src 'self'; "
                      "img-src 'self' data:; frame-ancestors 'none'"),
                     ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                     ("Referrer-Policy", "no-referrer"))


def load_static() -> dict[str, tuple[str, bytes]]:
    """URL path -> (content type, body) of the page's files, read once from the package."""
    folder = resources.files("venue.gateways.console") / "static"
    files = {}
    for name in STATIC_FILES:
        files[f"/{name}"] = (_CONTENT_TYPES[name.rpartition(".")[2]],
                             (folder / name).read_bytes())
    files["/"] = files["/index.html"]
    return files


def _response(status: int, reason: str, content_type: str, body: bytes) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Connection", "close"), *_SECURITY_HEADERS])
    return Response(status, reason, headers, body)


def same_origin(request: Request) -> bool:
    """True if the upgrade comes from a page of this console (or from a non-browser client,
    which sends no Origin)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("Host", "")


class Tab:
    """One browser tab's connection: what it watches and its bounded outgoing queue."""

    def __init__(self, tab_id: int, connection: ServerConnection, queue_max: int) -> None:
        self.tab_id = tab_id
        self.connection = connection
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_max)
        self.instrument_id = 0
        self.account = 0
        self.dropped = False
        self.closing = ""

    def push(self, text: str) -> bool:
        """Queue a message; False (and the connection aborted) if the tab is not reading."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.dropped = True
            log.warning("console: tab %d does not read its feed; dropped", self.tab_id)
            self.connection.transport.abort()
            return False

    def close_after_queue(self, reason: str) -> None:
        """Close (1008, ``reason``) once what is queued has been sent."""
        self.closing = reason
        self.push(_CLOSE)

    async def write(self) -> None:
        while True:
            text = await self.queue.get()
            if text is _CLOSE:
                await self.connection.close(1008, self.closing)
                return
            await self.connection.send(text)


class Hub:
    """Serves the page and the tabs; ``broadcast`` pushes one message per tab."""

    def __init__(self, config: ConsoleConfig, make_handler: Callable[[TokenCheck],
                                                                     ActionHandler]) -> None:
        self.config = config
        self.limits = config.limits
        self.static = load_static()
        self.tabs: dict[int, Tab] = {}
        self.dropped_tabs = 0
        self._make_handler = make_handler
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self.on_watch: Callable[[Tab], None] = lambda tab: None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await serve(
            self._serve_tab, self.config.host, self.config.port,
            process_request=self._process_request, compression=None,
            max_size=self.limits.message_size_bytes_max, max_queue=4,
            write_limit=64 * 1024, open_timeout=5, close_timeout=CLOSE_TIMEOUT_S)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection,
                         request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == WS_PATH:
            if not same_origin(request):
                return _response(403, "Forbidden", "text/plain", b"another origin\n")
            if len(self.tabs) >= self.limits.connections_max:
                return _response(503, "Service Unavailable", "text/plain",
                                 b"too many console connections\n")
            return None  # the WebSocket handshake goes ahead
        found = self.static.get(path)
        if found is None:
            return _response(404, "Not Found", "text/plain", b"not found\n")
        return _response(200, "OK", *found)

    def broadcast(self, message_of: Callable[[Tab], str]) -> None:
        for tab in list(self.tabs.values()):
            if not tab.push(message_of(tab)):
                self.dropped_tabs += 1
                self.tabs.pop(tab.tab_id, None)

    async def _serve_tab(self, connection: ServerConnection) -> None:
        if len(self.tabs) >= self.limits.connections_max:  # raced past process_request
            await connection.close(1013, "too many console connections")
            return
        tab = Tab(next(self._ids), connection, self.limits.outgoing_messages_max)
        tokens = TokenCheck(self.config.operator_token, self.limits.token_failures_max)
        handler = self._make_handler(tokens)
        self.tabs[tab.tab_id] = tab
        writer = asyncio.get_running_loop().create_task(tab.write())
        actions: set[asyncio.Task] = set()
        try:
            tab.push(json.dumps({"type": "hello", "actions_enabled": tokens.enabled,
                                 "limits": {"trades_kept": self.limits.trades_kept,
                                            "depth_levels": self.limits.depth_levels}}))
            self.on_watch(tab)
            async for message in connection:
                if not self._on_message(tab, handler, message, actions):
                    break
            else:
                return  # the tab closed its connection (or was closed): finally cleans up
            if not tab.closing:
                tab.close_after_queue("too many wrong operator tokens")
            await asyncio.wait_for(writer, CLOSE_TIMEOUT_S)  # the queued results, then close
        except (ConnectionClosed, TimeoutError):
            pass
        finally:
            self.tabs.pop(tab.tab_id, None)
            for task in (writer, *actions):
                task.cancel()
            for task in (writer, *actions):
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task

    def _on_message(self, tab: Tab, handler: ActionHandler, message: str | bytes,
                    actions: set[asyncio.Task]) -> bool:
        """Act on one message from a tab; False if the tab must be closed."""
        try:
            request = json.loads(message)
            kind = request.get("type") if isinstance(request, dict) else None
        except ValueError:
            kind = None
        if kind == "watch":
            tab.instrument_id = _int(request.get("instrument_id"))
            tab.account = _int(request.get("account"))
            self.on_watch(tab)
        elif kind == "action":
            task = asyncio.get_running_loop().create_task(self._act(tab, handler, request))
            actions.add(task)
            task.add_done_callback(actions.discard)
        else:
            tab.push(json.dumps({"type": "error", "text": "expected a JSON object with "
                                 "type 'watch' or 'action'"}))
        return not handler.tokens.exhausted

    async def _act(self, tab: Tab, handler: ActionHandler, request: dict) -> None:
        result = await handler.handle(request)
        log.info("console: tab %d %s -> %s", tab.tab_id, result["action"], result["text"])
        tab.push(json.dumps(result))
        if handler.tokens.exhausted and not tab.closing:
            tab.close_after_queue("too many wrong operator tokens")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
