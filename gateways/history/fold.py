"""The history read model's folding core, sans-I/O: stream entries in, table rows out.

``HistoryFolder.add(position, timestamp_ns, outcomes)`` folds one applied entry into the
current ``Batch``; ``take()`` hands the batch over (the backend writes it, with its
high-water mark, in one transaction) and starts the next. The folder keeps no state across
batches, so its memory is bounded by the batch: an order accepted in this batch is a full
row, updated in place by its later events; an order accepted before it (already in the
database, since the stream is read from the high-water mark on) becomes one coalesced
``OrderUpdate`` whose columns the backend applies with a single ``UPDATE``.

Only orders, fills and instrument events are kept: book levels and balances are other read
models' business; a rejected submit has no order id, so it makes no order row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from venue.codecs import (
    InstrumentAdded,
    InstrumentStatusChanged,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderReplaced,
    OrderTriggered,
    ReferencePriceSet,
)
from venue.codecs.schema import Outcome

OPEN, PARTIALLY_FILLED, FILLED = "open", "partially_filled", "filled"
CANCELLED, EXPIRED = "cancelled", "expired"


@dataclass
class OrderRow:
    """One order with its latest state (the ``orders`` table)."""

    order_id: int
    account: int
    instrument_id: int
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    quantity: int
    stop_price: int
    leaves_quantity: int
    filled_quantity: int
    status: str
    accepted_position: int
    accepted_ns: int
    updated_position: int
    updated_ns: int


@dataclass
class OrderUpdate:
    """Changes to an order stored by an earlier batch; ``None`` leaves a column as is."""

    order_id: int
    updated_position: int
    updated_ns: int
    filled_add: int = 0
    leaves_quantity: int | None = None
    status: str | None = None
    price: int | None = None
    quantity: int | None = None
    client_order_id: str | None = None


@dataclass
class FillRow:
    instrument_id: int
    trade_id: int
    price: int
    quantity: int
    taker_side: int
    maker_order_id: int
    maker_account: int
    taker_order_id: int
    taker_account: int
    position: int
    timestamp_ns: int


@dataclass
class InstrumentRow:
    """An instrument's reference data and latest status (``instruments``); an update of an
    instrument added earlier carries only the changed columns (``None``: unchanged)."""

    instrument_id: int
    symbol: str | None = None
    price_decimals: int | None = None
    quantity_decimals: int | None = None
    status: int | None = None
    reference_price: int | None = None
    updated_position: int = 0


@dataclass
class InstrumentEventRow:
    position: int
    sequence: int  # the event's place among the entry's events
    instrument_id: int
    kind: str  # "added", "status", "reference_price"
    status: int
    price: int
    text: str
    timestamp_ns: int


@dataclass
class Batch:
    """What one transaction writes; ``position`` / ``timestamp_ns`` are its last entry's."""

    position: int = 0
    timestamp_ns: int = 0
    entries: int = 0
    events: int = 0
    new_orders: dict[int, OrderRow] = field(default_factory=dict)
    order_updates: dict[int, OrderUpdate] = field(default_factory=dict)
    fills: list[FillRow] = field(default_factory=list)
    instruments: dict[int, InstrumentRow] = field(default_factory=dict)
    instrument_events: list[InstrumentEventRow] = field(default_factory=list)


class HistoryFolder:
    def __init__(self, next_position: int = 1) -> None:
        self.next_position = next_position
        self.batch = Batch()

    def add(self, position: int, timestamp_ns: int, outcomes: list[Outcome]) -> None:
        """Fold one entry; positions must follow each other (no gap, no repeat)."""
        if position != self.next_position:
            raise ValueError(f"entry {position} out of order: expected {self.next_position}")
        self.next_position += 1
        batch = self.batch
        batch.position, batch.timestamp_ns = position, timestamp_ns
        batch.entries += 1
        sequence = 0
        for outcome in outcomes:
            for event in outcome.events:
                handler = _HANDLERS.get(type(event))
                if handler is not None:
                    handler(batch, event, position, timestamp_ns, sequence)
                sequence += 1
        batch.events += sequence

    def take(self) -> Batch:
        """The batch so far (possibly empty of rows); the next one starts empty."""
        batch, self.batch = self.batch, Batch()
        return batch


# -- orders --------------------------------------------------------------------------------


def _accepted(batch: Batch, event: OrderAccepted, position: int, timestamp_ns: int,
              _sequence: int) -> None:
    batch.new_orders[event.order_id] = OrderRow(
        event.order_id, event.account, event.instrument_id, event.client_order_id,
        int(event.side), int(event.order_type), int(event.time_in_force), event.price,
        event.quantity, event.stop_price, event.quantity, 0, OPEN, position, timestamp_ns,
        position, timestamp_ns)


def _change(batch: Batch, order_id: int, position: int, timestamp_ns: int,
            **columns: Any) -> None:
    """Apply column changes to the order, wherever it lives (this batch or the database)."""
    filled_add = columns.pop("filled_add", 0)
    row = batch.new_orders.get(order_id)
    if row is not None:
        row.filled_quantity += filled_add
        for name, value in columns.items():
            setattr(row, name, value)
        row.updated_position, row.updated_ns = position, timestamp_ns
        return
    update = batch.order_updates.get(order_id)
    if update is None:
        update = batch.order_updates[order_id] = OrderUpdate(order_id, position, timestamp_ns)
    update.filled_add += filled_add
    for name, value in columns.items():
        setattr(update, name, value)
    update.updated_position, update.updated_ns = position, timestamp_ns


def _filled(batch: Batch, event: OrderFilled, position: int, timestamp_ns: int,
            _sequence: int) -> None:
    batch.fills.append(FillRow(
        event.instrument_id, event.trade_id, event.price, event.quantity,
        int(event.taker_side), event.maker_order_id, event.maker_account,
        event.taker_order_id, event.taker_account, position, timestamp_ns))
    for order_id, leaves in ((event.maker_order_id, event.maker_leaves_quantity),
                             (event.taker_order_id, event.taker_leaves_quantity)):
        _change(batch, order_id, position, timestamp_ns, filled_add=event.quantity,
                leaves_quantity=leaves, status=FILLED if leaves == 0 else PARTIALLY_FILLED)


def _cancelled(batch: Batch, event: OrderCancelled, position: int, timestamp_ns: int,
               _sequence: int) -> None:
    _change(batch, event.order_id, position, timestamp_ns, leaves_quantity=0,
            status=CANCELLED)


def _expired(batch: Batch, event: OrderExpired, position: int, timestamp_ns: int,
             _sequence: int) -> None:
    _change(batch, event.order_id, position, timestamp_ns, leaves_quantity=0, status=EXPIRED)


def _replaced(batch: Batch, event: OrderReplaced, position: int, timestamp_ns: int,
              _sequence: int) -> None:
    _change(batch, event.order_id, position, timestamp_ns, price=event.price,
            quantity=event.quantity, leaves_quantity=event.leaves_quantity,
            client_order_id=event.client_order_id)


def _triggered(batch: Batch, event: OrderTriggered, position: int, timestamp_ns: int,
               _sequence: int) -> None:
    _change(batch, event.order_id, position, timestamp_ns)


# -- instruments ---------------------------------------------------------------------------


def _instrument(batch: Batch, instrument_id: int, position: int) -> InstrumentRow:
    row = batch.instruments.get(instrument_id)
    if row is None:
        row = batch.instruments[instrument_id] = InstrumentRow(instrument_id)
    row.updated_position = position
    return row


def _instrument_added(batch: Batch, event: InstrumentAdded, position: int,
                      timestamp_ns: int, sequence: int) -> None:
    row = _instrument(batch, event.instrument_id, position)
    row.symbol, row.status = event.symbol, 1  # InstrumentStatus.OPEN
    row.price_decimals, row.quantity_decimals = event.price_decimals, event.quantity_decimals
    row.reference_price = event.reference_price
    batch.instrument_events.append(InstrumentEventRow(
        position, sequence, event.instrument_id, "added", 1, event.reference_price,
        event.symbol, timestamp_ns))


def _status_changed(batch: Batch, event: InstrumentStatusChanged, position: int,
                    timestamp_ns: int, sequence: int) -> None:
    _instrument(batch, event.instrument_id, position).status = int(event.status)
    batch.instrument_events.append(InstrumentEventRow(
        position, sequence, event.instrument_id, "status", int(event.status), 0,
        event.reason, timestamp_ns))


def _reference_price(batch: Batch, event: ReferencePriceSet, position: int,
                     timestamp_ns: int, sequence: int) -> None:
    _instrument(batch, event.instrument_id, position).reference_price = event.price
    batch.instrument_events.append(InstrumentEventRow(
        position, sequence, event.instrument_id, "reference_price", 0, event.price, "",
        timestamp_ns))


_HANDLERS: dict[type, Any] = {
    OrderAccepted: _accepted,
    OrderFilled: _filled,
    OrderCancelled: _cancelled,
    OrderExpired: _expired,
    OrderReplaced: _replaced,
    OrderTriggered: _triggered,
    InstrumentAdded: _instrument_added,
    InstrumentStatusChanged: _status_changed,
    ReferencePriceSet: _reference_price,
}
