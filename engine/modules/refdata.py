"""Reference data: the instruments a venue lists, their trading rules and their status.

An instrument is listed by ``AddInstrument`` and is then OPEN. ``HaltInstrument`` moves an
open instrument to HALTED, ``ResumeInstrument`` a halted one back to OPEN, and
``CloseInstrument`` an open or halted one to CLOSED, which is final: a closed instrument keeps
its id and its symbol for ever (history and drop copy still name it), so neither is reused,
and it still counts towards ``instruments_max``. A command that breaks a rule is answered with
``CommandRejected`` and a ``RejectReason``; nothing else changes.

Other modules and the gateways read instruments through the query methods (``instrument``,
``by_symbol``, ``instruments``, ``check_order``, ``price_band``); none of them changes state.
The reference price changes only through ``SetReferencePrice``: the matching module owns the
last trade price and reports it in its own events, and no module may change another's state,
so this module offers no mutator for the last trade. The ``Instrument`` record, the listing
rules and the band arithmetic live in ``instrument.py`` and are re-exported here.

Example, through a real engine:

>>> import msgspec
>>> from venue.codecs import AddInstrument, ClientCommand, CommandBatch, EntryKind, LogEntry
>>> from venue.codecs import SessionOpen
>>> from venue.engine import Engine
>>> def entry(index, kind, payload):
...     return LogEntry(index, 1, index, kind, msgspec.msgpack.encode(payload))
>>> engine = Engine([ReferenceDataModule()])
>>> _ = engine.apply(entry(1, EntryKind.SESSION_OPEN, SessionOpen("operator")))
>>> add = AddInstrument(1, "BTC-USD", 2, 1, price_decimals=2, quantity_decimals=4,
...                     tick_size=50, price_band_bps=500, reference_price=6_500_000)
>>> command = ClientCommand(1, 1, msgspec.msgpack.encode(add))
>>> applied = engine.apply(entry(2, EntryKind.COMMAND_BATCH, CommandBatch([command])))
>>> applied.outcomes[0].events  # doctest: +ELLIPSIS
[InstrumentAdded(instrument_id=1, symbol='BTC-USD', ...)]
>>> refdata = engine.module("refdata")
>>> refdata.by_symbol("BTC-USD").status
<InstrumentStatus.OPEN: 1>
>>> refdata.price_band(1)
(6175000, 6825000)
>>> refdata.check_order(1, price=6_825_050, quantity=1, needs_price=True)
<RejectReason.PRICE_OUT_OF_BAND: 5>
"""

from __future__ import annotations

from bisect import insort

import msgspec

from venue.codecs import Command, InstrumentStatus, RejectReason
from venue.codecs.commands import (
    AddInstrument,
    CloseInstrument,
    HaltInstrument,
    ResumeInstrument,
    SetReferencePrice,
)
from venue.codecs.events import (
    CommandRejected,
    InstrumentAdded,
    InstrumentStatusChanged,
    ReferencePriceSet,
)

from ..context import ApplyContext
from ..errors import SnapshotError
from ..service import Module
from .instrument import (
    Instrument,
    band_limits,
    listing_problem,
    reference_price_problem,
    within_band,
)

INSTRUMENTS_MAX_DEFAULT = 10_000
SYMBOL_LENGTH_MAX_DEFAULT = 32  # characters, all printable ASCII
HALT_REASON_LENGTH_MAX = 256  # characters

OPEN = InstrumentStatus.OPEN
HALTED = InstrumentStatus.HALTED
CLOSED = InstrumentStatus.CLOSED

# target status -> the statuses it may be reached from; CLOSED is reached from both others
# and leads nowhere
_ALLOWED_FROM: dict[InstrumentStatus, tuple[InstrumentStatus, ...]] = {
    HALTED: (OPEN,),
    OPEN: (HALTED,),
    CLOSED: (OPEN, HALTED),
}
_VERB = {HALTED: "halt", OPEN: "resume", CLOSED: "close"}


class ReferenceDataModule(Module):
    """The built-in reference data module (``name = "refdata"``).

    ``instruments_max`` bounds the instruments ever listed, closed ones included (an add past
    it is rejected with LIMIT_REACHED); ``symbol_length_max`` bounds a symbol's length. Both
    change what commands do, so every node and every replay must use the same values.
    """

    name = "refdata"
    handles = (AddInstrument, HaltInstrument, ResumeInstrument, CloseInstrument,
               SetReferencePrice)
    snapshot_version = 1

    def __init__(self, instruments_max: int = INSTRUMENTS_MAX_DEFAULT,
                 symbol_length_max: int = SYMBOL_LENGTH_MAX_DEFAULT) -> None:
        for what, value in (("instruments_max", instruments_max),
                            ("symbol_length_max", symbol_length_max)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{what} must be an integer of at least 1, got {value!r}")
        self.instruments_max = instruments_max
        self.symbol_length_max = symbol_length_max
        self._instruments: dict[int, Instrument] = {}
        self._ids: list[int] = []  # sorted, for id order without sorting on every query
        self._ids_by_symbol: dict[str, int] = {}

    # -- queries (any module or gateway may call these; none changes state) --------------

    def instrument(self, instrument_id: int) -> Instrument | None:
        """The instrument with ``instrument_id``, or None if it was never listed. O(1)."""
        return self._instruments.get(instrument_id)

    def by_symbol(self, symbol: str) -> Instrument | None:
        """The instrument listed as ``symbol`` (exact, case-sensitive), or None. O(1)."""
        instrument_id = self._ids_by_symbol.get(symbol)
        return None if instrument_id is None else self._instruments[instrument_id]

    def instruments(self) -> list[Instrument]:
        """Every instrument ever listed, closed ones included, in id order. O(n)."""
        instruments = self._instruments
        return [instruments[instrument_id] for instrument_id in self._ids]

    def check_order(self, instrument_id: int, price: int, quantity: int, needs_price: bool,
                    reference_price: int | None = None) -> RejectReason | None:
        """Why an order for ``quantity`` at ``price`` may not enter, or None if it may. O(1).

        Checks in this order, returning the first reason that applies: the instrument exists
        (UNKNOWN_INSTRUMENT); it is open (INSTRUMENT_CLOSED, INSTRUMENT_HALTED); when
        ``needs_price``, the price is positive (INVALID_FIELD) and a multiple of the tick
        size (PRICE_OFF_TICK); the quantity is positive and a multiple of the lot size
        (QUANTITY_OUT_OF_RANGE, QUANTITY_OFF_LOT) and within min and max
        (QUANTITY_OUT_OF_RANGE); when ``needs_price``, the price is within the band around
        the reference price (PRICE_OUT_OF_BAND, see ``within_band``; ``reference_price``
        replaces the set reference when given, as the last trade price does once an
        instrument has traded). ``price`` is ignored when ``needs_price`` is false (market
        orders).
        """
        instrument = self._instruments.get(instrument_id)
        if instrument is None:
            return RejectReason.UNKNOWN_INSTRUMENT
        if instrument.status != OPEN:
            if instrument.status == CLOSED:
                return RejectReason.INSTRUMENT_CLOSED
            return RejectReason.INSTRUMENT_HALTED
        if needs_price:
            if price <= 0:
                return RejectReason.INVALID_FIELD
            if price % instrument.tick_size:
                return RejectReason.PRICE_OFF_TICK
        if quantity <= 0:
            return RejectReason.QUANTITY_OUT_OF_RANGE
        if quantity % instrument.lot_size:
            return RejectReason.QUANTITY_OFF_LOT
        max_quantity = instrument.max_quantity
        if quantity < instrument.min_quantity or (max_quantity and quantity > max_quantity):
            return RejectReason.QUANTITY_OUT_OF_RANGE
        if needs_price and not within_band(instrument, price, reference_price):
            return RejectReason.PRICE_OUT_OF_BAND
        return None

    def price_band(self, instrument_id: int, reference_price: int | None = None
                   ) -> tuple[int, int] | None:
        """The lowest and highest on-tick prices inside the band (around ``reference_price``
        when given), or None when the instrument is unknown or has no band or no reference
        price. O(1).

        ``check_order`` accepts a positive on-tick price for the band exactly when it lies
        in this range; the matching module can use it to stop a market order sweeping
        beyond the band.
        """
        instrument = self._instruments.get(instrument_id)
        return None if instrument is None else band_limits(instrument, reference_price)

    # -- applying commands ---------------------------------------------------------------

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        match command:
            case AddInstrument():
                self._add(ctx, command)
            case HaltInstrument():
                self._change_status(ctx, command, HALTED, command.reason)
            case ResumeInstrument():
                self._change_status(ctx, command, OPEN, "")
            case CloseInstrument():
                self._change_status(ctx, command, CLOSED, "")
            case SetReferencePrice():
                self._set_reference_price(ctx, command)
            case _:
                raise TypeError(f"refdata does not handle {type(command).__qualname__}")

    def _add(self, ctx: ApplyContext, command: AddInstrument) -> None:
        """Checks, in order: the fields (INVALID_FIELD), that neither the id nor the symbol
        is listed (DUPLICATE_INSTRUMENT), then ``instruments_max`` (LIMIT_REACHED)."""
        problem = listing_problem(command, self.symbol_length_max)
        if problem is not None:
            return _reject(ctx, command, RejectReason.INVALID_FIELD, problem)
        instrument_id = command.instrument_id
        listed = self._instruments.get(instrument_id)
        if listed is not None:
            return _reject(ctx, command, RejectReason.DUPLICATE_INSTRUMENT,
                           f"instrument_id {instrument_id} is already listed as {listed.symbol}")
        other_id = self._ids_by_symbol.get(command.symbol)
        if other_id is not None:
            return _reject(ctx, command, RejectReason.DUPLICATE_INSTRUMENT,
                           f"symbol {command.symbol} is already listed as instrument {other_id}")
        if len(self._instruments) >= self.instruments_max:
            return _reject(ctx, command, RejectReason.LIMIT_REACHED,
                           f"instruments_max {self.instruments_max} reached")
        # AddInstrument, Instrument and InstrumentAdded share their first fields, in order
        fields = msgspec.structs.astuple(command)
        self._instruments[instrument_id] = Instrument(*fields, OPEN)
        insort(self._ids, instrument_id)
        self._ids_by_symbol[command.symbol] = instrument_id
        ctx.emit(InstrumentAdded(*fields))
        return None

    def _change_status(self, ctx: ApplyContext,
                       command: HaltInstrument | ResumeInstrument | CloseInstrument,
                       target: InstrumentStatus, reason: str) -> None:
        """Checks, in order: the instrument exists (UNKNOWN_INSTRUMENT), the move is allowed
        (INVALID_STATE_TRANSITION), the halt reason's length (INVALID_FIELD)."""
        instrument = self._listed(ctx, command)
        if instrument is None:
            return None
        if instrument.status not in _ALLOWED_FROM[target]:
            return _reject(ctx, command, RejectReason.INVALID_STATE_TRANSITION,
                           f"cannot {_VERB[target]} {instrument.symbol}: it is "
                           f"{instrument.status.name}")
        if len(reason) > HALT_REASON_LENGTH_MAX:
            return _reject(ctx, command, RejectReason.INVALID_FIELD,
                           f"reason is longer than {HALT_REASON_LENGTH_MAX} characters")
        self._store(msgspec.structs.replace(instrument, status=target))
        ctx.emit(InstrumentStatusChanged(instrument.instrument_id, target, reason))
        return None

    def _set_reference_price(self, ctx: ApplyContext, command: SetReferencePrice) -> None:
        """Allowed while open or halted (a venue sets a new reference before resuming).
        Checks, in order: the instrument exists (UNKNOWN_INSTRUMENT), it is not closed
        (INSTRUMENT_CLOSED), the price is on tick and not negative (INVALID_FIELD); 0
        removes the reference, and with it the band check."""
        instrument = self._listed(ctx, command)
        if instrument is None:
            return None
        if instrument.status == CLOSED:
            return _reject(ctx, command, RejectReason.INSTRUMENT_CLOSED,
                           f"{instrument.symbol} is CLOSED")
        problem = reference_price_problem(command.price, instrument.tick_size)
        if problem is not None:
            return _reject(ctx, command, RejectReason.INVALID_FIELD, problem)
        self._store(msgspec.structs.replace(instrument, reference_price=command.price))
        ctx.emit(ReferencePriceSet(instrument.instrument_id, command.price))
        return None

    def _listed(self, ctx: ApplyContext, command: HaltInstrument | ResumeInstrument
                | CloseInstrument | SetReferencePrice) -> Instrument | None:
        """The instrument the command names; None after rejecting it if there is none."""
        instrument = self._instruments.get(command.instrument_id)
        if instrument is None:
            _reject(ctx, command, RejectReason.UNKNOWN_INSTRUMENT,
                    f"no instrument {command.instrument_id}")
        return instrument

    def _store(self, instrument: Instrument) -> None:
        """Replace an existing record (its id and symbol never change)."""
        self._instruments[instrument.instrument_id] = instrument

    # -- snapshots -----------------------------------------------------------------------

    def take_snapshot(self) -> bytes:
        """Every instrument, in id order, as canonical msgpack. O(n)."""
        return _state_encoder.encode(self.instruments())

    def on_start(self, snapshot: bytes | None) -> None:
        """Restore from ``snapshot``; raises ``SnapshotError`` if it does not decode or
        breaks an invariant (say two instruments share a symbol)."""
        self._instruments = {}
        self._ids = []
        self._ids_by_symbol = {}
        if not snapshot:
            return
        try:
            rows = _state_decoder.decode(snapshot)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"refdata snapshot does not decode: {exc}") from None
        for instrument in rows:
            self._instruments[instrument.instrument_id] = instrument
            self._ids.append(instrument.instrument_id)
            self._ids_by_symbol[instrument.symbol] = instrument.instrument_id
        try:
            self._check()
        except AssertionError as exc:
            raise SnapshotError(f"refdata snapshot is inconsistent: {exc}") from None

    def summary(self) -> dict[str, int | str]:
        """The number of instruments, in all and per status. O(n)."""
        counts = {status: 0 for status in InstrumentStatus}
        for instrument in self._instruments.values():
            counts[instrument.status] += 1
        result: dict[str, int | str] = {"instruments": len(self._instruments)}
        for status, count in counts.items():
            result[status.name.lower()] = count
        return result

    def _check(self) -> None:
        """Raise AssertionError if an invariant is broken (tests call it after every step;
        ``on_start`` on every restore). Explicit raises, so ``python -O`` keeps them."""
        ids = self._ids
        if any(ids[i] >= ids[i + 1] for i in range(len(ids) - 1)):
            raise AssertionError(f"instrument ids not strictly increasing: {ids}")
        if ids != sorted(self._instruments):
            raise AssertionError("the id list and the instrument table disagree")
        symbols = {instrument.symbol: instrument.instrument_id
                   for instrument in self._instruments.values()}
        if symbols != self._ids_by_symbol or len(symbols) != len(ids):
            raise AssertionError("symbols are not unique or the symbol index is stale")
        for instrument_id, instrument in self._instruments.items():
            problem = listing_problem(instrument, self.symbol_length_max)
            if instrument.instrument_id != instrument_id or problem is not None:
                raise AssertionError(f"instrument {instrument_id} is invalid: {problem}")
            if not isinstance(instrument.status, InstrumentStatus):
                raise AssertionError(f"instrument {instrument_id} has no valid status")


def _reject(ctx: ApplyContext, command: Command, reason: RejectReason, text: str) -> None:
    ctx.emit(CommandRejected(command.__struct_config__.tag, reason,
                             instrument_id=command.instrument_id, text=text))


_state_encoder = msgspec.msgpack.Encoder(order="deterministic")
_state_decoder = msgspec.msgpack.Decoder(list[Instrument])
