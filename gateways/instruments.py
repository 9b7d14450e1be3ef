"""Every gateway's view of reference data (FIX, WebSocket, console), built from the event
stream (``InstrumentAdded``, ``InstrumentStatusChanged``), and exact conversion between
decimal strings and the
engine's integer units (no float anywhere: ``"65100.50"`` with 2 price decimals is 6510050;
``"65100.505"`` is not representable and is refused, never rounded)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from venue.codecs import InstrumentAdded, InstrumentStatus, InstrumentStatusChanged

_DIGITS = frozenset(b"0123456789")


@dataclass(frozen=True)
class InstrumentInfo:
    instrument_id: int
    symbol: str
    price_decimals: int
    quantity_decimals: int
    tick_size: int
    lot_size: int
    min_quantity: int
    max_quantity: int
    status: InstrumentStatus = InstrumentStatus.OPEN

    def price(self, text: bytes | None) -> int | None:
        return None if text is None else to_units(text, self.price_decimals)

    def quantity(self, text: bytes | None) -> int | None:
        return None if text is None else to_units(text, self.quantity_decimals)

    def price_text(self, units: int) -> bytes:
        return from_units(units, self.price_decimals)

    def quantity_text(self, units: int) -> bytes:
        return from_units(units, self.quantity_decimals)


class Instruments:
    def __init__(self) -> None:
        self._by_id: dict[int, InstrumentInfo] = {}
        self._by_symbol: dict[str, InstrumentInfo] = {}

    def on_event(self, event: object) -> None:
        if isinstance(event, InstrumentAdded):
            info = InstrumentInfo(event.instrument_id, event.symbol, event.price_decimals,
                                  event.quantity_decimals, event.tick_size, event.lot_size,
                                  event.min_quantity, event.max_quantity)
            self._put(info)
        elif isinstance(event, InstrumentStatusChanged):
            current = self._by_id.get(event.instrument_id)
            if current is not None:
                self._put(replace(current, status=event.status))

    def _put(self, info: InstrumentInfo) -> None:
        self._by_id[info.instrument_id] = info
        self._by_symbol[info.symbol] = info

    def by_id(self, instrument_id: int) -> InstrumentInfo | None:
        return self._by_id.get(instrument_id)

    def by_symbol(self, symbol: bytes | str | None) -> InstrumentInfo | None:
        if symbol is None:
            return None
        if isinstance(symbol, bytes):
            symbol = symbol.decode(errors="replace")
        return self._by_symbol.get(symbol)

    def all(self) -> list[InstrumentInfo]:
        return sorted(self._by_id.values(), key=lambda info: info.instrument_id)


def to_units(text: bytes, decimals: int) -> int | None:
    """The integer number of ``10**-decimals`` units that the decimal ``text`` is exactly;
    None if it is malformed or has more significant decimals than the units allow."""
    negative = text[:1] == b"-"
    if negative:
        text = text[1:]
    whole, _, fraction = text.partition(b".")
    if not whole and not fraction:
        return None
    if not set(whole) <= _DIGITS or not set(fraction) <= _DIGITS:
        return None
    fraction = fraction.rstrip(b"0")
    if len(fraction) > decimals:
        return None
    units = int(whole or b"0") * 10 ** decimals + int((fraction or b"0").ljust(decimals, b"0")
                                                     or b"0")
    return -units if negative else units


def from_units(units: int, decimals: int) -> bytes:
    """``units`` as a decimal string with exactly ``decimals`` places (``6510050``, 2 →
    ``b"65100.50"``)."""
    sign = b"-" if units < 0 else b""
    units = abs(units)
    if decimals == 0:
        return sign + b"%d" % units
    whole, fraction = divmod(units, 10 ** decimals)
    return sign + b"%d.%0*d" % (whole, decimals, fraction)
