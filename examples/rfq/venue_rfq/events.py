"""The RFQ module's events: what happened, in the order it happened.

Same rules as commands: frozen, array-like ``venue.codecs.Event`` subclasses with permanent
integer tags of 1000 and above (event tags are a separate space from command tags), fields
only appended with defaults, integers only. Every event type the module emits must be listed
in ``RfqModule.emits``: that puts it in the node's schema, so the event store, ``venue
tail`` and the gateways can decode it.

A command that breaks a rule gets one ``RfqRejected`` with a reason code and changes nothing
else. The reasons are this module's own enum rather than venue's ``RejectReason``, whose
codes describe orders and instruments: a client acting on ``DEALER_IS_REQUESTER`` needs no
free text to know what to do.
"""

from __future__ import annotations

import enum

from venue.codecs import Event, Side

__all__ = [
    "RFQ_EVENTS",
    "QuoteAccepted",
    "QuoteExpired",
    "QuoteReceived",
    "RfqCancelled",
    "RfqExpired",
    "RfqOpened",
    "RfqRejectReason",
    "RfqRejected",
]


class RfqRejectReason(enum.IntEnum):
    """Why an RFQ command was rejected. Part of the log format: append only, never renumber."""

    INVALID_FIELD = 1  # a field out of range; ``text`` names it
    DUPLICATE_RFQ_ID = 2  # an open RFQ already has this id
    UNKNOWN_RFQ = 3  # no open RFQ has this id (never opened, or already closed)
    RFQ_EXPIRED = 4  # past the RFQ's expiry, before its timer entry closed it
    NOT_REQUESTER = 5  # only the requester may accept a quote or cancel the RFQ
    DEALER_IS_REQUESTER = 6  # a dealer may not quote its own RFQ
    DUPLICATE_QUOTE_ID = 7  # the RFQ already has a quote with this id
    UNKNOWN_QUOTE = 8  # the RFQ has no quote with this id
    QUOTE_EXPIRED = 9  # the quote is past its expiry
    RFQ_LIMIT_REACHED = 10  # ``rfqs_max`` RFQs are open
    QUOTE_LIMIT_REACHED = 11  # the RFQ already holds ``quotes_per_rfq_max`` quotes


class RfqOpened(Event, tag=1001):
    requester: int
    rfq_id: str
    instrument_id: int
    side: Side  # the requester's side
    quantity: int
    expires_at_ns: int


class QuoteReceived(Event, tag=1002):
    """A live quote; ``expires_at_ns`` is the earlier of its own and the RFQ's expiry."""

    rfq_id: str
    quote_id: str
    dealer: int
    price: int
    expires_at_ns: int


class QuoteAccepted(Event, tag=1003):
    """A trade: the requester traded ``quantity`` with the dealer at the quoted price, on the
    requester's ``side``. The RFQ is closed; its other quotes died with it."""

    trade_id: int
    rfq_id: str
    quote_id: str
    requester: int
    dealer: int
    instrument_id: int
    side: Side
    price: int
    quantity: int


class QuoteExpired(Event, tag=1004):
    """A quote reached its expiry while its RFQ stayed open. Quotes still live when their RFQ
    closes (accepted, cancelled or expired) close with it, without an event each."""

    rfq_id: str
    quote_id: str
    dealer: int


class RfqExpired(Event, tag=1005):
    rfq_id: str
    requester: int


class RfqCancelled(Event, tag=1006):
    rfq_id: str
    requester: int


class RfqRejected(Event, tag=1007):
    """An RFQ command that broke a rule; nothing else changed.

    ``command_tag`` is the rejected command's tag; ``account`` is its requester or dealer.
    """

    command_tag: int
    reason: RfqRejectReason
    account: int
    rfq_id: str
    quote_id: str = ""
    text: str = ""


RFQ_EVENTS: tuple[type[Event], ...] = (
    RfqOpened,
    QuoteReceived,
    QuoteAccepted,
    QuoteExpired,
    RfqExpired,
    RfqCancelled,
    RfqRejected,
)
