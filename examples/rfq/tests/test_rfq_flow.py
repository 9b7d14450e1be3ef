"""The RFQ life cycle through a real engine: open, quote, accept; expiry by timer entries;
cancel."""

from __future__ import annotations

from rfq_harness import DEALER_A, DEALER_B, INSTRUMENT, REQUESTER, RfqVenue, events_of
from venue_rfq import (
    AcceptQuote,
    CancelRfq,
    QuoteAccepted,
    QuoteExpired,
    QuoteReceived,
    RequestQuote,
    RfqCancelled,
    RfqExpired,
    RfqOpened,
    RfqRejected,
    RfqRejectReason,
    SubmitQuote,
)

from venue.codecs import Side

TIME_TO_LIVE_NS = 10_000_000  # 10 ms
VALID_FOR_NS = 1_000_000  # 1 ms


def _open(venue: RfqVenue, rfq_id: str = "r1", time_to_live_ns: int = TIME_TO_LIVE_NS) -> int:
    """Open an RFQ for 5 lots; return its expiry."""
    opened = venue.send_one(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, rfq_id,
                                         time_to_live_ns))
    assert isinstance(opened, RfqOpened)
    return opened.expires_at_ns


def _quote(venue: RfqVenue, dealer: int, quote_id: str, price: int,
           valid_for_ns: int = VALID_FOR_NS, rfq_id: str = "r1") -> int:
    """Submit a quote; return its expiry."""
    received = venue.send_one(SubmitQuote(dealer, rfq_id, quote_id, price, valid_for_ns))
    assert isinstance(received, QuoteReceived), received
    return received.expires_at_ns


def test_happy_path_open_quote_accept_makes_one_trade_at_the_quoted_price(
        rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    opened = venue.send_one(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "r1",
                                         TIME_TO_LIVE_NS))
    assert opened == RfqOpened(REQUESTER, "r1", INSTRUMENT, Side.BUY, 5,
                               venue.now_ns + TIME_TO_LIVE_NS)
    quote_a = venue.send_one(SubmitQuote(DEALER_A, "r1", "a-1", 10_050, VALID_FOR_NS))
    assert quote_a == QuoteReceived("r1", "a-1", DEALER_A, 10_050, venue.now_ns + VALID_FOR_NS)
    _quote(venue, DEALER_B, "b-1", 10_040)
    assert venue.module.summary() == {"open_rfqs": 1, "live_quotes": 2, "trades": 0,
                                      "next_timer_id": 4}
    assert len(venue.engine.timers) == 3, "the RFQ's expiry and one per quote"

    trade = venue.send_one(AcceptQuote(REQUESTER, "r1", "b-1"))

    assert trade == QuoteAccepted(trade_id=1, rfq_id="r1", quote_id="b-1",
                                  requester=REQUESTER, dealer=DEALER_B,
                                  instrument_id=INSTRUMENT, side=Side.BUY, price=10_040,
                                  quantity=5)
    assert venue.module.summary() == {"open_rfqs": 0, "live_quotes": 0, "trades": 1,
                                      "next_timer_id": 4}
    assert venue.engine.next_timer_deadline() is None, "every timer of the RFQ is cancelled"
    late = venue.send_one(AcceptQuote(REQUESTER, "r1", "a-1"))
    assert late == RfqRejected(AcceptQuote.__struct_config__.tag,
                               RfqRejectReason.UNKNOWN_RFQ, REQUESTER, "r1", "a-1")


def test_each_command_of_a_batch_gets_its_own_outcome_for_its_client_seq(
        rfq_venue: RfqVenue) -> None:
    """The engine replies per command: the gateway routes each outcome to the client."""
    venue = rfq_venue
    applied = venue.apply(venue.batch_entry(
        RequestQuote(REQUESTER, INSTRUMENT, Side.SELL, 3, "r1", TIME_TO_LIVE_NS),
        SubmitQuote(DEALER_A, "r1", "a-1", 99, VALID_FOR_NS),
        AcceptQuote(REQUESTER, "r1", "a-1"),
    ))
    rows = [(outcome.session_id, outcome.client_seq, [type(event) for event in outcome.events])
            for outcome in applied.outcomes]
    assert rows == [(1, 1, [RfqOpened]), (1, 2, [QuoteReceived]), (1, 3, [QuoteAccepted])]
    trade = applied.outcomes[2].events[0]
    assert (trade.side, trade.price, trade.quantity, trade.dealer) == (Side.SELL, 99, 3, DEALER_A)


def test_a_quote_expires_through_a_timer_entry_and_then_cannot_be_accepted(
        rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    _open(venue)
    expires_at_ns = _quote(venue, DEALER_A, "a-1", 10_050)
    assert venue.engine.next_timer_deadline() == expires_at_ns
    assert venue.fire_timers(expires_at_ns - 1) == [], "not due yet"

    assert venue.fire_timers(expires_at_ns) == [QuoteExpired("r1", "a-1", DEALER_A)]

    rejected = venue.send_one(AcceptQuote(REQUESTER, "r1", "a-1"))
    assert rejected.reason == RfqRejectReason.QUOTE_EXPIRED
    assert venue.module.summary()["open_rfqs"] == 1, "the RFQ outlives its quotes"
    _quote(venue, DEALER_B, "b-1", 10_060)
    assert isinstance(venue.send_one(AcceptQuote(REQUESTER, "r1", "b-1")), QuoteAccepted)


def test_a_quote_past_its_expiry_is_rejected_before_its_timer_entry_arrives(
        rfq_venue: RfqVenue) -> None:
    """Timer entries come after the deadline, so commands check ``ctx.now_ns`` too."""
    venue = rfq_venue
    _open(venue)
    expires_at_ns = _quote(venue, DEALER_A, "a-1", 10_050)
    accept = AcceptQuote(REQUESTER, "r1", "a-1")
    state = venue.module_state()

    rejected = venue.send_one(accept, at_ns=expires_at_ns)

    assert rejected.reason == RfqRejectReason.QUOTE_EXPIRED
    assert venue.module_state() == state
    assert venue.fire_timers(expires_at_ns) == [QuoteExpired("r1", "a-1", DEALER_A)]


def test_a_quote_accepted_one_step_before_its_expiry_trades(rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    _open(venue)
    expires_at_ns = _quote(venue, DEALER_A, "a-1", 10_050)
    accepted = venue.send_one(AcceptQuote(REQUESTER, "r1", "a-1"), at_ns=expires_at_ns - 1)
    assert isinstance(accepted, QuoteAccepted)
    assert venue.fire_timers(expires_at_ns) == [], "its timer was cancelled"


def test_the_rfq_expires_through_a_timer_entry_and_its_quotes_die_with_it(
        rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    rfq_expires_at_ns = _open(venue)
    short_expires_at_ns = _quote(venue, DEALER_A, "short", 100, valid_for_ns=VALID_FOR_NS)
    long_expires_at_ns = _quote(venue, DEALER_B, "long", 101, valid_for_ns=10 * TIME_TO_LIVE_NS)
    assert short_expires_at_ns < rfq_expires_at_ns
    assert long_expires_at_ns == rfq_expires_at_ns, "a quote never outlives its RFQ"

    events = venue.fire_timers(rfq_expires_at_ns)

    assert events == [QuoteExpired("r1", "short", DEALER_A), RfqExpired("r1", REQUESTER)]
    assert venue.engine.next_timer_deadline() is None
    assert venue.module.open_rfq_ids() == []
    rejected = venue.send_one(SubmitQuote(DEALER_A, "r1", "late", 100, VALID_FOR_NS))
    assert rejected.reason == RfqRejectReason.UNKNOWN_RFQ
    assert _open(venue) > rfq_expires_at_ns, "a closed RFQ's id may be used again"


def test_an_rfq_past_its_expiry_refuses_commands_before_its_timer_entry_arrives(
        rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    expires_at_ns = _open(venue)
    _quote(venue, DEALER_A, "a-1", 100, valid_for_ns=TIME_TO_LIVE_NS)
    state = venue.module_state()
    for command in (SubmitQuote(DEALER_B, "r1", "b-1", 100, VALID_FOR_NS),
                    AcceptQuote(REQUESTER, "r1", "a-1"), CancelRfq(REQUESTER, "r1")):
        rejected = venue.send_one(command, at_ns=expires_at_ns)
        assert rejected.reason == RfqRejectReason.RFQ_EXPIRED, command
    assert venue.module_state() == state
    assert venue.fire_timers(expires_at_ns) == [RfqExpired("r1", REQUESTER)]


def test_an_rfq_takes_quotes_until_the_nanosecond_before_its_expiry(
        rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    expires_at_ns = _open(venue)
    quote = SubmitQuote(DEALER_A, "r1", "a-1", 100, VALID_FOR_NS)
    received = venue.send_one(quote, at_ns=expires_at_ns - 1)
    assert received == QuoteReceived("r1", "a-1", DEALER_A, 100, expires_at_ns)
    accepted = venue.send_one(AcceptQuote(REQUESTER, "r1", "a-1"), at_ns=expires_at_ns - 1)
    assert isinstance(accepted, QuoteAccepted)


def test_cancel_closes_the_rfq_and_cancels_every_timer_it_held(rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    _open(venue)
    _quote(venue, DEALER_A, "a-1", 100)
    assert venue.send_one(CancelRfq(REQUESTER, "r1")) == RfqCancelled("r1", REQUESTER)
    assert venue.engine.next_timer_deadline() is None
    assert venue.fire_timers(venue.now_ns + 100 * TIME_TO_LIVE_NS) == []
    rejected = venue.send_one(AcceptQuote(REQUESTER, "r1", "a-1"))
    assert rejected.reason == RfqRejectReason.UNKNOWN_RFQ


def test_rfqs_and_quotes_expire_independently_in_deadline_order(rfq_venue: RfqVenue) -> None:
    venue = rfq_venue
    first_expires_at_ns = _open(venue, "r1", time_to_live_ns=3 * VALID_FOR_NS)
    _open(venue, "r2", time_to_live_ns=TIME_TO_LIVE_NS)
    a_expires_at_ns = _quote(venue, DEALER_A, "a", 1, rfq_id="r2", valid_for_ns=VALID_FOR_NS)
    _quote(venue, DEALER_B, "b", 2, rfq_id="r1", valid_for_ns=TIME_TO_LIVE_NS)
    assert a_expires_at_ns < first_expires_at_ns

    applied = venue.apply(venue.timer_entry(first_expires_at_ns))

    assert events_of(applied) == [QuoteExpired("r2", "a", DEALER_A), RfqExpired("r1", REQUESTER)]
    assert [(o.session_id, o.client_seq) for o in applied.outcomes] == [(0, 0)], \
        "timer events are one outcome with no session"
    assert venue.module.open_rfq_ids() == ["r2"]

