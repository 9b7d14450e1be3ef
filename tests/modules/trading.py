"""Shared setup for the matching and risk tests: the modules, the instruments, the checks.

Assets are chosen so that one price unit times one quantity unit is one unit of the quote
asset, and one quantity unit one unit of the base asset: a buy of 3 at 10,000 holds 30,000
USD units, a sell of 3 holds 3 BTC units. Scenario files read without conversions.
"""

from __future__ import annotations

from venue.codecs import AddInstrument
from venue.engine import Module
from venue.engine.modules.matching import MatchingModule
from venue.engine.modules.refdata import ReferenceDataModule
from venue.engine.modules.risk import RiskModule

USD, BTC, ETH = 1, 2, 3
#: price_decimals + quantity_decimals of every test instrument equals USD's decimals, and
#: quantity_decimals equals the base asset's, so both risk scale factors are 1
ASSET_DECIMALS = {USD: 2, BTC: 0, ETH: 0}
HOUR_NS = 3_600 * 10**9
#: DAY orders expire at 01:00 UTC; the matching scenarios start at 1970-01-01 00:00 UTC
TRADING_DAY_END_NS = HOUR_NS


def btc_usd(instrument_id: int = 1, **fields: int) -> AddInstrument:
    """Tick 5, lot 1, quantity 1 to 1,000, a 10% band around 10,000."""
    values = {"tick_size": 5, "lot_size": 1, "min_quantity": 1, "max_quantity": 1_000,
              "price_band_bps": 1_000, "reference_price": 10_000, **fields}
    return AddInstrument(instrument_id, f"BTC-USD-{instrument_id}", BTC, USD,
                         price_decimals=2, quantity_decimals=0, **values)


def eth_usd(instrument_id: int = 2) -> AddInstrument:
    """No band, tick 1, lot 1."""
    return AddInstrument(instrument_id, "ETH-USD", ETH, USD, price_decimals=2,
                         quantity_decimals=0)


def make_modules(with_risk: bool = True, **matching_options: int) -> list[Module]:
    """refdata, risk (unless ``with_risk`` is false), matching: the order that matters,
    since matching asks every earlier module with ``check_new_order``."""
    options = {"trading_day_end_ns": TRADING_DAY_END_NS, **matching_options}
    risk: list[Module] = [RiskModule(asset_decimals=ASSET_DECIMALS)] if with_risk else []
    return [ReferenceDataModule(), *risk, MatchingModule(**options)]


def check_trading(modules: dict[str, Module]) -> None:
    """What must hold after every command: every book's invariants; every open order the
    matching module holds is resting in its book with the same price and leaves, or is a
    waiting stop, and the books hold nothing else; and with risk, one hold per open order,
    at the order's price and leaves, and the ledger's own invariants."""
    matching = modules["matching"]
    assert isinstance(matching, MatchingModule)
    resting = 0
    for order in matching.table.orders.values():
        book = matching.book(order.instrument_id)
        assert book is not None, f"order {order.order_id} has no book"
        in_book = book.order(order.order_id)
        if order.stop_sequence:
            assert in_book is None, f"waiting stop {order.order_id} is in the book"
            continue
        assert in_book is not None, f"open order {order.order_id} is neither resting nor waiting"
        assert (in_book.price, in_book.leaves_quantity) == (order.price, order.leaves_quantity), (
            f"order {order.order_id}: book has {in_book}, matching {order}")
        resting += 1
    books = [matching.book(instrument_id) for instrument_id in sorted(matching._books)]
    for book in books:
        book._check()
    assert resting == sum(len(book) for book in books), "the books hold unknown orders"
    waiting = sum(len(stops) for stops in matching._stops.values())
    assert waiting == sum(1 for order in matching.table.orders.values() if order.stop_sequence)
    risk = modules.get("risk")
    if risk is None:
        return
    assert isinstance(risk, RiskModule)
    risk._check()
    holds = risk.ledger.holds
    assert sorted(holds) == sorted(matching.table.orders), "holds and open orders differ"
    for order_id, hold in holds.items():
        order = matching.table.orders[order_id]
        assert (hold.price, hold.leaves_quantity) == (order.price, order.leaves_quantity), (
            f"order {order_id}: hold {hold}, order {order}")
