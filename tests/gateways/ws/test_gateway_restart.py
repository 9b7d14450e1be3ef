"""A killed and restarted WS gateway: it rebuilds its books and order table from the
cluster's event stream; a client reconnects, authenticates, and starts again from its
open orders and a new depth snapshot (nothing is resent for the time it was away)."""

from __future__ import annotations

import asyncio

import pytest

from .ws_venue import WsClient, WsVenue, ws_venue

__all__ = ["ws_venue"]
pytestmark = pytest.mark.slow


def test_after_a_gateway_restart_a_client_starts_from_open_orders_and_a_snapshot(
        ws_venue: WsVenue) -> None:
    async def before() -> int:
        alice = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        await alice.send({"type": "submit", "client_order_id": "keep-1", "symbol": "BTC-USD",
                          "side": "buy", "order_type": "limit", "price": "61000.00",
                          "quantity": "0.5000"})
        order_id = (await alice.order_update("keep-1", "accepted"))["order_id"]
        await alice.close()
        return order_id

    async def after(order_id: int) -> None:
        alice = await WsClient.open(ws_venue.url, ws_venue.token("DEMO1"))
        state = await alice.expect(lambda m: m["type"] == "open_orders")
        [order] = [o for o in state["orders"] if o["client_order_id"] == "keep-1"]
        assert (order["order_id"], order["status"], order["leaves_quantity"]) == (
            order_id, "accepted", "0.5000")
        await alice.send({"type": "subscribe", "channel": "depth", "symbol": "BTC-USD"})
        snapshot = await alice.expect(lambda m: m["type"] == "depth_snapshot")
        assert ["61000.00", "0.5000", 1] in snapshot["bids"]
        await alice.send({"type": "cancel", "client_order_id": "keep-1"})
        await alice.order_update("keep-1", "cancelled")  # the rebuilt table knows it
        await alice.close()

    order_id = asyncio.run(before())
    ws_venue.kill_gateway()
    ws_venue.start_gateway()
    asyncio.run(after(order_id))
