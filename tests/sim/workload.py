"""What the simulated clients submit, the modules that apply it, and the final state check.

- ``counter``: ``Increment`` commands to the counter module; at the end every counter must
  equal the sum of the increments applied.
- ``trading``: real order flow through reference data, risk and matching. Each client is
  one account: it lists the instrument (the first listing wins, the others are rejected as
  duplicates), funds itself, then submits limit orders (GTC, IOC, FOK, post-only, icebergs,
  stops, self-trade prevention), market orders, cancels, replaces and an occasional mass
  cancel around a price where they cross. Every node checks after every entry that each
  asset's total over all accounts equals what was deposited (``Checker.check_conservation``).
"""

from __future__ import annotations

from random import Random
from typing import Any

import msgspec

from venue.codecs import (
    AddInstrument,
    CancelOrder,
    Command,
    Deposit,
    MassCancel,
    OrderType,
    ReplaceOrder,
    SelfTradePrevention,
    Side,
    SubmitOrder,
    TimeInForce,
)
from venue.engine import Engine, Module
from venue.engine.modules.counter import CounterModule, Increment
from venue.engine.modules.matching import MatchingModule
from venue.engine.modules.refdata import ReferenceDataModule
from venue.engine.modules.risk import RiskModule

from .checker import Violation

KEYS = 4  # counter keys the clients share
INSTRUMENT = AddInstrument(1, "SIM-USD", base_asset=2, quote_asset=1, price_decimals=2,
                           quantity_decimals=2, tick_size=1, lot_size=1, price_band_bps=2_000,
                           reference_price=100)
FUNDING = ((1, 10**10), (2, 10**9))  # (asset, amount) each account deposits

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def counter_modules(node_id: int) -> list[Module]:
    return [CounterModule()]


def trading_modules(node_id: int) -> list[Module]:
    return [ReferenceDataModule(), RiskModule(), MatchingModule()]


class CounterWorkload:
    name = "counter"
    make_modules = staticmethod(counter_modules)

    def command(self, rng: Random, client_id: int, seq: int) -> tuple[bytes, Any]:
        key, amount = rng.randrange(KEYS), rng.randrange(1, 10)
        return _encoder.encode(Increment(key, amount)), (key, amount)

    def check_final(self, engines: dict[int, Engine], applied: list[Any]) -> None:
        expected: dict[int, int] = {}
        for key, amount in applied:
            expected[key] = expected.get(key, 0) + amount
        for node_id, engine in engines.items():
            values = engine.module("counter").values  # type: ignore[attr-defined]
            if dict(sorted(values.items())) != dict(sorted(expected.items())):
                raise Violation(f"node {node_id} counters {values} != applied sum {expected}")


class TradingWorkload:
    name = "trading"
    make_modules = staticmethod(trading_modules)

    def command(self, rng: Random, client_id: int, seq: int) -> tuple[bytes, Any]:
        return _encoder.encode(self._choose(rng, client_id, seq)), None

    def _choose(self, rng: Random, account: int, seq: int) -> Command:
        if seq == 1:
            return INSTRUMENT
        if seq - 2 < len(FUNDING):
            asset, amount = FUNDING[seq - 2]
            return Deposit(account, asset, amount, f"fund-{account}-{asset}")
        roll = rng.randrange(100)
        earlier = f"o{account}-{rng.randrange(max(1, seq - 12), seq)}"
        if roll < 10:
            return CancelOrder(account, 1, f"c{account}-{seq}", orig_client_order_id=earlier)
        if roll < 16:
            return ReplaceOrder(account, 1, f"o{account}-{seq}", price=rng.randrange(95, 106),
                                quantity=rng.randrange(1, 12), orig_client_order_id=earlier)
        if roll < 18:
            return MassCancel(f"m{account}-{seq}", account=account)
        return self._submit(rng, account, seq, roll)

    @staticmethod
    def _submit(rng: Random, account: int, seq: int, roll: int) -> SubmitOrder:
        side = Side.BUY if rng.randrange(2) else Side.SELL
        quantity = rng.randrange(1, 10)
        order_type, tif, price, stop = OrderType.LIMIT, TimeInForce.GTC, 0, 0
        if roll < 24:
            order_type, tif = OrderType.MARKET, TimeInForce.IOC
        elif roll < 30:
            order_type, stop = rng.choice((OrderType.STOP, OrderType.STOP_LIMIT)), \
                rng.randrange(97, 104)
            price = rng.randrange(95, 106) if order_type == OrderType.STOP_LIMIT else 0
        else:
            price = rng.randrange(95, 106)
            tif = rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC,
                              TimeInForce.FOK))
        resting = tif == TimeInForce.GTC and order_type == OrderType.LIMIT
        return SubmitOrder(
            account, 1, f"o{account}-{seq}", side, order_type, tif, price, quantity,
            post_only=resting and rng.randrange(8) == 0,
            display_quantity=rng.randrange(1, quantity + 1) if resting and roll > 92 else 0,
            stop_price=stop,
            stp_mode=SelfTradePrevention(rng.randrange(5)))

    def check_final(self, engines: dict[int, Engine], applied: list[Any]) -> None:
        """Chains and states are already equal; balances must add up on every node."""
        for engine in engines.values():
            engine.module("risk")._check()  # type: ignore[attr-defined]
            for book in engine.module("matching")._books.values():  # type: ignore[attr-defined]
                book._check()


WORKLOADS = {"counter": CounterWorkload(), "trading": TradingWorkload()}
