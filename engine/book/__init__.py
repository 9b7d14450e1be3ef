"""The order book of one instrument: a pure-Python reference and its compiled twin.

``PyOrderBook`` (``python.py``) and ``CyOrderBook`` (``_book.pyx``) have one API and produce
the same events; ``OrderBook`` is the active one, named by ``IMPLEMENTATION``. Set
``VENUE_PURE_PYTHON=1`` to force the pure-Python book; a missing compiled twin falls back to
it with a ``RuntimeWarning``.

Rules (prices in the instrument's price units, quantities in its quantity units, all
integers). The book does not check tick, lot, band, status or credit: the matching module
does, through refdata. It does check its own inputs and raises ``ValueError`` on values no
module should send: quantity outside 1..QUANTITY_MAX, price outside +-PRICE_MAX, a display
quantity above the quantity, post-only on IOC/FOK/market, a duplicate order id, a submit
while the book holds ``orders_max`` orders (the module rejects with LIMIT_REACHED first).
Results: ``submit`` and ``replace`` return a ``SubmitResult`` (outcome, filled, resting
leaves); ``cancel`` and ``reduce`` a ``BookOrder`` snapshot; all three None for an unknown
order id. ``to_state``/``from_state`` round-trip through plain tuples, across both twins.

- Strict price-time priority. A fill trades at the maker's price; trade ids count from 1
  per book.
- ``submit``: GTC, DAY and GTD rest their remainder (expiry is the module's job); IOC
  cancels it (``IOC_REMAINDER``). A market order (``is_market``) never rests and never
  trades through ``price``, its protection limit: its remainder is cancelled with
  ``MARKET_PROTECTION`` if the other side still has orders, else ``IOC_REMAINDER``.
- FOK is checked before any fill; if it cannot fill completely nothing happens, no events,
  and the result is ``FOK_NOT_FILLABLE``. Fillable means: the crossing quantity reachable in
  priority order covers the order, where a same-STP-key maker is skipped under
  CANCEL_OLDEST and stops the taker under CANCEL_NEWEST, CANCEL_BOTH and
  DECREMENT_AND_CANCEL (so only the visible quantity queued ahead of it at its level
  counts); hidden iceberg quantity counts, since refills rejoin the same queue.
- Post-only that would cross the best opposite price (self orders included) does nothing:
  ``POST_ONLY_WOULD_TAKE``, no events.
- Iceberg (``display_quantity`` > 0): only the visible slice is matchable at the order's
  place; when a slice is filled the next, min(display, leaves), joins the back of the level.
- Self-trade prevention when taker and maker share the STP key (the same non-zero
  ``stp_group``, or both group 0 and the same account) and the taker's mode is not NONE:
  CANCEL_NEWEST cancels the taker's remainder; CANCEL_OLDEST cancels the maker and goes on;
  CANCEL_BOTH cancels the maker, then the taker's remainder; DECREMENT_AND_CANCEL lowers
  both by the smaller leaves quantity: the smaller order is cancelled (both if equal) and
  the larger keeps its place with less quantity. Each cancel or decrement appends
  ``OrderCancelled(reason=SELF_TRADE_PREVENTION, cancelled_quantity=...)``, maker first;
  for a decremented order that stays open the cancelled quantity is less than its leaves.
- ``reduce`` keeps priority; ``replace`` to a new price or a larger quantity goes to the
  back of the queue at the new price and may match at once. ``replace(...,
  client_order_id=...)`` renames the order (FIX ClOrdID on cancel/replace) whatever else
  it does, before its own fills; a refused (POST_ONLY_WOULD_TAKE) replace renames nothing.
- Market data: after each operation, one ``BookLevelChanged`` (visible quantity, order
  count; 0/0 when the level is gone) per level whose aggregate changed, in the order the
  operation first touched the levels, after the operation's order events.
"""

from __future__ import annotations

from venue import select_twin

from .python import PyOrderBook
from .records import (
    ORDERS_MAX_DEFAULT,
    ORDERS_MAX_LIMIT,
    PRICE_MAX,
    QUANTITY_MAX,
    BookOrder,
    SubmitOutcome,
    SubmitResult,
)

__all__ = [
    "IMPLEMENTATION",
    "ORDERS_MAX_DEFAULT",
    "ORDERS_MAX_LIMIT",
    "PRICE_MAX",
    "QUANTITY_MAX",
    "BookOrder",
    "CyOrderBook",
    "OrderBook",
    "PyOrderBook",
    "SubmitOutcome",
    "SubmitResult",
]

OrderBook, CyOrderBook, IMPLEMENTATION = select_twin(
    "venue.engine.book._book", "CyOrderBook", PyOrderBook)
