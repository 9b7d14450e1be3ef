"""The console's one port, in process (no cluster): the static page over HTTP, the tabs'
WebSocket, and its limits (connections, a tab that stops reading, wrong tokens, origins)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from venue.gateways.console.actions import ActionHandler, TokenCheck
from venue.gateways.console.config import ConsoleConfig, Limits
from venue.gateways.console.hub import Hub, Tab

TOKEN = "0123456789abcdef0123"
DEADLINE_S = 10.0


def _config(**limits: int) -> ConsoleConfig:
    return ConsoleConfig(("127.0.0.1:1",), "venue-test", "operator", "secret", "127.0.0.1", 0,
                         TOKEN, Limits(**limits))


async def _nothing(*args: object) -> list:
    return []


def _run(test: Callable[[Hub], Awaitable[None]], **limits: int) -> None:
    async def main() -> None:
        hub = Hub(_config(**limits), lambda tokens: ActionHandler(tokens, _nothing, _nothing,
                                                                  timeout_s=1))
        await hub.start()
        try:
            await asyncio.wait_for(test(hub), DEADLINE_S)
        finally:
            await hub.close()

    asyncio.run(main())


async def _http_get(hub: Hub, path: str) -> tuple[str, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\n\r\n".encode())
    response = await reader.read()  # the console closes after one response
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def _url(hub: Hub) -> str:
    return f"ws://127.0.0.1:{hub.port}/ws"


async def _until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (the test's wait_for bounds it)."""
    while not condition():
        await asyncio.sleep(0.005)


def test_the_page_and_its_files_are_served_with_their_types_and_nothing_else() -> None:
    async def test(hub: Hub) -> None:
        status, headers, body = await _http_get(hub, "/")
        assert status == "HTTP/1.1 200 OK" and headers["content-type"].startswith("text/html")
        assert b'<script src="/console.js"' in body
        assert "default-src 'self'" in headers["content-security-policy"]
        _, headers, body = await _http_get(hub, "/console.js?v=1")
        assert headers["content-type"].startswith("text/javascript") and b"WebSocket" in body
        _, headers, _ = await _http_get(hub, "/console.css")
        assert headers["content-type"].startswith("text/css")
        for path in ("/static/index.html", "/../pyproject.toml", "/nope"):
            status, _, _ = await _http_get(hub, path)
            assert status == "HTTP/1.1 404 Not Found", path

    _run(test)


def test_a_tab_says_hello_and_watch_messages_choose_what_it_is_sent() -> None:
    async def test(hub: Hub) -> None:
        watched: list[tuple[int, int]] = []
        hub.on_watch = lambda tab: watched.append((tab.instrument_id, tab.account))
        async with connect(_url(hub)) as tab:
            hello = json.loads(await tab.recv())
            assert hello["type"] == "hello" and hello["actions_enabled"] is True
            await tab.send(json.dumps({"type": "watch", "instrument_id": 2, "account": 101}))
            await tab.send("not json")
            error = json.loads(await tab.recv())
            assert error["type"] == "error"
            assert watched == [(0, 0), (2, 101)]
            hub.broadcast(lambda t: json.dumps({"type": "state", "account": t.account}))
            assert json.loads(await tab.recv()) == {"type": "state", "account": 101}

    _run(test)


def test_a_websocket_from_another_origin_is_refused() -> None:
    async def test(hub: Hub) -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(_url(hub), origin="http://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with connect(_url(hub), origin=f"http://127.0.0.1:{hub.port}") as tab:
            assert json.loads(await tab.recv())["type"] == "hello"

    _run(test)


def test_tabs_past_connections_max_are_refused() -> None:
    async def test(hub: Hub) -> None:
        async with connect(_url(hub)) as first, connect(_url(hub)) as second:
            for tab in (first, second):
                await tab.recv()
            with pytest.raises(InvalidStatus) as refused:
                async with connect(_url(hub)):
                    pass
            assert refused.value.response.status_code == 503
        await _until(lambda: not hub.tabs)
        async with connect(_url(hub)) as again:  # room again once they left
            assert json.loads(await again.recv())["type"] == "hello"

    _run(test, connections_max=2)


def test_a_tab_that_stops_reading_is_dropped_and_a_reading_one_is_not() -> None:
    """The silent tab completes the handshake, then never reads: its queue fills once the
    socket buffers are full, and it is dropped; the other tab gets every message."""
    async def test(hub: Hub) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
        writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\nUpgrade: websocket"
                      "\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
                      "\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        async with connect(_url(hub), max_size=None) as reading:
            await reading.recv()
            await _until(lambda: len(hub.tabs) == 2)
            silent_id, reading_id = sorted(hub.tabs)
            silent = hub.tabs[silent_id]
            payload = "x" * 256 * 1024
            received = sent = 0
            for sent in range(1, 401):  # at most 100 MiB towards the silent tab
                hub.broadcast(lambda tab: payload)
                while received < sent:
                    assert await reading.recv() == payload
                    received += 1
                if silent.dropped:
                    break
            assert silent.dropped and hub.dropped_tabs == 1
            assert list(hub.tabs) == [reading_id]
            assert received == sent
        writer.close()

    _run(test, outgoing_messages_max=4)


def test_too_many_wrong_tokens_close_the_tab() -> None:
    async def test(hub: Hub) -> None:
        async with connect(_url(hub)) as tab:
            await tab.recv()
            for attempt in range(2):
                await tab.send(json.dumps({"type": "action", "id": attempt,
                                           "action": "halt", "token": "guess",
                                           "instrument_id": 1}))
            texts = [json.loads(await tab.recv())["text"] for _ in range(2)]
            assert texts == ["refused: wrong operator token"] * 2
            with pytest.raises(ConnectionClosed) as closed:
                await tab.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    _run(test, token_failures_max=2)


def test_tab_push_reports_a_full_queue() -> None:
    class Transport:
        aborted = False

        def abort(self) -> None:
            self.aborted = True

    class Connection:
        transport = Transport()

    async def main() -> None:
        tab = Tab(1, Connection(), queue_max=2)  # type: ignore[arg-type]
        assert tab.push("a") and tab.push("b") and not tab.push("c") and not tab.push("d")
        assert tab.dropped and Connection.transport.aborted

    asyncio.run(main())


def test_token_check_uses_the_configured_token() -> None:
    assert TokenCheck(TOKEN, 3).accepts(TOKEN)
    assert not TokenCheck("", 3).enabled
