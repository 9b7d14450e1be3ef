"""FIX 4.4 market data and the security list, sans-I/O: ``MarketDataHub``.

The gateway hands the hub every applied log entry's events in log order (``on_events``),
and the MarketDataRequest(V) and SecurityListRequest(x) its sessions receive (``request``,
``security_list``); the hub answers with message bodies (``(msg_type, [(tag, value)])``,
header and trailer left to the session) and never does I/O or reads a clock.

What it keeps, from the events alone:

- per instrument an L2 book (``BookLevelChanged``; quantity 0 removes the level) and the
  last ``trades_kept`` trades (``OrderFilled``); a halted or closed instrument keeps its
  book, and no SecurityStatus is sent;
- the ``Instruments`` table it was given: it applies ``InstrumentAdded`` and
  ``InstrumentStatusChanged`` itself (both idempotent, so a gateway that also feeds the table
  is fine);
- the live subscriptions, by ``(subscriber_key, MDReqID)``.

What it supports of a V: SubscriptionRequestType(263) 0 snapshot, 1 snapshot + updates,
2 disable (by MDReqID; nothing is sent back unless the MDReqID is unknown);
MarketDepth(264) 0 (the whole published book: ``depth_max`` levels a side), 1 (top of book)
or N up to ``depth_max``; MDUpdateType(265) 1 incremental, or absent (taken as 1);
MDUpdateType 0 (full refresh for every update) is rejected with 281=6, since an
incremental feed carries the same information in far fewer bytes; AggregatedBook(266)
Y or absent (266=N, an order-by-order book, is rejected with 281=7); MDEntryType(269) 0 bid,
1 offer, 2 trade. Every symbol of NoRelatedSym(146) must be known, else the whole request is
rejected (281=0). A
duplicate MDReqID (281=1) is one a live subscription of the same subscriber already has.

The answer to a V is one MarketDataSnapshotFullRefresh(W) per symbol (bids best first,
offers best first, then the recent trades oldest first if trades were asked for) or one
MarketDataRequestReject(Y). After each entry, every subscription whose view changed gets one
MarketDataIncrementalRefresh(X) for all of that entry's changes of all its symbols: per
symbol the new trades (279=0, 269=2, MDEntryID the trade id), then bids, then offers, each
side's deletes first and then new and changed levels best first. A depth-limited
subscription sees its own top N: a better level entering pushes the Nth out (a delete), a
level leaving lets the next one in (a new).

Limits: ``subscriptions_max`` live subscriptions in the hub, ``subscriber_subscriptions_max``
per subscriber and ``SYMBOLS_PER_REQUEST_MAX`` symbols per request; past any of them the
request is rejected (a Y with Text, no 281: FIX 4.4 has no code for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from venue.codecs import BookLevelChanged, InstrumentAdded, InstrumentStatusChanged, OrderFilled
from venue.codecs.enums import Side
from venue.gateways.instruments import InstrumentInfo, Instruments
from venue.gateways.l2book import Book, Level, Trade, diff

from . import marketdata_messages as messages
from .dictionary import DataDictionary
from .marketdata_messages import BID, OFFER, TRADE, Field

SYMBOLS_PER_REQUEST_MAX = 100
SUBSCRIBER_SUBSCRIPTIONS_MAX_DEFAULT = 100
#: MDReqID used in a reject of a V that has none (the session's validator should have
#: rejected such a V first: MDReqID is required)
MISSING_MD_REQ_ID = b"?"
_SIDES = ((Side.BUY, BID), (Side.SELL, OFFER))

Outgoing = tuple[bytes, list[Field]]


class Message(Protocol):
    """What the hub reads of a parsed message (``venue.codecs.tagvalue.FixMessage``)."""

    def get(self, tag: int, default: bytes | None = None) -> bytes | None: ...

    def fields(self) -> list[Field]: ...


@dataclass(frozen=True)
class Subscription:
    """One live snapshot + updates request."""

    subscriber_key: object
    md_req_id: bytes
    instrument_ids: tuple[int, ...]
    depth: int  # levels a side, 1..depth_max
    entry_types: frozenset[bytes]  # of BID, OFFER, TRADE


class _Rejected(Exception):
    """A V that gets a MarketDataRequestReject(Y); internal to ``request``."""

    def __init__(self, reason: bytes | None, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


class MarketDataHub:
    """Books, recent trades and subscriptions; V and x in, W X Y y bodies out."""

    def __init__(self, instruments: Instruments, depth_max: int = 50,
                 subscriptions_max: int = 1000, trades_kept: int = 100,
                 subscriber_subscriptions_max: int = SUBSCRIBER_SUBSCRIPTIONS_MAX_DEFAULT
                 ) -> None:
        if min(depth_max, subscriptions_max, trades_kept, subscriber_subscriptions_max) < 1:
            raise ValueError("every limit must be at least 1")
        self.instruments = instruments
        self.depth_max = depth_max
        self.subscriptions_max = subscriptions_max
        self.subscriber_subscriptions_max = subscriber_subscriptions_max
        self.trades_kept = trades_kept
        self.position = 0  # the last log position applied
        self._books: dict[int, Book] = {}
        self._subscriptions: dict[tuple[object, bytes], Subscription] = {}
        self._by_instrument: dict[int, dict[tuple[object, bytes], Subscription]] = {}
        self._per_subscriber: dict[object, int] = {}
        self._security_lists_sent = 0
        self._dictionary = DataDictionary.for_version("FIX.4.4")

    # --- the event stream --------------------------------------------------------------

    def on_events(self, position: int, events: Sequence[object]
                  ) -> list[tuple[object, bytes, list[Field]]]:
        """Apply one log entry's events; one X per subscription whose view changed, as
        ``(subscriber_key, b"X", body)``. An entry at or before the last position applied
        is a replay and is ignored. O(events + touched sides x depth_max + subscriptions
        of the touched instruments x their depth)."""
        if position <= self.position:
            return []
        self.position = position
        before: dict[tuple[int, Side], list[Level]] = {}
        trades: dict[int, list[Trade]] = {}
        for event in events:
            if isinstance(event, BookLevelChanged):
                side = self._book(event.instrument_id).side(event.side)
                if (event.instrument_id, event.side) not in before:  # the view before
                    before[(event.instrument_id, event.side)] = side.top(self.depth_max)
                side.set(event.price, event.quantity, event.order_count)
            elif isinstance(event, OrderFilled):
                trade = Trade(event.trade_id, event.price, event.quantity)
                self._book(event.instrument_id).trades.append(trade)
                trades.setdefault(event.instrument_id, []).append(trade)
            elif isinstance(event, InstrumentAdded | InstrumentStatusChanged):
                self.instruments.on_event(event)
        touched = dict.fromkeys([*trades, *(instrument_id for instrument_id, _ in before)])
        return self._publish(list(touched), before, trades)

    def _book(self, instrument_id: int) -> Book:
        book = self._books.get(instrument_id)
        if book is None:
            book = self._books[instrument_id] = Book(self.trades_kept)
        return book

    def _publish(self, instrument_ids: list[int], before: dict[tuple[int, Side], list[Level]],
                 trades: dict[int, list[Trade]]) -> list[tuple[object, bytes, list[Field]]]:
        """The X of every subscription to ``instrument_ids`` that has something to see."""
        entries_of: dict[tuple[object, bytes], list[list[Field]]] = {}
        cache: dict[tuple[int, bytes, int], list[list[Field]]] = {}  # same view, same entries
        for instrument_id in instrument_ids:
            info = self.instruments.by_id(instrument_id)
            subscriptions = self._by_instrument.get(instrument_id)
            if info is None or not subscriptions:
                continue
            for key, subscription in subscriptions.items():
                entries = entries_of.setdefault(key, [])
                if TRADE in subscription.entry_types:
                    entries += [messages.incremental_trade(info, trade)
                                for trade in trades.get(instrument_id, ())]
                for side, entry_type in _SIDES:
                    if entry_type not in subscription.entry_types:
                        continue
                    memo = (instrument_id, entry_type, subscription.depth)
                    if memo not in cache:
                        cache[memo] = self._level_entries(info, side, entry_type,
                                                          subscription.depth, before)
                    entries += cache[memo]
        return [(key[0], b"X", messages.incremental(key[1], entries))
                for key, entries in entries_of.items() if entries]

    def _level_entries(self, info: InstrumentInfo, side: Side, entry_type: bytes, depth: int,
                       before: dict[tuple[int, Side], list[Level]]) -> list[list[Field]]:
        old = before.get((info.instrument_id, side))
        if old is None:
            return []  # this side did not change in this entry
        new = self._book(info.instrument_id).side(side).top(depth)
        return [messages.incremental_level(info, entry_type, action, level)
                for action, level in diff(old[:depth], new)]

    # --- MarketDataRequest(V) ------------------------------------------------------------

    def request(self, subscriber_key: object, message: Message) -> list[Outgoing]:
        """Answer a MarketDataRequest(V) (a parsed ``FixMessage``): W per symbol, a Y, or
        nothing (a disable that worked). O(fields + symbols x (depth + trades_kept))."""
        md_req_id = message.get(262) or MISSING_MD_REQ_ID
        try:
            kind = message.get(263)
            if kind == b"2":
                self._disable(subscriber_key, md_req_id)
                return []
            if kind not in (b"0", b"1"):
                raise _Rejected(messages.UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE,
                                f"SubscriptionRequestType {_text(kind)} is not supported"
                                " (0 snapshot, 1 snapshot + updates, 2 disable)")
            subscription = self._parse(subscriber_key, md_req_id, message)
            if kind == b"1":
                self._check_room(subscription)
        except _Rejected as rejected:
            return [(b"Y", messages.request_reject(md_req_id, rejected.reason, rejected.text))]
        if kind == b"1":
            self._add(subscription)
        return [(b"W", self._snapshot(subscription, instrument_id))
                for instrument_id in subscription.instrument_ids]

    def _parse(self, subscriber_key: object, md_req_id: bytes, message: Message
               ) -> Subscription:
        depth = self._depth(message.get(264))
        update_type = message.get(265)
        if message.get(263) == b"1" and update_type not in (None, b"1"):
            raise _Rejected(messages.UNSUPPORTED_MD_UPDATE_TYPE,
                            f"MDUpdateType {_text(update_type)} is not supported"
                            " (1 incremental refresh)")
        if message.get(266) not in (None, b"Y"):
            raise _Rejected(messages.UNSUPPORTED_AGGREGATED_BOOK,
                            "only the aggregated book (AggregatedBook Y) is published")
        groups = self._dictionary.groups("V", message.fields())
        entry_types = [entry.get(269) for entry in groups.get(267, [])]
        unsupported = [value for value in entry_types if value not in (BID, OFFER, TRADE)]
        if unsupported or not entry_types:
            raise _Rejected(messages.UNSUPPORTED_MD_ENTRY_TYPE,
                            f"MDEntryType {_text(unsupported[0] if unsupported else None)}"
                            " is not supported (0 bid, 1 offer, 2 trade)")
        return Subscription(subscriber_key, md_req_id,
                            self._instrument_ids(groups.get(146, [])), depth,
                            frozenset(entry_types))

    def _depth(self, text: bytes | None) -> int:
        depth = int(text) if text is not None and text.isdigit() else -1
        if not 0 <= depth <= self.depth_max:
            raise _Rejected(messages.UNSUPPORTED_MARKET_DEPTH,
                            f"MarketDepth {_text(text)} is not supported"
                            f" (0 full book, 1 top of book, up to {self.depth_max} levels)")
        return depth or self.depth_max

    def _instrument_ids(self, related: list[dict]) -> tuple[int, ...]:
        if len(related) > SYMBOLS_PER_REQUEST_MAX:
            raise _Rejected(None, f"at most {SYMBOLS_PER_REQUEST_MAX} symbols a request")
        ids: dict[int, None] = {}
        for entry in related:
            info = self.instruments.by_symbol(entry.get(55))
            if info is None:
                raise _Rejected(messages.UNKNOWN_SYMBOL,
                                f"unknown symbol {_text(entry.get(55))}")
            ids[info.instrument_id] = None
        if not ids:
            raise _Rejected(messages.UNKNOWN_SYMBOL, "no symbol requested")
        return tuple(ids)

    def _check_room(self, subscription: Subscription) -> None:
        key = (subscription.subscriber_key, subscription.md_req_id)
        if key in self._subscriptions:
            raise _Rejected(messages.DUPLICATE_MD_REQ_ID,
                            f"MDReqID {_text(subscription.md_req_id)} is already subscribed")
        if len(self._subscriptions) >= self.subscriptions_max:
            raise _Rejected(None, f"the venue's limit of {self.subscriptions_max}"
                                  " subscriptions is reached")
        count = self._per_subscriber.get(subscription.subscriber_key, 0)
        if count >= self.subscriber_subscriptions_max:
            raise _Rejected(None, f"the limit of {self.subscriber_subscriptions_max}"
                                  " subscriptions a session is reached")

    def _add(self, subscription: Subscription) -> None:
        key = (subscription.subscriber_key, subscription.md_req_id)
        self._subscriptions[key] = subscription
        for instrument_id in subscription.instrument_ids:
            self._by_instrument.setdefault(instrument_id, {})[key] = subscription
        subscriber_key = subscription.subscriber_key
        self._per_subscriber[subscriber_key] = self._per_subscriber.get(subscriber_key, 0) + 1

    def _remove(self, key: tuple[object, bytes]) -> None:
        subscription = self._subscriptions.pop(key)
        for instrument_id in subscription.instrument_ids:
            subscribers = self._by_instrument[instrument_id]
            del subscribers[key]
            if not subscribers:
                del self._by_instrument[instrument_id]
        count = self._per_subscriber[key[0]] - 1
        if count:
            self._per_subscriber[key[0]] = count
        else:
            del self._per_subscriber[key[0]]

    def _disable(self, subscriber_key: object, md_req_id: bytes) -> None:
        key = (subscriber_key, md_req_id)
        if key not in self._subscriptions:
            raise _Rejected(None, f"no subscription {_text(md_req_id)} to disable")
        self._remove(key)

    def _snapshot(self, subscription: Subscription, instrument_id: int) -> list[Field]:
        info = self.instruments.by_id(instrument_id)
        assert info is not None, "subscribed to an instrument the table lacks"
        book = self._book(instrument_id)
        entries = []
        for side, entry_type in _SIDES:
            if entry_type in subscription.entry_types:
                entries += [messages.full_level(info, entry_type, level)
                            for level in book.side(side).top(subscription.depth)]
        if TRADE in subscription.entry_types:
            entries += [messages.full_trade(info, trade) for trade in book.trades]
        return messages.snapshot(subscription.md_req_id, info, entries)

    def drop(self, subscriber_key: object) -> None:
        """Forget every subscription of ``subscriber_key`` (its session logged out or
        disconnected). O(subscriptions)."""
        for key in [key for key in self._subscriptions if key[0] == subscriber_key]:
            self._remove(key)

    def subscriptions(self, subscriber_key: object) -> list[Subscription]:
        """The live subscriptions of ``subscriber_key``, oldest first. O(subscriptions)."""
        return [subscription for key, subscription in self._subscriptions.items()
                if key[0] == subscriber_key]

    # --- SecurityListRequest(x) ----------------------------------------------------------

    def security_list(self, message: Message) -> Outgoing:
        """Answer a SecurityListRequest(x) with a SecurityList(y): SecurityListRequestType
        (559) 4 lists every instrument, 0 the one named by Symbol(55) (560=2 if unknown);
        1-3 (by type, product, trading session) get 560=1. SubscriptionRequestType(263) is
        not honoured: the answer is always one snapshot. O(instruments)."""
        self._security_lists_sent += 1
        response_id = b"SL%d" % self._security_lists_sent
        request_id = message.get(320) or MISSING_MD_REQ_ID
        request_type = message.get(559)
        infos: list[InstrumentInfo] = []
        if request_type == b"4":
            result, infos = messages.VALID_REQUEST, self.instruments.all()
        elif request_type == b"0":
            info = self.instruments.by_symbol(message.get(55))
            result = messages.NO_INSTRUMENTS_FOUND if info is None else messages.VALID_REQUEST
            infos = [] if info is None else [info]
        else:
            result = messages.UNSUPPORTED_REQUEST
        return b"y", messages.security_list(request_id, response_id, result, infos)

    def _check(self) -> None:
        """The invariants: every book's, and the three subscription indexes agree."""
        for book in self._books.values():
            book._check()
        indexed = {key for subscribers in self._by_instrument.values() for key in subscribers}
        assert indexed == set(self._subscriptions), "instrument index != subscriptions"
        for instrument_id, subscribers in self._by_instrument.items():
            assert subscribers, f"empty index entry for {instrument_id}"
            assert all(instrument_id in subscription.instrument_ids
                       for subscription in subscribers.values())
        counts: dict[object, int] = {}
        for subscriber_key, _ in self._subscriptions:
            counts[subscriber_key] = counts.get(subscriber_key, 0) + 1
        assert counts == self._per_subscriber, "per-subscriber counts are off"
        assert len(self._subscriptions) <= self.subscriptions_max


def _text(value: bytes | None) -> str:
    return "(none)" if value is None else repr(value.decode(errors="replace"))
