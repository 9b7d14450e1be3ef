"""What the order books return, and the limits they enforce; shared by both implementations.

The book trusts the matching module for business rules (tick, lot, band, status, credit) but
checks its own inputs: a value outside these limits is a caller bug and raises ``ValueError``.
The limits keep every quantity and level total inside a signed 64-bit integer, which the
compiled book relies on: ``QUANTITY_MAX * ORDERS_MAX_LIMIT < 2**63``.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from venue.codecs.enums import SelfTradePrevention, Side

__all__ = [
    "ORDERS_MAX_DEFAULT",
    "ORDERS_MAX_LIMIT",
    "PRICE_MAX",
    "QUANTITY_MAX",
    "BookOrder",
    "SubmitOutcome",
    "SubmitResult",
    "check_orders_max",
    "check_quantity",
    "validate_price",
]

PRICE_MAX = 2**62  # prices lie in -PRICE_MAX..PRICE_MAX (spreads may trade below zero)
QUANTITY_MAX = 2**40  # quantities lie in 1..QUANTITY_MAX
ORDERS_MAX_LIMIT = 2**22  # the largest orders_max a book accepts
ORDERS_MAX_DEFAULT = 1_000_000  # resting orders per book unless told otherwise


class SubmitOutcome(enum.IntEnum):
    """What became of a submitted (or replaced) order."""

    RESTING = 1  # a remainder rests in the book (it may have filled in part first)
    FILLED = 2  # filled completely; nothing rests
    CANCELLED = 3  # the remainder was cancelled (IOC, market, self-trade prevention)
    FOK_NOT_FILLABLE = 4  # fill-or-kill could not fill completely: nothing happened
    POST_ONLY_WOULD_TAKE = 5  # post-only would have taken liquidity: nothing happened


class SubmitResult(NamedTuple):
    """``filled_quantity``: filled by this call; ``leaves_quantity``: what now rests."""

    outcome: SubmitOutcome
    filled_quantity: int
    leaves_quantity: int


class BookOrder(NamedTuple):
    """A snapshot of one resting order.

    ``quantity`` is the order's current size, ``filled_quantity + leaves_quantity`` (a reduce
    or a self-trade decrement lowers it); ``visible_quantity`` is the part shown in the book
    (less than ``leaves_quantity`` only for an iceberg, ``display_quantity > 0``).
    """

    order_id: int
    account: int
    client_order_id: str
    side: Side
    price: int
    quantity: int
    leaves_quantity: int
    visible_quantity: int
    display_quantity: int
    filled_quantity: int
    stp_group: int
    stp_mode: SelfTradePrevention
    post_only: bool


def validate_price(price: int) -> None:
    if not isinstance(price, int) or not -PRICE_MAX <= price <= PRICE_MAX:
        raise ValueError(f"price must be an integer in -2**62..2**62, got {price!r}")


def check_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or not 0 < quantity <= QUANTITY_MAX:
        raise ValueError(f"quantity must be an integer in 1..2**40, got {quantity!r}")


def check_orders_max(orders_max: int) -> None:
    if not isinstance(orders_max, int) or not 0 < orders_max <= ORDERS_MAX_LIMIT:
        raise ValueError(f"orders_max must be in 1..2**22, got {orders_max!r}")
