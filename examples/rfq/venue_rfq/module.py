"""Request for quote: a requester asks, dealers quote, the requester accepts one quote.

Rules, each answered with ``RfqRejected`` and its reason code when broken:

* An RFQ is open from ``RequestQuote`` until the requester accepts a quote
  (``QuoteAccepted``, a trade) or cancels it (``RfqCancelled``), or until it expires
  (``RfqExpired``) ``time_to_live_ns`` after it opened. Its id is free again once it closes.
* Dealers quote open RFQs (``QuoteReceived``); a dealer may not quote its own RFQ. A quote
  expires (``QuoteExpired``) after ``valid_for_ns``, or when its RFQ closes, whichever is
  first. Only the requester may accept, and only a live quote.
* Limits: at most ``rfqs_max`` open RFQs and ``quotes_per_rfq_max`` quotes per RFQ (expired
  ones included); a time to live of at most ``time_to_live_ns_max``; ids of at most
  ``ID_LENGTH_MAX`` characters. So the state, and the timers it holds, stay bounded.

Time is only ``ctx.now_ns``, the timestamp the leader stamped into the log entry. Expiry is a
timer: ``ctx.schedule_timer(deadline_ns, timer_id)`` makes the engine call ``on_timer`` when a
TIMER entry at or past the deadline is applied, at the same log position on every node. A
command can land between a deadline and that TIMER entry, so every command also compares the
deadline with ``ctx.now_ns``.

Timer ids are ints private to this module; they come from a counter kept in the state (and
in the snapshot), so every node hands out the same ids in the same order.
"""

from __future__ import annotations

import msgspec

from venue.codecs import Command, Side
from venue.engine import ApplyContext, Module

from .commands import RFQ_COMMANDS, AcceptQuote, CancelRfq, RequestQuote, SubmitQuote
from .events import (
    RFQ_EVENTS,
    QuoteAccepted,
    QuoteExpired,
    QuoteReceived,
    RfqCancelled,
    RfqExpired,
    RfqOpened,
    RfqRejected,
    RfqRejectReason,
)

RFQS_MAX_DEFAULT = 1_000
QUOTES_PER_RFQ_MAX_DEFAULT = 16
TIME_TO_LIVE_NS_MAX_DEFAULT = 300_000_000_000  # five minutes
ID_LENGTH_MAX = 64  # characters, for rfq and quote ids

_RFQ_ITSELF = ""  # the quote id in a timer target that means "the RFQ's own expiry timer"


class Quote(msgspec.Struct, array_like=True):
    """One quote of an open RFQ; ``live`` turns false when it expires."""

    quote_id: str
    dealer: int
    price: int
    expires_at_ns: int
    timer_id: int
    live: bool = True


class Rfq(msgspec.Struct, array_like=True):
    """An open RFQ. Its quotes are a list in arrival order, not a dict: the order survives a
    snapshot unchanged (a deterministic encoder sorts dict keys)."""

    rfq_id: str
    requester: int
    instrument_id: int
    side: Side
    quantity: int
    expires_at_ns: int
    timer_id: int
    quotes: list[Quote] = []

    def quote(self, quote_id: str) -> Quote | None:
        """The quote with ``quote_id``, or None. O(quotes_per_rfq_max)."""
        for quote in self.quotes:
            if quote.quote_id == quote_id:
                return quote
        return None


class RfqState(msgspec.Struct, array_like=True, frozen=True):
    """The snapshot format. Change it only together with ``RfqModule.snapshot_version``."""

    next_timer_id: int
    trades: int
    rfqs: list[Rfq]  # in the order they opened


_state_encoder = msgspec.msgpack.Encoder(order="deterministic")
_state_decoder = msgspec.msgpack.Decoder(RfqState)


class RfqModule(Module):
    """The RFQ module. The limits change what commands do, so every node and every replay
    must be given the same values."""

    name = "rfq"
    handles = RFQ_COMMANDS
    emits = RFQ_EVENTS
    snapshot_version = 1

    def __init__(self, rfqs_max: int = RFQS_MAX_DEFAULT,
                 quotes_per_rfq_max: int = QUOTES_PER_RFQ_MAX_DEFAULT,
                 time_to_live_ns_max: int = TIME_TO_LIVE_NS_MAX_DEFAULT) -> None:
        for what, value in (("rfqs_max", rfqs_max), ("quotes_per_rfq_max", quotes_per_rfq_max),
                            ("time_to_live_ns_max", time_to_live_ns_max)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{what} must be an integer of at least 1, got {value!r}")
        self.rfqs_max = rfqs_max
        self.quotes_per_rfq_max = quotes_per_rfq_max
        self.time_to_live_ns_max = time_to_live_ns_max
        self.rfqs: dict[str, Rfq] = {}  # open RFQs by id, in the order they opened
        self.trades = 0  # accepted quotes so far; the last trade id
        self.next_timer_id = 1
        # timer id -> (rfq id, quote id or _RFQ_ITSELF); derived from ``rfqs``, not snapshotted
        self._timer_targets: dict[int, tuple[str, str]] = {}

    # -- queries (other modules and gateways may call these; none changes state) ----------

    def rfq(self, rfq_id: str) -> Rfq | None:
        """The open RFQ ``rfq_id``, or None. Read it, never change it. O(1)."""
        return self.rfqs.get(rfq_id)

    def open_rfq_ids(self) -> list[str]:
        """Ids of the open RFQs, in the order they opened. O(n)."""
        return list(self.rfqs)

    # -- applying commands ----------------------------------------------------------------

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        match command:
            case RequestQuote():
                self._request_quote(ctx, command)
            case SubmitQuote():
                self._submit_quote(ctx, command)
            case AcceptQuote():
                self._accept_quote(ctx, command)
            case CancelRfq():
                self._cancel_rfq(ctx, command)
            case _:  # the engine only routes types in ``handles``: this is a bug, so halt
                raise TypeError(f"rfq does not handle {type(command).__qualname__}")

    def _request_quote(self, ctx: ApplyContext, command: RequestQuote) -> None:
        problem = (_id_problem("rfq_id", command.rfq_id)
                   or _positive_problem("quantity", command.quantity)
                   or _positive_problem("time_to_live_ns", command.time_to_live_ns))
        if problem is None and command.time_to_live_ns > self.time_to_live_ns_max:
            problem = f"time_to_live_ns is above time_to_live_ns_max={self.time_to_live_ns_max}"
        if problem is not None:
            return _reject(ctx, command, RfqRejectReason.INVALID_FIELD, problem)
        if command.rfq_id in self.rfqs:
            return _reject(ctx, command, RfqRejectReason.DUPLICATE_RFQ_ID)
        if len(self.rfqs) >= self.rfqs_max:
            return _reject(ctx, command, RfqRejectReason.RFQ_LIMIT_REACHED,
                           f"rfqs_max={self.rfqs_max}")
        expires_at_ns = ctx.now_ns + command.time_to_live_ns
        timer_id = self._schedule(ctx, expires_at_ns, command.rfq_id, _RFQ_ITSELF)
        self.rfqs[command.rfq_id] = Rfq(command.rfq_id, command.requester,
                                        command.instrument_id, command.side, command.quantity,
                                        expires_at_ns, timer_id)
        ctx.emit(RfqOpened(command.requester, command.rfq_id, command.instrument_id,
                           command.side, command.quantity, expires_at_ns))

    def _submit_quote(self, ctx: ApplyContext, command: SubmitQuote) -> None:
        problem = (_id_problem("rfq_id", command.rfq_id)
                   or _id_problem("quote_id", command.quote_id)
                   or _positive_problem("price", command.price)
                   or _positive_problem("valid_for_ns", command.valid_for_ns))
        if problem is not None:
            return _reject(ctx, command, RfqRejectReason.INVALID_FIELD, problem)
        rfq = self._open_rfq(ctx, command, requester_only=False)
        if rfq is None:
            return None
        if command.dealer == rfq.requester:
            return _reject(ctx, command, RfqRejectReason.DEALER_IS_REQUESTER)
        if rfq.quote(command.quote_id) is not None:
            return _reject(ctx, command, RfqRejectReason.DUPLICATE_QUOTE_ID)
        if len(rfq.quotes) >= self.quotes_per_rfq_max:
            return _reject(ctx, command, RfqRejectReason.QUOTE_LIMIT_REACHED,
                           f"quotes_per_rfq_max={self.quotes_per_rfq_max}")
        # Never past the RFQ's own expiry: that also keeps a huge valid_for_ns from putting
        # an integer into an event that msgpack cannot encode (which would halt every node).
        expires_at_ns = min(ctx.now_ns + command.valid_for_ns, rfq.expires_at_ns)
        timer_id = self._schedule(ctx, expires_at_ns, rfq.rfq_id, command.quote_id)
        rfq.quotes.append(Quote(command.quote_id, command.dealer, command.price, expires_at_ns,
                                timer_id))
        ctx.emit(QuoteReceived(rfq.rfq_id, command.quote_id, command.dealer, command.price,
                               expires_at_ns))

    def _accept_quote(self, ctx: ApplyContext, command: AcceptQuote) -> None:
        rfq = self._open_rfq(ctx, command, requester_only=True)
        if rfq is None:
            return None
        quote = rfq.quote(command.quote_id)
        if quote is None:
            return _reject(ctx, command, RfqRejectReason.UNKNOWN_QUOTE)
        if not quote.live or ctx.now_ns >= quote.expires_at_ns:
            return _reject(ctx, command, RfqRejectReason.QUOTE_EXPIRED)
        self.trades += 1
        self._close(ctx, rfq)
        ctx.emit(QuoteAccepted(self.trades, rfq.rfq_id, quote.quote_id, rfq.requester,
                               quote.dealer, rfq.instrument_id, rfq.side, quote.price,
                               rfq.quantity))

    def _cancel_rfq(self, ctx: ApplyContext, command: CancelRfq) -> None:
        rfq = self._open_rfq(ctx, command, requester_only=True)
        if rfq is None:
            return None
        self._close(ctx, rfq)
        ctx.emit(RfqCancelled(rfq.rfq_id, rfq.requester))

    def _open_rfq(self, ctx: ApplyContext, command: SubmitQuote | AcceptQuote | CancelRfq,
                  requester_only: bool) -> Rfq | None:
        """The open, unexpired RFQ that ``command`` names; None once it is rejected."""
        rfq = self.rfqs.get(command.rfq_id)
        if rfq is None:
            reason = RfqRejectReason.UNKNOWN_RFQ
        elif requester_only and command.requester != rfq.requester:
            reason = RfqRejectReason.NOT_REQUESTER
        elif ctx.now_ns >= rfq.expires_at_ns:  # due, but its TIMER entry is not applied yet
            reason = RfqRejectReason.RFQ_EXPIRED
        else:
            return rfq
        _reject(ctx, command, reason)
        return None

    # -- timers ---------------------------------------------------------------------------

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        # Every timer this module scheduled and did not cancel has a target: a KeyError here
        # is a bug, and halting is right.
        rfq_id, quote_id = self._timer_targets[timer_id]
        rfq = self.rfqs[rfq_id]
        if quote_id == _RFQ_ITSELF:
            self._close(ctx, rfq)
            ctx.emit(RfqExpired(rfq_id, rfq.requester))
            return
        quote = rfq.quote(quote_id)
        assert quote is not None and quote.live, f"timer {timer_id} for a dead quote"
        del self._timer_targets[timer_id]
        quote.live = False
        ctx.emit(QuoteExpired(rfq_id, quote_id, quote.dealer))

    def _schedule(self, ctx: ApplyContext, deadline_ns: int, rfq_id: str, quote_id: str
                  ) -> int:
        timer_id = self.next_timer_id
        self.next_timer_id += 1
        self._timer_targets[timer_id] = (rfq_id, quote_id)
        ctx.schedule_timer(deadline_ns, timer_id)
        return timer_id

    def _close(self, ctx: ApplyContext, rfq: Rfq) -> None:
        """Forget ``rfq`` and cancel its timer and its live quotes' timers."""
        del self.rfqs[rfq.rfq_id]
        for timer_id in [rfq.timer_id, *(quote.timer_id for quote in rfq.quotes if quote.live)]:
            del self._timer_targets[timer_id]
            ctx.cancel_timer(timer_id)  # False for the timer that is firing: already gone

    # -- snapshots ------------------------------------------------------------------------

    def take_snapshot(self) -> bytes:
        return _state_encoder.encode(RfqState(self.next_timer_id, self.trades,
                                              list(self.rfqs.values())))

    def on_start(self, snapshot: bytes | None) -> None:
        """Restore from a snapshot. The engine restores the pending timers itself; the module
        only rebuilds what it derives from its state."""
        if not snapshot:
            return
        state = _state_decoder.decode(snapshot)
        self.next_timer_id = state.next_timer_id
        self.trades = state.trades
        self.rfqs = {rfq.rfq_id: rfq for rfq in state.rfqs}
        self._timer_targets = _timer_targets_of(state.rfqs)

    def summary(self) -> dict[str, int | str]:
        live_quotes = sum(quote.live for rfq in self.rfqs.values() for quote in rfq.quotes)
        return {"open_rfqs": len(self.rfqs), "live_quotes": live_quotes,
                "trades": self.trades, "next_timer_id": self.next_timer_id}

    def _check(self) -> None:
        """Assert the invariants (tests call this after every step)."""
        assert len(self.rfqs) <= self.rfqs_max, "more open RFQs than rfqs_max"
        for rfq_id, rfq in self.rfqs.items():
            assert rfq_id == rfq.rfq_id, f"RFQ {rfq.rfq_id!r} filed under {rfq_id!r}"
            assert len(rfq.quotes) <= self.quotes_per_rfq_max, f"{rfq_id!r}: too many quotes"
            quote_ids = [quote.quote_id for quote in rfq.quotes]
            assert len(dict.fromkeys(quote_ids)) == len(quote_ids), f"{rfq_id!r}: duplicates"
            for quote in rfq.quotes:
                assert quote.expires_at_ns <= rfq.expires_at_ns, f"{rfq_id!r}: quote outlives"
        assert self._timer_targets == _timer_targets_of(list(self.rfqs.values())), \
            "timer targets disagree with the open RFQs"
        assert all(0 < timer_id < self.next_timer_id for timer_id in self._timer_targets)


def _timer_targets_of(rfqs: list[Rfq]) -> dict[int, tuple[str, str]]:
    targets = {}
    for rfq in rfqs:
        targets[rfq.timer_id] = (rfq.rfq_id, _RFQ_ITSELF)
        for quote in rfq.quotes:
            if quote.live:
                targets[quote.timer_id] = (rfq.rfq_id, quote.quote_id)
    return targets


def _id_problem(field: str, value: str) -> str | None:
    if not value:
        return f"{field} is empty"
    if len(value) > ID_LENGTH_MAX:
        return f"{field} is longer than {ID_LENGTH_MAX} characters"
    return None


def _positive_problem(field: str, value: int) -> str | None:
    return None if value > 0 else f"{field} must be positive, got {value}"


def _reject(ctx: ApplyContext, command: RequestQuote | SubmitQuote | AcceptQuote | CancelRfq,
            reason: RfqRejectReason, text: str = "") -> None:
    """Answer ``command`` with ``RfqRejected``; the caller changes nothing else."""
    account = command.dealer if isinstance(command, SubmitQuote) else command.requester
    quote_id = getattr(command, "quote_id", "")
    ctx.emit(RfqRejected(command.__struct_config__.tag, reason, account,
                         command.rfq_id[:ID_LENGTH_MAX], quote_id[:ID_LENGTH_MAX], text))
