"""The risk module: pre-trade limits, kill switches and the cash ledger, per account.

Commands: ``Deposit``, ``Withdraw``, ``SetRiskLimits``, ``SetKillSwitch``. The matching
module asks ``check_new_order`` and ``check_replace`` before it matches (queries: nothing
changes), and this module follows the orders through the events it observes:

- ``OrderAccepted`` puts a hold on the account: a buy holds price x quantity of the quote
  asset (the protection price for market and stop orders), a sell the base quantity;
- ``OrderFilled`` settles both sides at the fill price (a buyer gets back what it held
  above the fill price) and moves the base asset;
- ``OrderCancelled`` and ``OrderExpired`` release the hold on what was cancelled;
- ``OrderReplaced`` re-holds for the new price and leaves.

So for every asset the sum over all accounts of available plus held changes only by
deposits and withdrawals (``totals``; tests check it after every command). Every change
is reported by ``BalanceChanged`` (``delta`` is the change of ``available``).

Amounts are integers in each asset's smallest unit, ``10**-asset_decimals`` of the asset
(``asset_decimals`` option, default 8). An instrument's quantity unit must be a whole number
of its base asset's units, and price x quantity a whole number of its quote asset's units:
an order on an instrument that breaks this is rejected (INVALID_FIELD).

Checks, in order: kill switch (KILL_SWITCH_ACTIVE), max order quantity, max order notional
(in quote asset units), max open orders, then credit (INSUFFICIENT_BALANCE). Limits of 0
mean unlimited; ``default_limits`` apply to accounts without their own.
"""

from __future__ import annotations

from typing import Any

import msgspec

from venue.codecs import Command, Event, RejectReason
from venue.codecs.commands import Deposit, SetKillSwitch, SetRiskLimits, SubmitOrder, Withdraw
from venue.codecs.enums import BalanceReason, Side
from venue.codecs.events import (
    BalanceChanged,
    CommandRejected,
    KillSwitchSet,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderReplaced,
    RiskLimitsSet,
)

from ..context import ApplyContext
from ..errors import SnapshotError
from ..service import Module
from .orders import OpenOrder
from .risk_ledger import Hold, Ledger, Problem, Scales, scales_for

ASSET_DECIMALS_DEFAULT = 8
ACCOUNTS_MAX_DEFAULT = 100_000
BALANCE_MAX = 2**62  # per account and asset, so every figure fits a signed 64-bit integer
BUY = Side.BUY


class RiskModule(Module):
    """The built-in risk module (``name = "risk"``)."""

    name = "risk"
    handles = (Deposit, Withdraw, SetRiskLimits, SetKillSwitch)
    observes = (OrderAccepted, OrderFilled, OrderCancelled, OrderExpired, OrderReplaced)
    snapshot_version = 1

    def __init__(self, asset_decimals: dict | list | None = None,
                 default_asset_decimals: int = ASSET_DECIMALS_DEFAULT,
                 accounts_max: int = ACCOUNTS_MAX_DEFAULT,
                 default_limits: tuple[int, int, int] | list[int] = (0, 0, 0)) -> None:
        pairs = asset_decimals.items() if isinstance(asset_decimals, dict) else (
            asset_decimals or ())
        self.asset_decimals = {int(asset): int(decimals) for asset, decimals in pairs}
        for value in (*self.asset_decimals.values(), default_asset_decimals):
            if not 0 <= value <= 18:
                raise ValueError(f"asset decimals must be 0..18, got {value}")
        if not isinstance(accounts_max, int) or accounts_max < 1:
            raise ValueError(f"accounts_max must be at least 1, got {accounts_max!r}")
        limits = tuple(int(value) for value in default_limits)
        if len(limits) != 3 or min(limits) < 0:
            raise ValueError("default_limits are (max quantity, max notional, max open "
                             f"orders), each >= 0; got {default_limits!r}")
        self.default_asset_decimals = default_asset_decimals
        self.accounts_max = accounts_max
        self.default_limits: tuple[int, int, int] = limits  # type: ignore[assignment]
        self.ledger = Ledger()
        self._scales: dict[int, Scales | str] = {}  # derived from refdata, not state
        self._refdata: Any = None

    # -- queries -------------------------------------------------------------------------

    def balance(self, account: int, asset: int) -> tuple[int, int]:
        """(available, held) of ``asset`` for ``account``; (0, 0) if never funded. O(1)."""
        row = self.ledger.balances.get((account, asset))
        return (0, 0) if row is None else (row[0], row[1])

    def totals(self) -> dict[int, int]:
        """Per asset, the sum over all accounts of available plus held. O(accounts)."""
        return self.ledger.totals()

    def limits(self, account: int) -> tuple[int, int, int]:
        """(max order quantity, max order notional, max open orders); 0 is unlimited."""
        return self.ledger.limits.get(account, self.default_limits)

    def kill_switch(self, account: int) -> bool:
        return account in self.ledger.killed

    def open_orders(self, account: int) -> int:
        return self.ledger.open_counts.get(account, 0)

    # -- pre-trade checks, called by the matching module ---------------------------------

    def check_new_order(self, command: SubmitOrder, price: int) -> Problem | None:
        account = command.account
        ledger = self.ledger
        if account in ledger.killed:
            return RejectReason.KILL_SWITCH_ACTIVE, f"account {account} is kill-switched"
        instrument_id = command.instrument_id
        scales = self._scales.get(instrument_id) or self._scales_of(instrument_id)
        if type(scales) is str:
            return RejectReason.INVALID_FIELD, scales
        quantity = command.quantity
        max_quantity, max_notional, max_open = ledger.limits.get(account, self.default_limits)
        notional = price * quantity * scales.quote_factor
        if max_quantity or max_notional:  # 0, 0: unlimited (most accounts)
            problem = _size_problem(quantity, notional, max_quantity, max_notional)
            if problem is not None:
                return problem
        if max_open and ledger.open_counts.get(account, 0) >= max_open:
            return RejectReason.MAX_OPEN_ORDERS_EXCEEDED, f"max open orders {max_open}"
        if command.side == BUY:
            asset, amount = scales.quote_asset, notional
        else:
            asset, amount = scales.base_asset, quantity * scales.base_factor
        return ledger.credit_problem(account, asset, amount)

    def check_replace(self, order: OpenOrder, price: int, leaves_quantity: int
                      ) -> Problem | None:
        scales = self._scales_of(order.instrument_id)
        if type(scales) is str:
            return RejectReason.INVALID_FIELD, scales
        ledger = self.ledger
        quantity = order.filled_quantity + leaves_quantity
        max_quantity, max_notional, _ = ledger.limits.get(order.account, self.default_limits)
        problem = _size_problem(quantity, price * quantity * scales.quote_factor,
                                max_quantity, max_notional)
        if problem is not None:
            return problem
        hold = ledger.holds[order.order_id]
        extra = hold.amount_for(price, leaves_quantity) - hold.held
        if extra <= 0:
            return None
        return ledger.credit_problem(order.account, hold.asset, extra)

    def _scales_of(self, instrument_id: int) -> Scales | str:
        scales = self._scales.get(instrument_id)
        if scales is None:
            instrument = self._refdata.instrument(instrument_id)
            scales = self._scales[instrument_id] = scales_for(
                instrument, self.asset_decimals, self.default_asset_decimals)
        return scales

    # -- observed order events -----------------------------------------------------------

    def on_event(self, ctx: ApplyContext, event: Event) -> None:
        kind = type(event)
        ledger = self.ledger
        if kind is OrderFilled:
            ledger.settle_fill(ctx, event)
        elif kind is OrderAccepted:
            scales = self._scales.get(event.instrument_id) or self._scales_of(
                event.instrument_id)
            ledger.hold(ctx, Hold.for_order(event, scales))
        elif kind is OrderCancelled:
            ledger.release(ctx, event.order_id, event.cancelled_quantity)
        elif kind is OrderExpired:
            ledger.release(ctx, event.order_id, event.expired_quantity)
        elif kind is OrderReplaced:
            ledger.rehold(ctx, event.order_id, event.price, event.leaves_quantity)

    # -- commands ------------------------------------------------------------------------

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        kind = type(command)
        if kind is Deposit or kind is Withdraw:
            self._transfer(ctx, command)
        elif kind is SetRiskLimits:
            values = (command.max_order_quantity, command.max_order_notional,
                      command.max_open_orders)
            if command.account < 1 or min(values) < 0:
                return _reject(ctx, command, RejectReason.INVALID_FIELD,
                               "account must be >= 1 and limits >= 0")
            self.ledger.limits[command.account] = values
            ctx.emit(RiskLimitsSet(command.account, *values))
        elif kind is SetKillSwitch:
            if command.account < 1:
                return _reject(ctx, command, RejectReason.INVALID_FIELD, "account must be >= 1")
            killed = self.ledger.killed
            if command.engaged:
                killed[command.account] = None
            else:
                killed.pop(command.account, None)
            ctx.emit(KillSwitchSet(command.account, command.engaged))  # matching cancels
        else:
            raise TypeError(f"risk does not handle {kind.__qualname__}")
        return None

    def _transfer(self, ctx: ApplyContext, command: Deposit | Withdraw) -> None:
        """Checks, in order: the fields (INVALID_FIELD); for a deposit the account table and
        BALANCE_MAX (LIMIT_REACHED); for a withdrawal the available balance
        (INSUFFICIENT_BALANCE)."""
        account, asset, amount = command.account, command.asset, command.amount
        if account < 1 or asset < 1 or amount < 1 or len(command.transfer_id) > 64:
            return _reject(ctx, command, RejectReason.INVALID_FIELD,
                           "account, asset and amount must be >= 1, transfer_id <= 64 chars")
        ledger = self.ledger
        row = ledger.balances.get((account, asset))
        if type(command) is Deposit:
            if row is None and ledger.account_count() >= self.accounts_max \
                    and not ledger.has_account(account):
                return _reject(ctx, command, RejectReason.LIMIT_REACHED,
                               f"accounts_max {self.accounts_max} reached")
            if (row[0] + row[1] if row else 0) + amount > BALANCE_MAX:
                return _reject(ctx, command, RejectReason.LIMIT_REACHED,
                               f"balance would exceed {BALANCE_MAX}")
            row = ledger.row(account, asset)
            row[0] += amount
            ctx.emit(BalanceChanged(account, asset, row[0], row[1], BalanceReason.DEPOSIT,
                                    amount, command.transfer_id))
            return None
        if row is None or row[0] < amount:
            available = 0 if row is None else row[0]
            return _reject(ctx, command, RejectReason.INSUFFICIENT_BALANCE,
                           f"available {available} < {amount}")
        row[0] -= amount
        ctx.emit(BalanceChanged(account, asset, row[0], row[1], BalanceReason.WITHDRAW,
                                -amount, command.transfer_id))
        return None

    # -- lifecycle -----------------------------------------------------------------------

    def on_start(self, snapshot: bytes | None) -> None:
        self._refdata = self.directory.get("refdata")
        self._scales = {}
        self.ledger = Ledger()
        if snapshot:
            try:
                self.ledger.restore(snapshot)
                self.ledger.check()
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError,
                    AssertionError) as exc:
                raise SnapshotError(f"risk snapshot does not restore: {exc}") from None

    def take_snapshot(self) -> bytes:
        return self.ledger.encode()

    def summary(self) -> dict[str, int | str]:
        ledger = self.ledger
        return {"accounts": ledger.account_count(), "holds": len(ledger.holds),
                "kill_switched": len(ledger.killed)}

    def _check(self) -> None:
        """Raise AssertionError if an invariant is broken (tests call it after every step)."""
        self.ledger.check()


def _size_problem(quantity: int, notional: int, max_quantity: int, max_notional: int
                  ) -> Problem | None:
    """The per-order limits (0: unlimited), quantity first."""
    if max_quantity and quantity > max_quantity:
        return (RejectReason.MAX_ORDER_QUANTITY_EXCEEDED,
                f"quantity {quantity} > max {max_quantity}")
    if max_notional and notional > max_notional:
        return (RejectReason.MAX_ORDER_NOTIONAL_EXCEEDED,
                f"notional {notional} > max {max_notional}")
    return None


def _reject(ctx: ApplyContext, command: Command, reason: RejectReason, text: str) -> None:
    ctx.emit(CommandRejected(command.__struct_config__.tag, reason,
                             account=getattr(command, "account", 0), text=text))
