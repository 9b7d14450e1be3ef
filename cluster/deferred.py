"""What a node writes lazily: the events of applied entries and a commit-only hard state.

Raft needs on disk, before a Ready's messages or replies leave, only its new entries, its
term and vote, and a snapshot (``Ready.must_sync``). A Ready that only commits and applies
entries changes none of these: its commit index can be learnt again from the leader, and
the events and chain hashes of the entries it applied are a pure function of the log (a
node that crashed before writing them recomputes them from its snapshot and log at
restart, and checks each against any it had stored). So such a Ready writes nothing: its
records wait here and go to disk with the next Ready that must write anyway (under load,
nearly every Ready), or when this buffer is full, or at the node loop's next tick, or
before a snapshot is recorded or the node stops. In ``fsync`` mode that takes a synced
LMDB commit, two disk flushes, off the path of every reply that waited for it.

Readers of the event store on the node (a subscriber catching up, a resumed session's
replies) read through ``events``, which follows the store with what is still here.
"""

from __future__ import annotations

from collections.abc import Iterator

from .raft import HardState
from .store import DataStore, StoredEvents

EVENTS_UNWRITTEN_MAX_DEFAULT = 4096  # records held before a write is forced

Record = tuple[int, bytes, bytes, int]  # (index, chain hash, events, entry timestamp)


class DeferredWrites:
    def __init__(self, events_unwritten_max: int = EVENTS_UNWRITTEN_MAX_DEFAULT) -> None:
        if events_unwritten_max < 1:
            raise ValueError("events_unwritten_max must be at least 1")
        self.events_unwritten_max = events_unwritten_max
        self.records: list[Record] = []
        self.hard_state: HardState | None = None  # the newest commit-only change unwritten
        self.since_ns = 0  # when what is held now began to be held

    def __bool__(self) -> bool:
        return bool(self.records) or self.hard_state is not None

    def hold(self, records: list[Record], hard_state: HardState | None, now_ns: int) -> None:
        if not self:
            self.since_ns = now_ns  # the oldest held thing's age counts from here
        self.records.extend(records)
        if hard_state is not None:
            self.hard_state = hard_state

    @property
    def full(self) -> bool:
        return len(self.records) >= self.events_unwritten_max

    def taken(self) -> tuple[HardState | None, list[Record]]:
        """What a write about to start takes with it: the newest held hard state and
        every held record (they stay readable here until ``written``)."""
        return self.hard_state, list(self.records)

    def written(self, records: list[Record], hard_state: HardState | None) -> None:
        """A write that took ``records`` (the oldest held) and ``hard_state`` committed. A
        Ready's hard state is never older than one held before it, so any write of one
        leaves nothing held."""
        del self.records[:len(records)]
        if hard_state is not None:
            self.hard_state = None

    def events(self, store: DataStore, lo: int, hi: int | None = None
               ) -> Iterator[StoredEvents]:
        """Event records ``lo``..``hi`` (inclusive; None: to the end): the stored ones,
        then those still held."""
        last = lo - 1
        for record in store.events(lo, hi):
            last = record.index
            yield record
        for index, chain_hash, event_bytes, timestamp_ns in list(self.records):
            if index > last and (hi is None or index <= hi):
                yield StoredEvents(index, chain_hash, event_bytes, timestamp_ns)
