"""The instrument record and the rules it keeps: listing fields, reference price, price band.

Pure functions over immutable records, shared by the reference data module (which applies
them to commands and re-checks them on every restored snapshot) and by whoever needs the
band arithmetic. Integers only: prices in ticks of the quote asset, quantities in lots.
"""

from __future__ import annotations

import msgspec

from venue.codecs import InstrumentStatus
from venue.codecs.commands import AddInstrument

DECIMALS_MAX = 18
BASIS_POINTS_PER_UNIT = 10_000

class Instrument(msgspec.Struct, frozen=True, array_like=True):
    """One listed instrument: the ``AddInstrument`` fields, in the same order, then status.

    Immutable: the module replaces a record when the status or reference price changes, so
    a record a caller holds never changes under it. ``reference_price`` 0 means none (no band
    check); ``max_quantity`` 0 means no maximum; ``price_band_bps`` 0 means no band. This is
    also the snapshot format: change it only with a new ``snapshot_version``.
    """

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
    status: InstrumentStatus


def symbol_problem(symbol: str, symbol_length_max: int) -> str | None:
    """Why ``symbol`` cannot be listed, or None. Symbols are 1 to ``symbol_length_max``
    printable ASCII characters without spaces, so that they travel unchanged through FIX
    tag=value messages, JSON and log lines. O(len(symbol))."""
    if (0 < len(symbol) <= symbol_length_max and symbol.isascii() and symbol.isprintable()
            and " " not in symbol):
        return None
    return (f"symbol must be 1 to {symbol_length_max} printable ASCII characters without "
            f"spaces, got {symbol!r}")


def listing_problem(fields: AddInstrument | Instrument, symbol_length_max: int) -> str | None:
    """The first listing rule ``fields`` break, as a sentence; None if they keep them all.

    Checked in field order; the later checks rely on the earlier ones (no modulo by zero).
    """
    if fields.instrument_id < 1:
        return f"instrument_id must be at least 1, got {fields.instrument_id}"
    problem = symbol_problem(fields.symbol, symbol_length_max)
    if problem is not None:
        return problem
    if fields.base_asset < 1 or fields.quote_asset < 1:
        return (f"base_asset and quote_asset must be at least 1, got {fields.base_asset} "
                f"and {fields.quote_asset}")
    if fields.base_asset == fields.quote_asset:
        return f"base_asset and quote_asset must differ, both are {fields.base_asset}"
    for name, decimals in (("price_decimals", fields.price_decimals),
                           ("quantity_decimals", fields.quantity_decimals)):
        if not 0 <= decimals <= DECIMALS_MAX:
            return f"{name} must be 0 to {DECIMALS_MAX}, got {decimals}"
    for name, size in (("tick_size", fields.tick_size), ("lot_size", fields.lot_size),
                       ("min_quantity", fields.min_quantity)):
        if size < 1:
            return f"{name} must be at least 1, got {size}"
    lot_size, min_quantity, max_quantity = fields.lot_size, fields.min_quantity, fields.max_quantity
    if min_quantity % lot_size:
        return f"min_quantity {min_quantity} is not a multiple of lot_size {lot_size}"
    if max_quantity < 0:
        return f"max_quantity must not be negative (0: no maximum), got {max_quantity}"
    if max_quantity and max_quantity < min_quantity:
        return f"max_quantity {max_quantity} is below min_quantity {min_quantity}"
    if max_quantity % lot_size:
        return f"max_quantity {max_quantity} is not a multiple of lot_size {lot_size}"
    if fields.price_band_bps < 0:
        return f"price_band_bps must not be negative, got {fields.price_band_bps}"
    return reference_price_problem(fields.reference_price, fields.tick_size)


def reference_price_problem(price: int, tick_size: int) -> str | None:
    """Why ``price`` cannot be a reference price, or None (0 means no reference). O(1)."""
    if price < 0:
        return f"reference price must not be negative, got {price}"
    if price % tick_size:
        return f"reference price {price} is not a multiple of tick_size {tick_size}"
    return None


def within_band(instrument: Instrument, price: int, reference: int | None = None) -> bool:
    """True if ``price`` is inside the instrument's band, or it has no band or reference.

    The band is around ``reference`` when given (the matching module passes the last trade
    price), else around the instrument's set reference price. In integers only:
    ``|price - reference| * 10_000 <= reference * price_band_bps``, so a price exactly at
    the edge is inside. O(1).
    """
    if reference is None:
        reference = instrument.reference_price
    band_bps = instrument.price_band_bps
    if reference == 0 or band_bps == 0:
        return True
    return abs(price - reference) * BASIS_POINTS_PER_UNIT <= reference * band_bps


def band_limits(instrument: Instrument, reference: int | None = None
                ) -> tuple[int, int] | None:
    """The lowest and highest on-tick prices inside the band (around ``reference`` when
    given, else the set reference price); None without a band or a reference price. O(1).

    A positive on-tick price is ``within_band`` exactly when it lies in this range: the
    distance to the reference (itself on tick) is a whole number of ticks, so the largest
    allowed distance is the band's width in price units, rounded down to a whole tick.
    The low end never goes below one tick (prices are positive).
    """
    if reference is None:
        reference = instrument.reference_price
    if reference == 0 or instrument.price_band_bps == 0:
        return None
    tick_size = instrument.tick_size
    distance_max = reference * instrument.price_band_bps // BASIS_POINTS_PER_UNIT
    distance = distance_max // tick_size * tick_size
    return max(reference - distance, tick_size), reference + distance
