"""A ``WsGatewayCore`` in front of a real engine (refdata and matching): what clients send
goes through the core, its commands through the engine, and the engine's events back
through ``core.apply``, as the stream would bring them."""

from __future__ import annotations

import json

from venue.gateways.ws.config import Limits
from venue.gateways.ws.core import WsGatewayCore

from ...modules.harness import EngineDriver
from ...modules.trading import btc_usd, make_modules

ALICE, BOB = 101, 102
TOKENS = {"alice-token": ALICE, "bob-token": BOB}
SYMBOL = "BTC-USD-1"  # price decimals 2, tick 0.05, quantity decimals 0, band 90-110
NS = 1_000_000_000


class CoreLoop:
    def __init__(self, **limits: int) -> None:
        self.driver = EngineDriver(make_modules(with_risk=False))
        self.core = WsGatewayCore(TOKENS, Limits(**limits))
        self.now_ns = NS
        self.commands: list = []
        self._ids = iter(range(1, 1_000_000))
        self.execute(btc_usd())

    def execute(self, command: object) -> None:
        """One command as one log entry; its events through the core."""
        events = self.driver.submit(command)
        self.core.apply(self.driver.index, events)

    def connect(self, token: str | None = None) -> int:
        conn = next(self._ids)
        assert self.core.connect(conn) is None
        if token is not None:
            reply, orders = self.send(conn, {"type": "auth", "token": token})
            assert reply["type"] == "authenticated", reply
            assert orders["type"] == "open_orders" and orders["account"] == reply["account"]
            self.last_open_orders = orders["orders"]
        return conn

    def send(self, conn: int, message: dict | str) -> list[dict]:
        """One client message; the commands it made run in the engine; what ``conn``
        has been sent since it last looked."""
        data = message if isinstance(message, str) else json.dumps(message)
        self.core.receive(conn, data, self.now_ns)
        for command in self.core.commands_to_send():
            self.commands.append(command)
            self.execute(command)
        return self.take(conn)

    def take(self, conn: int) -> list[dict]:
        return [json.loads(data) for data in self.core.data_to_send(conn)]

    def order(self, conn: int, client_order_id: str, side: str, price: str, quantity: str,
              **extra: object) -> list[dict]:
        return self.send(conn, {"type": "submit", "client_order_id": client_order_id,
                                "symbol": SYMBOL, "side": side, "order_type": "limit",
                                "price": price, "quantity": quantity, **extra})


def apply_depth(book: dict[str, dict[str, tuple[str, int]]], changes: list) -> None:
    """A client's book: side -> price -> (quantity, order count)."""
    for side, price, quantity, count in changes:
        levels = book["bids" if side == "buy" else "asks"]
        if int(quantity.replace(".", "")) == 0:
            del levels[price]
        else:
            levels[price] = (quantity, count)


def book_of(snapshot: dict) -> dict[str, dict[str, tuple[str, int]]]:
    return {side: {price: (quantity, count) for price, quantity, count in snapshot[side]}
            for side in ("bids", "asks")}
