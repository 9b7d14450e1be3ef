"""The WebSocket gateway end to end: real WebSocket clients (the ``websockets`` library)
against a ``venue ws-gateway`` process in front of a real 3-node cluster."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from .ws_venue import WAIT_S, WsClient, WsVenue, ws_venue

__all__ = ["ws_venue"]
pytestmark = pytest.mark.slow
SYMBOL = "BTC-USD"  # price decimals 2, quantity decimals 4


def submit(client_order_id: str, side: str, price: str, quantity: str) -> dict:
    return {"type": "submit", "client_order_id": client_order_id, "symbol": SYMBOL,
            "side": side, "order_type": "limit", "price": price, "quantity": quantity}


def test_two_accounts_cross_and_subscribers_see_depth_and_trades(ws_venue: WsVenue) -> None:
    async def run() -> None:
        alice = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        bob = await WsClient.open(ws_venue.url, ws_venue.token("DEMO2"))
        watcher = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        await watcher.send({"type": "subscribe", "channel": "depth", "symbol": SYMBOL,
                            "depth": 5})
        snapshot = await watcher.expect(lambda m: m["type"] == "depth_snapshot")
        await watcher.send({"type": "subscribe", "channel": "trades", "symbol": SYMBOL})
        await watcher.expect(lambda m: m["type"] == "subscribed" and m["channel"] == "trades")
        await alice.send(submit("x-s1", "sell", "65100.50", "0.5000"))
        accepted = await alice.order_update("x-s1", "accepted")
        assert (accepted["price"], accepted["leaves_quantity"]) == ("65100.50", "0.5000")
        await bob.send(submit("x-b1", "buy", "65101.00", "0.2000"))
        taker = await bob.order_update("x-b1", "filled")
        maker = await alice.order_update("x-s1", "partially_filled")
        assert (taker["last_price"], taker["cum_quantity"], taker["avg_price"]) == (
            "65100.50", "0.2000", "65100.500000")
        assert (maker["cum_quantity"], maker["leaves_quantity"]) == ("0.2000", "0.3000")
        trade = await watcher.expect(lambda m: m["type"] == "trade")
        assert (trade["price"], trade["quantity"], trade["taker_side"]) == (
            "65100.50", "0.2000", "buy")
        updates = [await watcher.expect(lambda m: m["type"] == "depth_update")
                   for _ in range(2)]  # the ask appears, then shrinks
        assert [u["seq"] for u in updates] == [snapshot["seq"] + 1, snapshot["seq"] + 2]
        assert updates[0]["changes"] == [["sell", "65100.50", "0.5000", 1]]
        assert updates[1]["changes"] == [["sell", "65100.50", "0.3000", 1]]
        assert not any(m["type"] == "order" for m in bob.seen
                       if m.get("client_order_id") == "x-s1")  # bob never sees alice's
        await alice.send({"type": "cancel", "client_order_id": "x-s1"})
        await alice.order_update("x-s1", "cancelled")
        for client in (alice, bob, watcher):
            await client.close()

    asyncio.run(run())


def test_an_account_cannot_cancel_another_accounts_order(ws_venue: WsVenue) -> None:
    async def run() -> None:
        alice = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        bob = await WsClient.open(ws_venue.url, ws_venue.token("DEMO2"))
        await alice.send(submit("iso-1", "buy", "60000.00", "1.0000"))
        order_id = (await alice.order_update("iso-1", "accepted"))["order_id"]
        await bob.send({"type": "cancel", "order_id": order_id, "symbol": SYMBOL})
        reject = await bob.expect(lambda m: m.get("status") == "rejected")
        assert (reject["reason"], reject["request"]) == ("unknown_order", "cancel")
        await bob.send({"type": "cancel", "client_order_id": "iso-1"})
        error = await bob.expect(lambda m: m["type"] == "error")
        assert error["code"] == "unknown_order"
        await alice.send({"type": "cancel", "order_id": order_id})
        cancelled = await alice.order_update("iso-1", "cancelled")
        assert cancelled["order_id"] == order_id  # still open until its owner cancelled it
        for client in (alice, bob):
            await client.close()

    asyncio.run(run())


def test_a_schema_error_is_answered_and_the_connection_stays(ws_venue: WsVenue) -> None:
    async def run() -> None:
        client = await WsClient.open(ws_venue.url)
        await client.send({"type": "submit", "client_order_id": "z"})
        error = await client.expect(lambda m: m["type"] == "error")
        assert error["code"] == "schema" and error["field"] == "symbol"
        await client.send({"type": "auth", "token": ws_venue.token("DEMO1")})
        await client.expect(lambda m: m["type"] == "authenticated")
        await client.expect(lambda m: m["type"] == "open_orders")
        await client.connection.send("x" * (70 * 1024))  # above message_size_bytes_max
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.connection.recv(), WAIT_S)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

    asyncio.run(run())


def test_a_client_that_does_not_read_is_closed_while_others_trade_on(
        ws_venue: WsVenue) -> None:
    """The sleeper asks for snapshot after snapshot and reads none of them: its
    socket buffers fill, then the gateway's queue for it, and it is closed; the others
    trade on."""
    async def run() -> None:
        alice = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        for n in range(40):  # a deep book makes big snapshots
            await alice.send(submit(f"deep-{n}", "buy", f"{50_000 + n}.00", "0.0100"))
        await alice.order_update("deep-39", "accepted")
        before = ws_venue.stats()["slow_consumers_closed"]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((ws_venue.config.host, ws_venue.config.port))
        sleeper = await connect(ws_venue.url, sock=sock, compression=None, max_queue=4)
        await sleeper.send(f'{{"type": "auth", "token": "{ws_venue.token("DEMO2")}"}}')
        deadline = time.monotonic() + WAIT_S
        sent = 0
        while ws_venue.stats()["slow_consumers_closed"] == before:
            assert time.monotonic() < deadline and sent < 100_000, "never closed"
            try:
                for _ in range(50):
                    await sleeper.send('{"type": "subscribe", "channel": "depth", '
                                       '"symbol": "BTC-USD", "depth": 100}')
                    await sleeper.send('{"type": "unsubscribe", "channel": "depth", '
                                       '"symbol": "BTC-USD"}')
                    sent += 2
            except ConnectionClosed:
                pass
            await asyncio.sleep(0.01)  # let the gateway run; the loop polls /stats
        bob = await WsClient.open(ws_venue.url, ws_venue.token("DEMO2"))
        await bob.send(submit("after-slow", "sell", "50039.00", "0.0100"))
        await bob.order_update("after-slow", "filled")
        await alice.order_update("deep-39", "filled")
        sleeper.transport.abort()
        for client in (alice, bob):
            await client.close()

    asyncio.run(run())


def test_http_on_the_same_port_answers_health_stats_and_the_schema(
        ws_venue: WsVenue) -> None:
    stats = ws_venue.stats()
    assert {"connections", "authenticated", "position", "rate_limited"} <= set(stats)
    assert stats["position"] > 0
    base = f"http://{ws_venue.config.host}:{ws_venue.config.port}"
    with urllib.request.urlopen(f"{base}/schema.json", timeout=5) as response:
        assert json.loads(response.read())["title"] == "venue WebSocket API"
    with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
        assert response.read() == b"ok\n"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/nothing-here", timeout=5)
    assert missing.value.code == 404
