"""Every rule the RFQ module keeps: a broken rule gives one ``RfqRejected`` with its reason
code and changes nothing else; limits bound the state."""

from __future__ import annotations

import msgspec
import pytest
from rfq_harness import DEALER_A, DEALER_B, INSTRUMENT, REQUESTER, RfqVenue
from venue_rfq import (
    AcceptQuote,
    CancelRfq,
    QuoteReceived,
    RequestQuote,
    RfqModule,
    RfqOpened,
    RfqRejected,
    SubmitQuote,
)
from venue_rfq import RfqRejectReason as Reason
from venue_rfq.module import ID_LENGTH_MAX

from venue.codecs import Command, CommandRejected, RejectReason, Side

TIME_TO_LIVE_NS = 10_000_000
VALID_FOR_NS = 1_000_000
LONG_ID = "x" * (ID_LENGTH_MAX + 1)


def _request(rfq_id: str = "r1", quantity: int = 5, time_to_live_ns: int = TIME_TO_LIVE_NS,
             requester: int = REQUESTER) -> RequestQuote:
    return RequestQuote(requester, INSTRUMENT, Side.BUY, quantity, rfq_id, time_to_live_ns)


def _quote(quote_id: str = "q2", dealer: int = DEALER_B, price: int = 100,
           valid_for_ns: int = VALID_FOR_NS, rfq_id: str = "r1") -> SubmitQuote:
    return SubmitQuote(dealer, rfq_id, quote_id, price, valid_for_ns)


@pytest.fixture
def quoted() -> RfqVenue:
    """RFQ "r1" of REQUESTER, open, with one live quote "q1" from DEALER_A."""
    venue = RfqVenue(RfqModule(time_to_live_ns_max=TIME_TO_LIVE_NS))
    assert isinstance(venue.send_one(_request()), RfqOpened)
    assert isinstance(venue.send_one(_quote("q1", DEALER_A)), QuoteReceived)
    return venue


# (command, reason, a fragment of the reject's text)
REJECTS = {
    "quantity zero": (_request("r9", quantity=0), Reason.INVALID_FIELD, "quantity"),
    "quantity negative": (_request("r9", quantity=-5), Reason.INVALID_FIELD, "quantity"),
    "time to live zero": (_request("r9", time_to_live_ns=0), Reason.INVALID_FIELD,
                          "time_to_live_ns"),
    "time to live above max": (_request("r9", time_to_live_ns=TIME_TO_LIVE_NS + 1),
                               Reason.INVALID_FIELD, "time_to_live_ns_max"),
    "empty rfq id": (_request(""), Reason.INVALID_FIELD, "rfq_id is empty"),
    "long rfq id": (_request(LONG_ID), Reason.INVALID_FIELD, "rfq_id is longer"),
    "open rfq id": (_request("r1", requester=DEALER_B), Reason.DUPLICATE_RFQ_ID, ""),
    "price zero": (_quote(price=0), Reason.INVALID_FIELD, "price"),
    "valid for zero": (_quote(valid_for_ns=0), Reason.INVALID_FIELD, "valid_for_ns"),
    "empty quote id": (_quote(""), Reason.INVALID_FIELD, "quote_id is empty"),
    "long quote id": (_quote(LONG_ID), Reason.INVALID_FIELD, "quote_id is longer"),
    "quote unknown rfq": (_quote(rfq_id="nope"), Reason.UNKNOWN_RFQ, ""),
    "quote own rfq": (_quote(dealer=REQUESTER), Reason.DEALER_IS_REQUESTER, ""),
    "quote id taken": (_quote("q1", DEALER_B), Reason.DUPLICATE_QUOTE_ID, ""),
    "accept by dealer": (AcceptQuote(DEALER_B, "r1", "q1"), Reason.NOT_REQUESTER, ""),
    "accept unknown rfq": (AcceptQuote(REQUESTER, "nope", "q1"), Reason.UNKNOWN_RFQ, ""),
    "accept unknown quote": (AcceptQuote(REQUESTER, "r1", "q9"), Reason.UNKNOWN_QUOTE, ""),
    "cancel by dealer": (CancelRfq(DEALER_A, "r1"), Reason.NOT_REQUESTER, ""),
    "cancel unknown rfq": (CancelRfq(REQUESTER, "nope"), Reason.UNKNOWN_RFQ, ""),
}


@pytest.mark.parametrize(("command", "reason", "text"), REJECTS.values(), ids=REJECTS.keys())
def test_a_broken_rule_gives_one_typed_reject_and_changes_nothing(
        quoted: RfqVenue, command: Command, reason: Reason, text: str) -> None:
    state, timers = quoted.module_state(), quoted.engine.timers.items()

    rejected = quoted.send_one(command)

    assert isinstance(rejected, RfqRejected)
    account = command.dealer if isinstance(command, SubmitQuote) else command.requester
    quote_id = getattr(command, "quote_id", "")[:ID_LENGTH_MAX]
    assert (rejected.command_tag, rejected.reason, rejected.account, rejected.rfq_id,
            rejected.quote_id) == (command.__struct_config__.tag, reason, account,
                                   command.rfq_id[:ID_LENGTH_MAX], quote_id)
    assert text in rejected.text
    assert (rejected.text == "") == (text == ""), "free text only where the code needs it"
    assert quoted.module_state() == state
    assert quoted.engine.timers.items() == timers


def test_every_reject_reason_is_exercised() -> None:
    tested = {reason for _, reason, _ in REJECTS.values()}
    tested |= {Reason.RFQ_EXPIRED, Reason.QUOTE_EXPIRED}  # test_rfq_flow.py
    tested |= {Reason.RFQ_LIMIT_REACHED, Reason.QUOTE_LIMIT_REACHED}  # the limit tests below
    assert sorted(tested) == list(Reason)


def test_a_command_that_does_not_decode_is_rejected_by_the_engine_not_the_module(
        rfq_venue: RfqVenue) -> None:
    """Field types and enum values are checked when the engine decodes the command."""
    bad_side = RequestQuote(REQUESTER, INSTRUMENT, 9, 5, "r1", TIME_TO_LIVE_NS)  # type: ignore[arg-type]
    rejected = rfq_venue.send_one(bad_side)
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == RejectReason.INVALID_FIELD
    assert rfq_venue.module.summary()["open_rfqs"] == 0


def test_rfqs_max_bounds_the_open_rfqs_and_a_closed_one_frees_its_place() -> None:
    venue = RfqVenue(RfqModule(rfqs_max=2))
    assert isinstance(venue.send_one(_request("r1")), RfqOpened)
    assert isinstance(venue.send_one(_request("r2")), RfqOpened)

    rejected = venue.send_one(_request("r3"))

    assert rejected.reason == Reason.RFQ_LIMIT_REACHED
    assert rejected.text == "rfqs_max=2"
    assert venue.module.open_rfq_ids() == ["r1", "r2"]
    venue.send_one(CancelRfq(REQUESTER, "r1"))
    assert isinstance(venue.send_one(_request("r3")), RfqOpened)


def test_quotes_per_rfq_max_counts_expired_quotes_too() -> None:
    venue = RfqVenue(RfqModule(quotes_per_rfq_max=2))
    venue.send_one(_request())
    first = venue.send_one(_quote("q1", DEALER_A))
    venue.send_one(_quote("q2", DEALER_B, valid_for_ns=TIME_TO_LIVE_NS))
    assert venue.send_one(_quote("q3")).reason == Reason.QUOTE_LIMIT_REACHED
    venue.fire_timers(first.expires_at_ns)
    assert venue.module.summary()["live_quotes"] == 1

    rejected = venue.send_one(_quote("q3"))

    assert (rejected.reason, rejected.text) == (Reason.QUOTE_LIMIT_REACHED,
                                                "quotes_per_rfq_max=2")


def test_the_limits_bound_the_timers_the_module_holds() -> None:
    rfqs_max, quotes_per_rfq_max = 3, 2
    venue = RfqVenue(RfqModule(rfqs_max=rfqs_max, quotes_per_rfq_max=quotes_per_rfq_max))
    for rfq_number in range(rfqs_max + 1):
        rfq_id = f"r{rfq_number}"
        venue.send(_request(rfq_id), *[_quote(f"q{n}", DEALER_A, rfq_id=rfq_id)
                                       for n in range(quotes_per_rfq_max + 1)])
    assert len(venue.engine.timers) == rfqs_max * (1 + quotes_per_rfq_max)


def test_a_huge_valid_for_is_capped_at_the_rfq_expiry_so_events_still_encode(
        quoted: RfqVenue) -> None:
    """msgpack integers stop at 2**64 - 1: an event holding now + 2**64 - 1 would not encode,
    and the engine halts on an entry whose events do not encode."""
    received = quoted.send_one(_quote(valid_for_ns=2**64 - 1))
    assert received.expires_at_ns == quoted.module.rfq("r1").expires_at_ns
    assert quoted.engine.take_snapshot()


@pytest.mark.parametrize("limits", [{"rfqs_max": 0}, {"quotes_per_rfq_max": -1},
                                    {"time_to_live_ns_max": True}, {"rfqs_max": "3"}])
def test_limits_must_be_positive_integers(limits: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(limits))):
        RfqModule(**limits)


def test_a_reject_echoes_ids_cut_to_the_id_length_max(rfq_venue: RfqVenue) -> None:
    rejected = rfq_venue.send_one(AcceptQuote(REQUESTER, "y" * 10_000, "z" * 10_000))
    assert rejected.reason == Reason.UNKNOWN_RFQ
    assert (len(rejected.rfq_id), len(rejected.quote_id)) == (ID_LENGTH_MAX, ID_LENGTH_MAX)
    assert len(msgspec.msgpack.encode(rejected)) < 4 * ID_LENGTH_MAX
