"""Drive the RFQ module through a real ``venue.engine.Engine`` with real log entries.

The tests never call the module's callbacks directly: they append log entries, as the leader
would, and apply them. So they exercise exactly what a node does: decode the batch, check the
session's sequence numbers, route each command, collect and encode the events, hash them.
"""

from __future__ import annotations

import msgspec
from venue_rfq import AcceptQuote, CancelRfq, RequestQuote, RfqModule, SubmitQuote

from venue.codecs import (
    ClientCommand,
    Command,
    CommandBatch,
    EntryKind,
    Event,
    LogEntry,
    SessionOpen,
    Side,
    TimerFire,
)
from venue.engine import Applied, Engine

START_NS = 1_000_000_000
REQUESTER = 10  # accounts
DEALER_A = 20
DEALER_B = 30
INSTRUMENT = 7
STEP_NS = 1_000  # the timestamp of each entry is this much after the previous one's

_encoder = msgspec.msgpack.Encoder(order="deterministic")


class RfqVenue:
    """An engine running ``RfqModule`` and the log applied to it so far.

    Session id 1 is opened by the SESSION_OPEN entry at index 1 (a session's id is the index
    of the entry that opened it); every command is sent on it with the next ``client_seq``.
    """

    def __init__(self, module: RfqModule | None = None, *, snapshot: bytes | None = None
                 ) -> None:
        """A fresh engine with session 1 open, or one restored from an engine ``snapshot``
        (taken by a venue built this way), ready to apply the next entry."""
        self.module = RfqModule() if module is None else module
        self.engine = Engine([self.module], snapshot=snapshot)
        self.entries: list[LogEntry] = []
        self.applied: list[Applied] = []
        self.now_ns = START_NS if snapshot is None else self.engine.last_timestamp_ns
        self.session_id = 0 if snapshot is None else 1
        self.client_seq = self.engine.sessions.last_client_seq(self.session_id)
        if snapshot is None:
            self.open_session()

    # -- appending and applying entries ---------------------------------------------------

    def entry(self, kind: EntryKind, payload: msgspec.Struct, at_ns: int | None = None
              ) -> LogEntry:
        """The next log entry (not applied); ``at_ns`` defaults to one step later."""
        self.now_ns = self.now_ns + STEP_NS if at_ns is None else at_ns
        index = self.engine.applied_index + 1
        return LogEntry(index, 1, self.now_ns, kind, _encoder.encode(payload))

    def apply(self, entry: LogEntry) -> Applied:
        applied = self.engine.apply(entry)
        self.entries.append(entry)
        self.applied.append(applied)
        self.module._check()
        # Every pending engine timer belongs to this module and has a target, and back.
        assert len(self.engine.timers) == len(self.module._timer_targets)
        return applied

    def open_session(self) -> int:
        applied = self.apply(self.entry(EntryKind.SESSION_OPEN, SessionOpen("rfq-tests")))
        self.session_id = applied.index
        return self.session_id

    def batch_entry(self, *commands: Command, at_ns: int | None = None) -> LogEntry:
        """A COMMAND_BATCH entry carrying ``commands`` on the next sequence numbers."""
        rows = []
        for command in commands:
            self.client_seq += 1
            raw = msgspec.msgpack.encode(command)
            rows.append(ClientCommand(self.session_id, self.client_seq, raw))
        return self.entry(EntryKind.COMMAND_BATCH, CommandBatch(rows), at_ns)

    def send(self, *commands: Command, at_ns: int | None = None) -> list[Event]:
        """Apply one COMMAND_BATCH entry; return the events of all its commands in order."""
        return events_of(self.apply(self.batch_entry(*commands, at_ns=at_ns)))

    def send_one(self, command: Command, at_ns: int | None = None) -> Event:
        """Apply one command that must produce exactly one event, and return that event."""
        events = self.send(command, at_ns=at_ns)
        assert len(events) == 1, events
        return events[0]

    def timer_entry(self, deadline_ns: int) -> LogEntry:
        """A TIMER entry firing every timer due by ``deadline_ns``, stamped as the leader
        stamps it: no earlier than the deadline."""
        at_ns = max(self.now_ns + STEP_NS, deadline_ns)
        return self.entry(EntryKind.TIMER, TimerFire(deadline_ns), at_ns)

    def fire_timers(self, deadline_ns: int) -> list[Event]:
        """Apply a TIMER entry; return the events of the timers it fired, in order."""
        return events_of(self.apply(self.timer_entry(deadline_ns)))

    # -- reading the state ------------------------------------------------------------------

    @property
    def chain_head(self) -> bytes:
        return self.engine.chain.head

    def module_state(self) -> bytes:
        """The module's snapshot bytes: equal before and after means nothing changed."""
        return self.module.take_snapshot()


def events_of(applied: Applied) -> list[Event]:
    return [event for outcome in applied.outcomes for event in outcome.events]


# -- a scripted scenario -------------------------------------------------------------------

MS = 1_000_000  # nanoseconds


def scenario(venue: RfqVenue) -> None:
    """A log that reaches every event type, with timers pending at most positions."""
    venue.send(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "r1", 10 * MS),
               RequestQuote(REQUESTER + 1, INSTRUMENT, Side.SELL, 2, "r2", 4 * MS))
    venue.send(SubmitQuote(DEALER_A, "r1", "a-1", 100, 1 * MS),
               SubmitQuote(DEALER_B, "r1", "b-1", 101, 8 * MS),
               SubmitQuote(DEALER_A, "r2", "a-2", 99, 20 * MS))
    venue.send(SubmitQuote(REQUESTER, "r1", "self", 100, MS))  # rejected
    venue.fire_timers(venue.now_ns + 1 * MS)  # a-1 expires
    venue.send(AcceptQuote(REQUESTER, "r1", "a-1"))  # rejected: expired
    venue.send(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 1, "r3", 10 * MS))
    venue.fire_timers(venue.now_ns + 3 * MS)  # r2 expires, a-2 with it
    venue.send(AcceptQuote(REQUESTER, "r1", "b-1"))  # a trade
    venue.send(SubmitQuote(DEALER_B, "r3", "b-3", 7, 2 * MS), CancelRfq(REQUESTER, "r3"))
    venue.send(RequestQuote(REQUESTER, INSTRUMENT, Side.SELL, 9, "r1", 5 * MS))  # id reused
    venue.send(SubmitQuote(DEALER_A, "r1", "a-4", 50, MS))
    venue.fire_timers(venue.now_ns + 10 * MS)  # everything left expires
