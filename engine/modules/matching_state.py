"""The matching module's snapshot: counters, open orders, books, finished orders.

Open orders are kept in acceptance order, books in instrument id order, so a restored
module iterates exactly as the live one did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from ..book import OrderBook
from .orders import OpenOrder, StopOrders

if TYPE_CHECKING:
    from .matching import MatchingModule


class MatchingState(msgspec.Struct, array_like=True):
    next_order_id: int
    next_stop_sequence: int
    day_timer_pending: bool
    orders: list[OpenOrder]
    books: list[Any]  # OrderBook.to_state() of each book, by instrument id
    finished: list[tuple[int, int, str]]  # oldest first


_encoder = msgspec.msgpack.Encoder(order="deterministic")
_decoder = msgspec.msgpack.Decoder(MatchingState)


def encode(module: MatchingModule) -> bytes:
    table = module.table
    books = [module._books[instrument_id].to_state() for instrument_id in sorted(module._books)]
    return _encoder.encode(MatchingState(
        table.next_order_id, table.next_stop_sequence, table.day_timer_pending,
        list(table.orders.values()), books, table.finished.rows()))


def restore(module: MatchingModule, snapshot: bytes) -> None:
    """Rebuild ``module`` from ``snapshot``; raises ValueError (or a decode error) if the
    parts disagree: every resting order must be in its book and the reverse."""
    state = _decoder.decode(snapshot)
    module.table.restore(state.orders, state.finished, state.next_order_id,
                         state.next_stop_sequence, state.day_timer_pending)
    for book_state in state.books:
        book = OrderBook.from_state(book_state)  # lists from msgpack unpack as tuples do
        if book.instrument_id in module._books:
            raise ValueError(f"two books for instrument {book.instrument_id}")
        module._books[book.instrument_id] = book
    resting = 0
    for order in state.orders:
        if order.stop_sequence:
            module._stops.setdefault(order.instrument_id, StopOrders()).add(order)
            continue
        book = module._books.get(order.instrument_id)
        if book is None or book.order(order.order_id) is None:
            raise ValueError(f"open order {order.order_id} is not in its book")
        resting += 1
    if resting != sum(len(book) for book in module._books.values()):
        raise ValueError("the books hold orders the order table does not know")
