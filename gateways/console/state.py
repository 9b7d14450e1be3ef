"""The console's picture of the venue, folded from the event stream (no I/O): instruments
and their status and last price, the L2 book of each instrument, the most recent trades,
each account's open orders and kill switch. ``ConsoleState.apply`` takes one applied
entry's outcomes; the ``*_view`` methods give JSON-ready dicts with exact decimal text.

>>> from venue.codecs import BookLevelChanged, InstrumentAdded, Side
>>> state = ConsoleState(Limits())
>>> state.apply(1, [Outcome(0, 0, [InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4, 1, 1, 1,
...                                                 10**8, 0, 0)])])
>>> state.apply(2, [Outcome(0, 0, [BookLevelChanged(1, Side.BUY, 6500000, 10000, 1)])])
>>> state.book_view(1)["bids"]
[['65000.00', '1.0000', 1]]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from venue.codecs import (
    BookLevelChanged,
    InstrumentAdded,
    InstrumentStatusChanged,
    KillSwitchSet,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderReplaced,
)
from venue.codecs.schema import Outcome
from venue.gateways.instruments import InstrumentInfo, Instruments
from venue.gateways.l2book import Book

from .config import Limits


@dataclass
class OpenOrder:
    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    side: str
    price: int
    quantity: int
    leaves_quantity: int


@dataclass(frozen=True)
class Fill:
    trade_id: int
    position: int
    instrument_id: int
    price: int
    quantity: int
    taker_side: str
    maker_account: int
    taker_account: int


def _text(value: bytes) -> str:
    return value.decode()


class ConsoleState:
    """Everything the page shows that comes from the log, as of ``position``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.position = 0
        self.instruments = Instruments()
        self.books: dict[int, Book] = {}
        self.last_price: dict[int, int] = {}
        self.trades: deque[Fill] = deque(maxlen=limits.trades_kept)
        self.orders: dict[int, dict[int, OpenOrder]] = {}  # account -> order id -> order
        self.open_orders = 0
        self.orders_truncated = False  # open_orders_max was reached: some are not shown
        self.kill_switch: dict[int, bool] = {}

    # -- folding ------------------------------------------------------------------------

    def apply(self, position: int, outcomes: list[Outcome]) -> None:
        """Fold one applied entry. O(events)."""
        for outcome in outcomes:
            for event in outcome.events:
                self._on_event(position, event)
        self.position = position

    def _on_event(self, position: int, event: object) -> None:
        match event:
            case InstrumentAdded() | InstrumentStatusChanged():
                self.instruments.on_event(event)
                if isinstance(event, InstrumentAdded):
                    self.books.setdefault(event.instrument_id, Book(trades_kept=1))
            case BookLevelChanged():
                book = self.books.setdefault(event.instrument_id, Book(trades_kept=1))
                book.side(event.side).set(event.price, event.quantity, event.order_count)
            case OrderFilled():
                self._on_fill(position, event)
            case OrderAccepted():
                self._add_order(OpenOrder(event.order_id, event.account, event.instrument_id,
                                          event.client_order_id, event.side.name,
                                          event.price, event.quantity, event.quantity))
            case OrderCancelled() | OrderExpired():
                self._remove_order(event.account, event.order_id)
            case OrderReplaced():
                order = self.orders.get(event.account, {}).get(event.order_id)
                if order is not None:
                    order.client_order_id = event.client_order_id
                    order.price, order.quantity = event.price, event.quantity
                    order.leaves_quantity = event.leaves_quantity
                    if order.leaves_quantity <= 0:
                        self._remove_order(event.account, event.order_id)
            case KillSwitchSet():
                self.kill_switch[event.account] = event.engaged

    def _on_fill(self, position: int, fill: OrderFilled) -> None:
        self.last_price[fill.instrument_id] = fill.price
        self.trades.append(Fill(fill.trade_id, position, fill.instrument_id, fill.price,
                                fill.quantity, fill.taker_side.name, fill.maker_account,
                                fill.taker_account))
        for account, order_id, leaves in (
                (fill.maker_account, fill.maker_order_id, fill.maker_leaves_quantity),
                (fill.taker_account, fill.taker_order_id, fill.taker_leaves_quantity)):
            order = self.orders.get(account, {}).get(order_id)
            if order is None:
                continue
            order.leaves_quantity = leaves
            if leaves <= 0:
                self._remove_order(account, order_id)

    def _add_order(self, order: OpenOrder) -> None:
        if self.open_orders >= self.limits.open_orders_max:
            self.orders_truncated = True
            return
        orders = self.orders.setdefault(order.account, {})
        if order.order_id not in orders:
            self.open_orders += 1
        orders[order.order_id] = order

    def _remove_order(self, account: int, order_id: int) -> None:
        orders = self.orders.get(account)
        if orders is not None and orders.pop(order_id, None) is not None:
            self.open_orders -= 1
            if not orders:
                del self.orders[account]

    # -- views (JSON-ready) ----------------------------------------------------------------

    def instruments_view(self) -> list[dict]:
        """Every instrument, by id, with its status and last traded price ("" if none)."""
        views = []
        for info in self.instruments.all():
            last = self.last_price.get(info.instrument_id)
            views.append({"instrument_id": info.instrument_id, "symbol": info.symbol,
                          "status": info.status.name,
                          "last_price": "" if last is None else _text(info.price_text(last))})
        return views

    def book_view(self, instrument_id: int) -> dict | None:
        """The best ``depth_levels`` levels of each side: [price, quantity, orders]."""
        info, book = self.instruments.by_id(instrument_id), self.books.get(instrument_id)
        if info is None or book is None:
            return None
        depth = self.limits.depth_levels

        def levels(side: object) -> list[list]:
            return [[_text(info.price_text(level.price)),
                     _text(info.quantity_text(level.quantity)), level.order_count]
                    for level in side.top(depth)]

        return {"instrument_id": instrument_id, "symbol": info.symbol,
                "status": info.status.name,
                "bids": levels(book.bids), "offers": levels(book.offers)}

    def trades_view(self) -> list[dict]:
        """The recent trades, newest first."""
        views = []
        for fill in reversed(self.trades):
            info = self.instruments.by_id(fill.instrument_id)
            views.append({"trade_id": fill.trade_id, "position": fill.position,
                          "symbol": info.symbol if info else str(fill.instrument_id),
                          "price": _units(info, fill.price, price=True),
                          "quantity": _units(info, fill.quantity, price=False),
                          "taker_side": fill.taker_side, "maker_account": fill.maker_account,
                          "taker_account": fill.taker_account})
        return views

    def orders_view(self, account: int) -> dict:
        """One account's open orders (oldest first, at most ``open_orders_shown_max``) and
        its kill switch."""
        orders = list(self.orders.get(account, {}).values())
        shown = []
        for order in orders[:self.limits.open_orders_shown_max]:
            info = self.instruments.by_id(order.instrument_id)
            shown.append({"order_id": order.order_id,
                          "symbol": info.symbol if info else str(order.instrument_id),
                          "client_order_id": order.client_order_id, "side": order.side,
                          "price": _units(info, order.price, price=True),
                          "quantity": _units(info, order.quantity, price=False),
                          "leaves_quantity": _units(info, order.leaves_quantity, price=False)})
        return {"account": account, "kill_switch": self.kill_switch.get(account, False),
                "open_orders": len(orders), "orders": shown,
                "truncated": self.orders_truncated}


def _units(info: InstrumentInfo | None, units: int, *, price: bool) -> str:
    if info is None:
        return str(units)
    return _text(info.price_text(units) if price else info.quantity_text(units))
