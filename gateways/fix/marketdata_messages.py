"""The bodies of the FIX 4.4 market data and security list messages ``MarketDataHub``
sends: MarketDataSnapshotFullRefresh(W), MarketDataIncrementalRefresh(X),
MarketDataRequestReject(Y) and SecurityList(y).

A body is a list of ``(tag, value)`` without the standard header and trailer. Inside a
repeating group every entry starts with the group's delimiter and keeps the field order of
``spec/FIX44.xml`` (MDFullGrp: 269 270 271 346; MDIncGrp: 279 269 278 55 270 271 346;
SecListGrp: 55 48 22 561 562 58). Prices and sizes are exact decimal text
(``InstrumentInfo.price_text`` / ``quantity_text``), never floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from venue.gateways.instruments import InstrumentInfo
from venue.gateways.l2book import DELETE, Level, Trade

Field = tuple[int, bytes]

#: MDEntryType(269)
BID, OFFER, TRADE = b"0", b"1", b"2"

#: MDReqRejReason(281)
UNKNOWN_SYMBOL = b"0"
DUPLICATE_MD_REQ_ID = b"1"
UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE = b"4"
UNSUPPORTED_MARKET_DEPTH = b"5"
UNSUPPORTED_MD_UPDATE_TYPE = b"6"
UNSUPPORTED_AGGREGATED_BOOK = b"7"
UNSUPPORTED_MD_ENTRY_TYPE = b"8"

#: SecurityRequestResult(560)
VALID_REQUEST, UNSUPPORTED_REQUEST, NO_INSTRUMENTS_FOUND = b"0", b"1", b"2"
#: SecurityIDSource(22) 8: "Exchange Symbol", here the venue's instrument id
SECURITY_ID_SOURCE_EXCHANGE = b"8"


def _int(value: int) -> bytes:
    return b"%d" % value


def full_level(info: InstrumentInfo, entry_type: bytes, level: Level) -> list[Field]:
    """One NoMDEntries entry of a W for a book level."""
    return [(269, entry_type), (270, info.price_text(level.price)),
            (271, info.quantity_text(level.quantity)), (346, _int(level.order_count))]


def full_trade(info: InstrumentInfo, trade: Trade) -> list[Field]:
    """One NoMDEntries entry of a W for a recent trade (MDFullGrp has no MDEntryID)."""
    return [(269, TRADE), (270, info.price_text(trade.price)),
            (271, info.quantity_text(trade.quantity))]


def snapshot(md_req_id: bytes, info: InstrumentInfo, entries: Sequence[list[Field]]
             ) -> list[Field]:
    """A MarketDataSnapshotFullRefresh(W) body for one symbol (``entries``: NoMDEntries)."""
    body: list[Field] = [(262, md_req_id), (55, info.symbol.encode()), (268, _int(len(entries)))]
    for entry in entries:
        body.extend(entry)
    return body


def incremental_level(info: InstrumentInfo, entry_type: bytes, action: bytes,
                      level: Level) -> list[Field]:
    """One NoMDEntries entry of an X for a level: a delete names only type and price."""
    entry: list[Field] = [(279, action), (269, entry_type), (55, info.symbol.encode()),
                          (270, info.price_text(level.price))]
    if action != DELETE:
        entry += [(271, info.quantity_text(level.quantity)), (346, _int(level.order_count))]
    return entry


def incremental_trade(info: InstrumentInfo, trade: Trade) -> list[Field]:
    """One NoMDEntries entry of an X for a new trade; MDEntryID(278) is the trade id."""
    return [(279, b"0"), (269, TRADE), (278, _int(trade.trade_id)),
            (55, info.symbol.encode()), (270, info.price_text(trade.price)),
            (271, info.quantity_text(trade.quantity))]


def incremental(md_req_id: bytes, entries: Sequence[list[Field]]) -> list[Field]:
    """A MarketDataIncrementalRefresh(X) body."""
    body: list[Field] = [(262, md_req_id), (268, _int(len(entries)))]
    for entry in entries:
        body.extend(entry)
    return body


def request_reject(md_req_id: bytes, reason: bytes | None, text: str) -> list[Field]:
    """A MarketDataRequestReject(Y) body; ``reason`` None leaves MDReqRejReason out (FIX
    4.4 has no code for a limit reached or an unknown MDReqID to disable)."""
    body: list[Field] = [(262, md_req_id)]
    if reason is not None:
        body.append((281, reason))
    body.append((58, text.encode()))
    return body


def security_entry(info: InstrumentInfo) -> list[Field]:
    """One SecListGrp entry. FIX 4.4's Instrument component has no MinPriceIncrement, so
    the tick size, the largest order and the trading status go in Text(58), as
    ``tick_size=0.05 max_quantity=1000 status=OPEN``."""
    text = (b"tick_size=" + info.price_text(info.tick_size)
            + b" max_quantity=" + info.quantity_text(info.max_quantity)
            + b" status=" + info.status.name.encode())
    return [(55, info.symbol.encode()), (48, _int(info.instrument_id)),
            (22, SECURITY_ID_SOURCE_EXCHANGE), (561, info.quantity_text(info.lot_size)),
            (562, info.quantity_text(info.min_quantity)), (58, text)]


def security_list(request_id: bytes, response_id: bytes, result: bytes,
                  infos: Iterable[InstrumentInfo]) -> list[Field]:
    """A SecurityList(y) body: one fragment, TotNoRelatedSym and LastFragment=Y."""
    entries = [security_entry(info) for info in infos]
    body: list[Field] = [(320, request_id), (322, response_id), (560, result)]
    if result != VALID_REQUEST:
        return body
    body += [(393, _int(len(entries))), (893, b"Y"), (146, _int(len(entries)))]
    for entry in entries:
        body.extend(entry)
    return body
