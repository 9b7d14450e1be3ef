"""Commands: what clients and operators ask the engine to do.

Each command is a frozen, array-like msgspec Struct with a permanent integer tag. Fields are
only ever appended, with defaults, so older log entries still decode. Prices and quantities
are integers in the instrument's units (see ``AddInstrument``): no floats in the log.

Tags 1-899 belong to venue's built-in commands, 900-999 to venue's diagnostic modules, and
1000 and above to plugins (``venue.codecs.schema`` enforces the ranges).
"""

from __future__ import annotations

import msgspec

from .enums import OrderType, SelfTradePrevention, Side, TimeInForce

__all__ = [
    "BUILTIN_COMMANDS",
    "AddInstrument",
    "CancelOrder",
    "CloseInstrument",
    "Command",
    "Deposit",
    "HaltInstrument",
    "MassCancel",
    "ReplaceOrder",
    "ResumeInstrument",
    "SetKillSwitch",
    "SetReferencePrice",
    "SetRiskLimits",
    "SubmitOrder",
    "Withdraw",
]

class Command(msgspec.Struct, frozen=True, array_like=True, tag_field="type"):
    """Base class of every command; subclasses set a permanent integer ``tag``."""


# -- order entry ---------------------------------------------------------------------------


class SubmitOrder(Command, tag=1):
    """Enter a new order.

    ``price`` and ``stop_price`` are in the instrument's price units and must be multiples of
    its tick size; ``quantity`` and ``display_quantity`` are in quantity units and multiples of
    its lot size. ``display_quantity`` > 0 makes an iceberg; ``expire_time_ns`` is used by GTD.
    Orders with the same non-zero ``self_trade_group`` (or the same account when the group is
    0) do not trade with each other when ``stp_mode`` is set.
    """

    account: int
    instrument_id: int
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    quantity: int
    post_only: bool = False
    display_quantity: int = 0
    stop_price: int = 0
    expire_time_ns: int = 0
    self_trade_group: int = 0
    stp_mode: SelfTradePrevention = SelfTradePrevention.NONE


class CancelOrder(Command, tag=2):
    """Cancel one order, named by ``order_id`` or, when that is 0, by its client order id."""

    account: int
    instrument_id: int
    client_order_id: str  # the id of this cancel request
    order_id: int = 0
    orig_client_order_id: str = ""


class ReplaceOrder(Command, tag=3):
    """Change an order's price and/or quantity. Quantity down keeps time priority; a price
    change or quantity up loses it."""

    account: int
    instrument_id: int
    client_order_id: str  # the order's new client order id
    price: int
    quantity: int
    order_id: int = 0
    orig_client_order_id: str = ""
    stop_price: int = 0


class MassCancel(Command, tag=4):
    """Cancel every open order of ``account`` (0: every account) on ``instrument_id``
    (0: every instrument)."""

    client_request_id: str
    account: int = 0
    instrument_id: int = 0


# -- reference data ------------------------------------------------------------------------


class AddInstrument(Command, tag=10):
    """List a new instrument.

    A price of ``p`` units means ``p / 10**price_decimals`` of the quote asset; a quantity of
    ``q`` units means ``q / 10**quantity_decimals`` of the base asset. ``tick_size`` and
    ``lot_size`` are in those units. ``price_band_bps`` limits prices to a band around the
    reference price (0: no band). ``max_quantity`` 0 means no maximum.
    """

    instrument_id: int
    symbol: str
    base_asset: int
    quote_asset: int
    price_decimals: int
    quantity_decimals: int
    tick_size: int = 1
    lot_size: int = 1
    min_quantity: int = 1
    max_quantity: int = 0
    price_band_bps: int = 0
    reference_price: int = 0


class HaltInstrument(Command, tag=11):
    instrument_id: int
    reason: str = ""


class ResumeInstrument(Command, tag=12):
    instrument_id: int


class CloseInstrument(Command, tag=13):
    instrument_id: int


class SetReferencePrice(Command, tag=14):
    instrument_id: int
    price: int


# -- risk and balances ---------------------------------------------------------------------


class SetRiskLimits(Command, tag=20):
    """Per-account pre-trade limits; 0 means unlimited."""

    account: int
    max_order_quantity: int = 0
    max_order_notional: int = 0
    max_open_orders: int = 0


class Deposit(Command, tag=21):
    account: int
    asset: int
    amount: int
    transfer_id: str = ""


class Withdraw(Command, tag=22):
    account: int
    asset: int
    amount: int
    transfer_id: str = ""


class SetKillSwitch(Command, tag=23):
    """Engage (cancel every open order, block new ones) or reset an account's kill switch."""

    account: int
    engaged: bool


BUILTIN_COMMANDS: tuple[type[Command], ...] = (
    SubmitOrder,
    CancelOrder,
    ReplaceOrder,
    MassCancel,
    AddInstrument,
    HaltInstrument,
    ResumeInstrument,
    CloseInstrument,
    SetReferencePrice,
    SetRiskLimits,
    Deposit,
    Withdraw,
    SetKillSwitch,
)
