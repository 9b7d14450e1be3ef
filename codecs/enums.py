"""Integer enumerations used in commands, events and log entries.

Every value here is part of the log format: values are permanent, new members are only
appended, and a member is never renumbered or reused.
"""

from __future__ import annotations

import enum

__all__ = [
    "BalanceReason",
    "CancelReason",
    "EntryKind",
    "InstrumentStatus",
    "OrderType",
    "RejectReason",
    "RequestKind",
    "SelfTradePrevention",
    "SessionCloseReason",
    "Side",
    "TimeInForce",
]

class Side(enum.IntEnum):
    BUY = 1
    SELL = 2


class OrderType(enum.IntEnum):
    LIMIT = 1
    MARKET = 2
    STOP = 3  # becomes a market order when triggered
    STOP_LIMIT = 4  # becomes a limit order when triggered


class TimeInForce(enum.IntEnum):
    GTC = 1  # good till cancelled
    IOC = 2  # immediate or cancel
    FOK = 3  # fill or kill: all or nothing, checked before any fill
    DAY = 4  # expires at the trading session's end timer
    GTD = 5  # good till date: expires at expire_time_ns


class SelfTradePrevention(enum.IntEnum):
    NONE = 0
    CANCEL_NEWEST = 1
    CANCEL_OLDEST = 2
    CANCEL_BOTH = 3
    DECREMENT_AND_CANCEL = 4


class InstrumentStatus(enum.IntEnum):
    OPEN = 1
    HALTED = 2
    CLOSED = 3


class RequestKind(enum.IntEnum):
    """Which kind of request a reject answers (FIX maps SUBMIT to an ExecutionReport and
    CANCEL/REPLACE to an OrderCancelReject)."""

    SUBMIT = 1
    CANCEL = 2
    REPLACE = 3
    MASS_CANCEL = 4
    ADMIN = 5


class RejectReason(enum.IntEnum):
    """Why a command was rejected: a code a client can act on. Append only."""

    UNKNOWN_INSTRUMENT = 1
    PRICE_OFF_TICK = 2
    QUANTITY_OFF_LOT = 3
    QUANTITY_OUT_OF_RANGE = 4
    PRICE_OUT_OF_BAND = 5
    INSUFFICIENT_BALANCE = 6
    INSTRUMENT_HALTED = 7
    INSTRUMENT_CLOSED = 8
    DUPLICATE_CLIENT_ORDER_ID = 9
    UNKNOWN_ORDER = 10
    TOO_LATE_TO_CANCEL = 11
    POST_ONLY_WOULD_TAKE = 12
    FOK_NOT_FILLABLE = 13
    MAX_ORDER_QUANTITY_EXCEEDED = 14
    MAX_ORDER_NOTIONAL_EXCEEDED = 15
    MAX_OPEN_ORDERS_EXCEEDED = 16
    KILL_SWITCH_ACTIVE = 17
    INVALID_FIELD = 18
    DUPLICATE_INSTRUMENT = 19
    INVALID_STATE_TRANSITION = 20
    UNKNOWN_SESSION = 21
    SESSION_SEQUENCE_GAP = 22
    NO_HANDLER = 23
    EXPIRE_TIME_IN_PAST = 24
    LIMIT_REACHED = 25
    NO_LIQUIDITY = 26


class CancelReason(enum.IntEnum):
    USER = 1
    IOC_REMAINDER = 2
    SELF_TRADE_PREVENTION = 3
    EXPIRY = 4
    MASS_CANCEL = 5
    KILL_SWITCH = 6
    MARKET_PROTECTION = 7
    INSTRUMENT_CLOSED = 8


class BalanceReason(enum.IntEnum):
    DEPOSIT = 1
    WITHDRAW = 2
    HOLD = 3
    RELEASE = 4
    FILL = 5


class EntryKind(enum.IntEnum):
    """Kinds of log entry. The payload's type follows from the kind."""

    COMMAND_BATCH = 1
    SESSION_OPEN = 2
    SESSION_CLOSE = 3
    TIMER = 4
    SNAPSHOT_MARKER = 5
    CONFIG_CHANGE = 6
    NOOP = 7


class SessionCloseReason(enum.IntEnum):
    CLIENT = 1
    TIMEOUT = 2
    ADMIN = 3
