"""The risk module's ledger: balances, holds per open order, limits, kill switches.

Integers only. A balance row is ``[available, held]`` per (account, asset); a ``Hold``
records what one open order holds, always exactly ``amount_for(price, leaves)``, and the
held figure of every row is the sum of its holds (``check``).
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from venue.codecs import RejectReason
from venue.codecs.enums import BalanceReason, Side
from venue.codecs.events import BalanceChanged, OrderAccepted, OrderFilled

from ..context import ApplyContext
from .instrument import Instrument

Problem = tuple[RejectReason, str]
BUY = Side.BUY
FILL = BalanceReason.FILL
HOLD = BalanceReason.HOLD
RELEASE = BalanceReason.RELEASE


class Scales(NamedTuple):
    """How an instrument's units map to its assets' units: a quantity q is
    ``q * base_factor`` base units; price p times q is ``p * q * quote_factor`` quote
    units."""

    base_asset: int
    quote_asset: int
    base_factor: int
    quote_factor: int


def scales_for(instrument: Instrument | None, asset_decimals: dict[int, int],
               default_decimals: int) -> Scales | str:
    """The instrument's ``Scales``, or a sentence saying why its units do not fit."""
    if instrument is None:
        return "unknown instrument"
    base_decimals = asset_decimals.get(instrument.base_asset, default_decimals)
    quote_decimals = asset_decimals.get(instrument.quote_asset, default_decimals)
    base_shift = base_decimals - instrument.quantity_decimals
    quote_shift = quote_decimals - instrument.price_decimals - instrument.quantity_decimals
    if base_shift < 0 or quote_shift < 0:
        return (f"instrument {instrument.symbol}: quantity_decimals "
                f"{instrument.quantity_decimals} and price_decimals "
                f"{instrument.price_decimals} need more decimals than its assets have "
                f"({base_decimals}, {quote_decimals})")
    return Scales(instrument.base_asset, instrument.quote_asset, 10**base_shift,
                  10**quote_shift)


class Hold(msgspec.Struct, array_like=True, gc=False):
    """What one open order holds. Mutable; also the snapshot format."""

    order_id: int
    account: int
    side: Side
    price: int
    leaves_quantity: int
    held: int
    base_asset: int
    quote_asset: int
    base_factor: int
    quote_factor: int

    @classmethod
    def for_order(cls, accepted: OrderAccepted, scales: Scales | str) -> Hold:
        if type(scales) is str:  # check_new_order rejects such orders: a bug if here
            raise AssertionError(f"order {accepted.order_id} accepted on an unfit "
                                 f"instrument: {scales}")
        hold = cls(accepted.order_id, accepted.account, accepted.side, accepted.price,
                   accepted.quantity, 0, *scales)
        hold.held = hold.amount_for(accepted.price, accepted.quantity)
        return hold

    @property
    def asset(self) -> int:
        return self.quote_asset if self.side == BUY else self.base_asset

    def amount_for(self, price: int, quantity: int) -> int:
        if self.side == BUY:
            return price * quantity * self.quote_factor
        return quantity * self.base_factor


class LedgerState(msgspec.Struct, array_like=True):
    balances: list[tuple[int, int, int, int]]  # account, asset, available, held
    holds: list[Hold]
    limits: list[tuple[int, int, int, int]]  # account, max qty, max notional, max open
    killed: list[int]


_encoder = msgspec.msgpack.Encoder(order="deterministic")
_decoder = msgspec.msgpack.Decoder(LedgerState)


class Ledger:
    def __init__(self) -> None:
        self.balances: dict[tuple[int, int], list[int]] = {}
        self.holds: dict[int, Hold] = {}
        self.limits: dict[int, tuple[int, int, int]] = {}
        self.killed: dict[int, None] = {}
        self.open_counts: dict[int, int] = {}
        self._accounts: dict[int, None] = {}

    def row(self, account: int, asset: int) -> list[int]:
        row = self.balances.get((account, asset))
        if row is None:
            row = self.balances[(account, asset)] = [0, 0]
            self._accounts[account] = None
        return row

    def account_count(self) -> int:
        return len(self._accounts)

    def has_account(self, account: int) -> bool:
        return account in self._accounts

    def credit_problem(self, account: int, asset: int, amount: int) -> Problem | None:
        row = self.balances.get((account, asset))
        available = 0 if row is None else row[0]
        if available >= amount:
            return None
        return (RejectReason.INSUFFICIENT_BALANCE,
                f"asset {asset}: available {available} < {amount}")

    def totals(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        for (_, asset), (available, held) in self.balances.items():
            totals[asset] = totals.get(asset, 0) + available + held
        return dict(sorted(totals.items()))

    # -- order events --------------------------------------------------------------------

    def hold(self, ctx: ApplyContext, hold: Hold) -> None:
        account, asset, held = hold.account, hold.asset, hold.held
        row = self.balances.get((account, asset)) or self.row(account, asset)
        if row[0] < held:  # check_new_order refused this: a bug if it happens
            raise AssertionError(f"order {hold.order_id} holds {held} of asset "
                                 f"{asset} but only {row[0]} is available")
        row[0] -= held
        row[1] += held
        self.holds[hold.order_id] = hold
        open_counts = self.open_counts
        open_counts[account] = open_counts.get(account, 0) + 1
        ctx.emit(BalanceChanged(account, asset, row[0], row[1], HOLD, -held))

    def release(self, ctx: ApplyContext, order_id: int, quantity: int) -> None:
        hold = self.holds[order_id]
        account, asset = hold.account, hold.asset
        amount = hold.amount_for(hold.price, quantity)
        row = self.balances[(account, asset)]
        row[0] += amount
        row[1] -= amount
        self._reduce(hold, quantity, amount)
        ctx.emit(BalanceChanged(account, asset, row[0], row[1], RELEASE, amount))

    def rehold(self, ctx: ApplyContext, order_id: int, price: int, leaves: int) -> None:
        hold = self.holds[order_id]
        delta = hold.amount_for(price, leaves) - hold.held
        row = self.balances[(hold.account, hold.asset)]
        if row[0] < delta:
            raise AssertionError(f"replace of order {order_id} needs {delta} more of asset "
                                 f"{hold.asset} but only {row[0]} is available")
        row[0] -= delta
        row[1] += delta
        hold.price = price
        hold.leaves_quantity = leaves
        hold.held += delta
        if delta:
            reason = BalanceReason.HOLD if delta > 0 else BalanceReason.RELEASE
            ctx.emit(BalanceChanged(hold.account, hold.asset, row[0], row[1], reason, -delta))

    def settle_fill(self, ctx: ApplyContext, fill: OrderFilled) -> None:
        holds = self.holds
        maker = holds[fill.maker_order_id]
        taker = holds[fill.taker_order_id]
        buyer, seller = (taker, maker) if fill.taker_side == BUY else (maker, taker)
        buyer_account, seller_account = buyer.account, seller.account
        quantity = fill.quantity
        base = quantity * buyer.base_factor
        paid = fill.price * quantity * buyer.quote_factor
        released = buyer.price * quantity * buyer.quote_factor  # buyer.amount_for(its price)
        balances = self.balances
        row_of = self.row  # rows that may not exist yet: the first fill of an asset
        emit = ctx.emit
        asset = buyer.quote_asset
        row = balances.get((buyer_account, asset)) or row_of(buyer_account, asset)
        row[0] += released - paid
        row[1] -= released
        emit(BalanceChanged(buyer_account, asset, row[0], row[1], FILL, released - paid))
        asset = buyer.base_asset
        row = balances.get((buyer_account, asset)) or row_of(buyer_account, asset)
        row[0] += base
        emit(BalanceChanged(buyer_account, asset, row[0], row[1], FILL, base))
        asset = seller.base_asset
        row = balances[(seller_account, asset)]
        row[1] -= base
        emit(BalanceChanged(seller_account, asset, row[0], row[1], FILL, 0))
        asset = seller.quote_asset
        row = balances.get((seller_account, asset)) or row_of(seller_account, asset)
        row[0] += paid
        emit(BalanceChanged(seller_account, asset, row[0], row[1], FILL, paid))
        self._reduce(buyer, quantity, released)
        self._reduce(seller, quantity, base)

    def _reduce(self, hold: Hold, quantity: int, amount: int) -> None:
        hold.leaves_quantity -= quantity
        hold.held -= amount
        if hold.leaves_quantity == 0:
            del self.holds[hold.order_id]
            count = self.open_counts[hold.account] - 1
            if count:
                self.open_counts[hold.account] = count
            else:
                del self.open_counts[hold.account]

    # -- snapshots and invariants --------------------------------------------------------

    def encode(self) -> bytes:
        return _encoder.encode(LedgerState(
            [(account, asset, row[0], row[1])
             for (account, asset), row in self.balances.items()],
            list(self.holds.values()),
            [(account, *limits) for account, limits in self.limits.items()],
            list(self.killed)))

    def restore(self, snapshot: bytes) -> None:
        state = _decoder.decode(snapshot)
        for account, asset, available, held in state.balances:
            self.row(account, asset)[:] = [available, held]
        for hold in state.holds:
            self.holds[hold.order_id] = hold
            self.open_counts[hold.account] = self.open_counts.get(hold.account, 0) + 1
        for account, *limits in state.limits:
            self.limits[account] = tuple(limits)  # type: ignore[assignment]
        self.killed = dict.fromkeys(state.killed)

    def check(self) -> None:
        """Raise AssertionError if an invariant is broken. O(accounts + holds)."""
        held: dict[tuple[int, int], int] = {}
        counts: dict[int, int] = {}
        for order_id, hold in self.holds.items():
            if order_id != hold.order_id or hold.leaves_quantity <= 0:
                raise AssertionError(f"hold {order_id} is malformed: {hold}")
            if hold.held != hold.amount_for(hold.price, hold.leaves_quantity):
                raise AssertionError(f"hold {order_id} holds {hold.held}, not its amount")
            key = (hold.account, hold.asset)
            held[key] = held.get(key, 0) + hold.held
            counts[hold.account] = counts.get(hold.account, 0) + 1
        for key, (available, row_held) in self.balances.items():
            if available < 0 or row_held != held.get(key, 0):
                raise AssertionError(f"balance {key} is [{available}, {row_held}], holds "
                                     f"sum to {held.get(key, 0)}")
        if any(key not in self.balances for key in held) or counts != self.open_counts:
            raise AssertionError("holds name balances that do not exist, or open counts "
                                 "disagree with the holds")
