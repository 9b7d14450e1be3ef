"""Market data for the WebSocket API: the gateway's L2 copy of every book (the FIX gateway's
``Book``), depth views with sequence numbers, trades and instrument status.

A depth view is one (instrument, depth) pair; every subscriber of the same symbol and depth
shares it. Its ``seq`` goes up by one for each log entry that changed the view's top
``depth`` levels, and each such entry gives one ``depth_update`` with the changes that turn
the previous view into the new one. A subscriber checks that each update's ``seq`` is one
more than the last it saw (the snapshot's, at first); anything else is a gap, and it
subscribes again for a new snapshot. A view lives while it has subscribers; a new one starts
at ``seq`` 0 with its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from venue.codecs.enums import InstrumentStatus, Side
from venue.codecs.events import BookLevelChanged, InstrumentStatusChanged, OrderFilled
from venue.gateways.instruments import InstrumentInfo, Instruments
from venue.gateways.l2book import DELETE, Book
from venue.gateways.l2book import Level as BookLevel
from venue.gateways.l2book import diff as level_diff

from .orders import SIDE_NAMES, text
from .schema import DepthSnapshot, DepthUpdate, Level, LevelChange, Status, Trade

TRADES_KEPT = 0  # the WS API streams trades; it keeps none for replay
STATUS_NAMES = {InstrumentStatus.OPEN: "open", InstrumentStatus.HALTED: "halted",
                InstrumentStatus.CLOSED: "closed"}


@dataclass
class DepthView:
    instrument_id: int
    depth: int
    seq: int = 0
    bids: list[BookLevel] = field(default_factory=list)
    asks: list[BookLevel] = field(default_factory=list)


def _levels(levels: list[BookLevel], info: InstrumentInfo) -> list[Level]:
    return [Level(text(level.price, info.price_decimals),
                  text(level.quantity, info.quantity_decimals), level.order_count)
            for level in levels]


class MarketData:
    """Books and depth views; ``on_events`` returns what changed per subscription key:
    ``("depth", instrument_id, depth)``, ``("trades", instrument_id)``,
    ``("status", instrument_id)``."""

    def __init__(self, instruments: Instruments) -> None:
        self.instruments = instruments
        self.books: dict[int, Book] = {}
        self.views: dict[tuple[int, int], DepthView] = {}

    def book(self, instrument_id: int) -> Book:
        book = self.books.get(instrument_id)
        if book is None:
            book = self.books[instrument_id] = Book(TRADES_KEPT)
        return book

    # -- views -----------------------------------------------------------------------------

    def open_view(self, instrument_id: int, depth: int) -> DepthView:
        """The view of this depth, made from the current book if it is new. O(depth)."""
        view = self.views.get((instrument_id, depth))
        if view is None:
            book = self.book(instrument_id)
            view = DepthView(instrument_id, depth, 0, book.bids.top(depth),
                             book.offers.top(depth))
            self.views[(instrument_id, depth)] = view
        return view

    def close_view(self, instrument_id: int, depth: int) -> None:
        self.views.pop((instrument_id, depth), None)

    def snapshot(self, view: DepthView) -> DepthSnapshot:
        info = self.instruments.by_id(view.instrument_id)
        assert info is not None
        return DepthSnapshot(info.symbol, view.seq, view.depth, _levels(view.bids, info),
                             _levels(view.asks, info))

    def status(self, info: InstrumentInfo, reason: str | None = None) -> Status:
        return Status(info.symbol, STATUS_NAMES[info.status], reason or None)

    # -- the stream ------------------------------------------------------------------------

    def on_events(self, position: int, events: Iterable[object]) -> list[tuple[tuple, object]]:
        """Fold one log entry's events (after ``Instruments.on_event``) into the books;
        the messages it gives, by subscription key. O(events + changed views x depth)."""
        out: list[tuple[tuple, object]] = []
        changed: list[int] = []
        for event in events:
            if isinstance(event, BookLevelChanged):
                self.book(event.instrument_id).side(event.side).set(
                    event.price, event.quantity, event.order_count)
                if event.instrument_id not in changed:
                    changed.append(event.instrument_id)
            elif isinstance(event, OrderFilled):
                info = self.instruments.by_id(event.instrument_id)
                if info is not None:
                    out.append((("trades", event.instrument_id), Trade(
                        info.symbol, event.trade_id, text(event.price, info.price_decimals),
                        text(event.quantity, info.quantity_decimals),
                        SIDE_NAMES[event.taker_side], position)))
            elif isinstance(event, InstrumentStatusChanged):
                info = self.instruments.by_id(event.instrument_id)
                if info is not None:
                    out.append((("status", event.instrument_id),
                                self.status(info, event.reason)))
        for instrument_id in changed:
            out.extend(self._view_updates(instrument_id))
        return out

    def _view_updates(self, instrument_id: int) -> list[tuple[tuple, object]]:
        info = self.instruments.by_id(instrument_id)
        book = self.books[instrument_id]
        out: list[tuple[tuple, object]] = []
        for (view_instrument, depth), view in self.views.items():
            if view_instrument != instrument_id or info is None:
                continue
            bids, asks = book.bids.top(depth), book.offers.top(depth)
            changes = _changes(Side.BUY, view.bids, bids, info) + _changes(
                Side.SELL, view.asks, asks, info)
            if not changes:
                continue
            view.bids, view.asks = bids, asks
            view.seq += 1
            out.append((("depth", instrument_id, depth),
                        DepthUpdate(info.symbol, view.seq, changes)))
        return out


def _changes(side: Side, before: list[BookLevel], after: list[BookLevel],
             info: InstrumentInfo) -> list[LevelChange]:
    name = SIDE_NAMES[side]
    return [LevelChange(name, text(level.price, info.price_decimals),
                        text(0 if action == DELETE else level.quantity,
                             info.quantity_decimals),
                        0 if action == DELETE else level.order_count)
            for action, level in level_diff(before, after)]
