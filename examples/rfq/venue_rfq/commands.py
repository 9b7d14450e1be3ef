"""The RFQ module's commands: what requesters and dealers ask the venue to do.

Each command is a frozen, array-like msgspec Struct that subclasses ``venue.codecs.Command``
and sets a permanent integer ``tag``. Plugin tags start at 1000 (lower ones are venue's);
once a tag has been written to a log it belongs to that type for ever. New fields are only
appended, with defaults, so old log entries still decode.

Prices and quantities are integers in the instrument's units (ticks, lots); durations are
integer nanoseconds. Accounts are integers that the gateway has authenticated: the engine
trusts the account a command names, so the gateway must check that the client may act for it.
"""

from __future__ import annotations

from venue.codecs import Command, Side

__all__ = ["RFQ_COMMANDS", "AcceptQuote", "CancelRfq", "RequestQuote", "SubmitQuote"]


class RequestQuote(Command, tag=1001):
    """Ask dealers for a price to trade ``quantity`` of ``instrument_id``.

    ``side`` is the requester's side (BUY: the requester buys from the dealer). ``rfq_id`` is
    chosen by the client and names the RFQ venue-wide while it is open, so prefix it with
    something unique to you. The RFQ expires ``time_to_live_ns`` after the log timestamp of
    this command.
    """

    requester: int
    instrument_id: int
    side: Side
    quantity: int
    rfq_id: str
    time_to_live_ns: int


class SubmitQuote(Command, tag=1002):
    """A dealer's firm price for an open RFQ, good for ``valid_for_ns`` (but never longer than
    the RFQ itself). ``quote_id`` is chosen by the dealer, unique within the RFQ."""

    dealer: int
    rfq_id: str
    quote_id: str
    price: int
    valid_for_ns: int


class AcceptQuote(Command, tag=1003):
    """The requester takes one live quote: a trade at the quote's price, and the RFQ closes."""

    requester: int
    rfq_id: str
    quote_id: str


class CancelRfq(Command, tag=1004):
    """The requester withdraws an open RFQ; its quotes die with it."""

    requester: int
    rfq_id: str


RFQ_COMMANDS: tuple[type[Command], ...] = (RequestQuote, SubmitQuote, AcceptQuote, CancelRfq)
