"""Events: what the engine reports happened, in the order it happened.

Same rules as commands: frozen, array-like, permanent integer tags (1-899 venue, 900-999
diagnostics, 1000+ plugins), fields only appended with defaults, integers only.
"""

from __future__ import annotations

import msgspec

from .enums import (
    BalanceReason,
    CancelReason,
    InstrumentStatus,
    OrderType,
    RejectReason,
    RequestKind,
    SessionCloseReason,
    Side,
    TimeInForce,
)

__all__ = [
    "BUILTIN_EVENTS",
    "BalanceChanged",
    "BookLevelChanged",
    "CommandRejected",
    "Event",
    "InstrumentAdded",
    "InstrumentStatusChanged",
    "KillSwitchSet",
    "MassCancelCompleted",
    "OrderAccepted",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "OrderTriggered",
    "ReferencePriceSet",
    "RiskLimitsSet",
    "SessionClosed",
    "SessionOpened",
    "SessionRejected",
]

class Event(msgspec.Struct, frozen=True, array_like=True, tag_field="type"):
    """Base class of every event; subclasses set a permanent integer ``tag``."""


# -- orders --------------------------------------------------------------------------------


class OrderAccepted(Event, tag=1):
    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    quantity: int
    stop_price: int = 0
    display_quantity: int = 0
    expire_time_ns: int = 0


class OrderRejected(Event, tag=2):
    """A submit, cancel, replace or mass cancel that broke a rule; nothing else changed.

    The request's own terms ride along, so that a gateway can answer the reject in full
    without having remembered the request (a restart forgets): a submit's ``side``,
    ``order_type``, ``time_in_force``, ``price``, ``quantity`` and ``stop_price``; a
    replace's ``price``, ``quantity``, ``stop_price`` and ``orig_client_order_id``; a
    cancel's ``orig_client_order_id``. 0 or "" where the request has no such term, and in
    events written before these fields were appended. ``side``, ``order_type`` and
    ``time_in_force`` hold a ``Side``, ``OrderType`` and ``TimeInForce`` value as a plain
    integer, since 0 is none of theirs.
    """

    account: int
    instrument_id: int
    client_order_id: str
    request: RequestKind
    reason: RejectReason
    order_id: int = 0  # the targeted order, for cancel/replace
    text: str = ""
    side: int = 0
    order_type: int = 0
    time_in_force: int = 0
    price: int = 0
    quantity: int = 0
    stop_price: int = 0
    orig_client_order_id: str = ""


class OrderFilled(Event, tag=3):
    """One fill: a trade between a resting maker and an incoming taker."""

    trade_id: int
    instrument_id: int
    price: int
    quantity: int
    taker_side: Side
    maker_order_id: int
    maker_account: int
    maker_client_order_id: str
    maker_leaves_quantity: int
    taker_order_id: int
    taker_account: int
    taker_client_order_id: str
    taker_leaves_quantity: int


class OrderCancelled(Event, tag=4):
    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    reason: CancelReason
    cancelled_quantity: int
    request_client_order_id: str = ""  # the cancel request's id, when a client asked


class OrderReplaced(Event, tag=5):
    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    orig_client_order_id: str
    price: int
    quantity: int
    leaves_quantity: int
    priority_kept: bool
    stop_price: int = 0


class OrderExpired(Event, tag=6):
    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    expired_quantity: int


class OrderTriggered(Event, tag=7):
    """A stop or stop-limit order was triggered by the last trade price."""

    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    trigger_price: int


class MassCancelCompleted(Event, tag=8):
    """A mass cancel finished: ``cancelled_count`` orders were cancelled (each with its own
    ``OrderCancelled``, reason MASS_CANCEL, carrying ``client_request_id``); 0 is a valid
    answer. ``account`` and ``instrument_id`` are the request's filters (0: all)."""

    client_request_id: str
    account: int
    instrument_id: int
    cancelled_count: int


# -- reference data ------------------------------------------------------------------------


class InstrumentAdded(Event, tag=10):
    instrument_id: int
    symbol: str
    base_asset: int
    quote_asset: int
    price_decimals: int
    quantity_decimals: int
    tick_size: int
    lot_size: int
    min_quantity: int
    max_quantity: int
    price_band_bps: int
    reference_price: int


class InstrumentStatusChanged(Event, tag=11):
    """Halted, resumed (back to open) or closed."""

    instrument_id: int
    status: InstrumentStatus
    reason: str = ""


class ReferencePriceSet(Event, tag=12):
    instrument_id: int
    price: int


class CommandRejected(Event, tag=13):
    """A non-order command (reference data, risk, balances) that broke a rule."""

    command_tag: int
    reason: RejectReason
    account: int = 0
    instrument_id: int = 0
    text: str = ""


# -- market data ---------------------------------------------------------------------------


class BookLevelChanged(Event, tag=20):
    """The aggregate at one price level; ``quantity`` 0 means the level is gone."""

    instrument_id: int
    side: Side
    price: int
    quantity: int
    order_count: int


# -- risk and balances ---------------------------------------------------------------------


class BalanceChanged(Event, tag=30):
    account: int
    asset: int
    available: int
    held: int
    reason: BalanceReason
    delta: int = 0
    transfer_id: str = ""


class RiskLimitsSet(Event, tag=31):
    account: int
    max_order_quantity: int
    max_order_notional: int
    max_open_orders: int


class KillSwitchSet(Event, tag=32):
    account: int
    engaged: bool


# -- client sessions -----------------------------------------------------------------------


class SessionOpened(Event, tag=40):
    session_id: int
    principal: str


class SessionClosed(Event, tag=41):
    session_id: int
    reason: SessionCloseReason


class SessionRejected(Event, tag=42):
    """A command from an unknown session, or one that skips a sequence number (the client
    resends from ``expected_client_seq``); the command was not applied."""

    session_id: int
    client_seq: int
    reason: RejectReason
    expected_client_seq: int = 0


BUILTIN_EVENTS: tuple[type[Event], ...] = (
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCancelled,
    OrderReplaced,
    OrderExpired,
    OrderTriggered,
    MassCancelCompleted,
    InstrumentAdded,
    InstrumentStatusChanged,
    ReferencePriceSet,
    CommandRejected,
    BookLevelChanged,
    BalanceChanged,
    RiskLimitsSet,
    KillSwitchSet,
    SessionOpened,
    SessionClosed,
    SessionRejected,
)
