"""The Raft log as the core sees it: stable entries in storage plus an unstable tail.

``Unstable`` holds entries (and at most one incoming snapshot) that the core has accepted
but the node loop has not yet persisted; ``RaftLog`` presents storage and the unstable tail
as one log and tracks the commit and apply positions.
"""

from __future__ import annotations

from venue.codecs import LogEntry

from .messages import Snapshot, SnapshotMetadata, limit_size
from .storage import CompactedError, Storage, StorageError, UnavailableError


class Unstable:
    """Entries from ``offset`` onwards not yet persisted, and a snapshot not yet persisted."""

    def __init__(self, offset: int) -> None:
        self.snapshot: Snapshot | None = None
        self.entries: list[LogEntry] = []
        self.offset = offset

    def maybe_first_index(self) -> int | None:
        return None if self.snapshot is None else self.snapshot.index + 1

    def maybe_last_index(self) -> int | None:
        if self.entries:
            return self.offset + len(self.entries) - 1
        return None if self.snapshot is None else self.snapshot.index

    def maybe_term(self, index: int) -> int | None:
        if index < self.offset:
            if self.snapshot is not None and self.snapshot.index == index:
                return self.snapshot.term
            return None
        last = self.maybe_last_index()
        if last is None or index > last:
            return None
        return self.entries[index - self.offset].term

    def stable_to(self, index: int, term: int) -> None:
        """Entries up to ``index`` were persisted, if the entry there still has ``term``
        (it may have been replaced by a new leader's entry since the Ready was taken)."""
        if self.maybe_term(index) == term and index >= self.offset:
            del self.entries[:index + 1 - self.offset]
            self.offset = index + 1

    def stable_snap_to(self, index: int) -> None:
        if self.snapshot is not None and self.snapshot.index == index:
            self.snapshot = None

    def restore(self, snapshot: Snapshot) -> None:
        self.offset = snapshot.index + 1
        self.entries = []
        self.snapshot = snapshot

    def truncate_and_append(self, entries: list[LogEntry]) -> None:
        after = entries[0].index
        if after == self.offset + len(self.entries):
            self.entries.extend(entries)
        elif after <= self.offset:
            self.offset = after  # replace everything unstable; storage is cut on persist
            self.entries = list(entries)
        else:
            del self.entries[after - self.offset:]
            self.entries.extend(entries)

    def slice(self, lo: int, hi: int) -> list[LogEntry]:
        if lo < self.offset or hi > self.offset + len(self.entries):
            raise AssertionError(f"unstable slice [{lo}, {hi}) out of bound "
                                 f"[{self.offset}, {self.offset + len(self.entries)})")
        return self.entries[lo - self.offset:hi - self.offset]


class RaftLog:
    """Storage plus the unstable tail, with ``committed`` and ``applied`` positions.

    Invariant: ``applied <= committed <= last_index()``; ``first_index() - 1 <= committed``.
    """

    def __init__(self, storage: Storage, committed_size_per_ready_bytes_max: int) -> None:
        self.storage = storage
        self.unstable = Unstable(storage.last_index() + 1)
        self.committed = storage.first_index() - 1
        self.applied = storage.first_index() - 1
        self.committed_size_per_ready_bytes_max = committed_size_per_ready_bytes_max

    def first_index(self) -> int:
        index = self.unstable.maybe_first_index()
        return self.storage.first_index() if index is None else index

    def last_index(self) -> int:
        index = self.unstable.maybe_last_index()
        return self.storage.last_index() if index is None else index

    def term(self, index: int) -> int:
        """Term at ``index``; raises CompactedError/UnavailableError outside the log."""
        if index < self.first_index() - 1:
            raise CompactedError(f"index {index} is compacted")
        if index > self.last_index():
            raise UnavailableError(f"index {index} is beyond last index {self.last_index()}")
        term = self.unstable.maybe_term(index)
        return self.storage.term(index) if term is None else term

    def term_or_zero(self, index: int) -> int:
        try:
            return self.term(index)
        except StorageError:
            return 0

    def last_term(self) -> int:
        return self.term(self.last_index())

    def match_term(self, index: int, term: int) -> bool:
        try:
            return self.term(index) == term
        except StorageError:
            return False

    def is_up_to_date(self, last_index: int, term: int) -> bool:
        """Whether a log ending at (``last_index``, ``term``) is at least as up to date as
        ours (Raft §5.4.1)."""
        our_term = self.last_term()
        return term > our_term or (term == our_term and last_index >= self.last_index())

    def find_conflict(self, entries: tuple[LogEntry, ...] | list[LogEntry]) -> int:
        """Index of the first entry whose term differs from ours (or that we lack), else 0."""
        for entry in entries:
            if not self.match_term(entry.index, entry.term):
                return entry.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The largest ``i <= index`` whose term is ``<= term``, with that term: the last
        entry that could match a log whose entry at ``index`` has ``term``."""
        while index > 0:
            try:
                our_term = self.term(index)
            except StorageError:
                return index, 0
            if our_term <= term:
                return index, our_term
            index -= 1
        return 0, 0

    def maybe_append(self, index: int, log_term: int, committed: int,
                     entries: tuple[LogEntry, ...]) -> int | None:
        """Follower side of AppendEntries: if our entry at ``index`` has ``log_term``, append
        ``entries`` (dropping a conflicting suffix), advance commit and return the last new
        index; else None."""
        if not self.match_term(index, log_term):
            return None
        last_new = index + len(entries)
        conflict = self.find_conflict(entries)
        if conflict:
            if conflict <= self.committed:
                raise AssertionError(f"entry {conflict} conflicts with committed entry "
                                     f"(committed {self.committed})")
            self.append(list(entries[conflict - index - 1:]))
        self.commit_to(min(committed, last_new))
        return last_new

    def append(self, entries: list[LogEntry]) -> int:
        if entries:
            if entries[0].index - 1 < self.committed:
                raise AssertionError(f"appending at {entries[0].index} would overwrite "
                                     f"committed entries (committed {self.committed})")
            self.unstable.truncate_and_append(entries)
        return self.last_index()

    def commit_to(self, index: int) -> None:
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError(f"commit {index} is beyond last index {self.last_index()}")
            self.committed = index

    def maybe_commit(self, index: int, term: int) -> bool:
        """Commit up to ``index`` if the entry there is of ``term`` (Raft §5.4.2: only
        current-term entries are committed by counting replicas)."""
        if index > self.committed and self.term_or_zero(index) == term:
            self.commit_to(index)
            return True
        return False

    def applied_to(self, index: int) -> None:
        if index > self.committed or index < self.applied:
            raise AssertionError(f"applied {index} outside [{self.applied}, {self.committed}]")
        self.applied = index

    def stable_to(self, index: int, term: int) -> None:
        self.unstable.stable_to(index, term)

    def stable_snap_to(self, index: int) -> None:
        self.unstable.stable_snap_to(index)

    def restore(self, snapshot: Snapshot) -> None:
        """Replace the log with ``snapshot`` (follower installing a leader's snapshot)."""
        self.committed = snapshot.index
        self.unstable.restore(snapshot)

    def snapshot(self) -> Snapshot:
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot
        return self.storage.snapshot()

    def snapshot_metadata(self) -> SnapshotMetadata:
        """The latest snapshot's metadata, without its (possibly large) data."""
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot.metadata
        return self.storage.snapshot_metadata()

    def unstable_entries(self) -> list[LogEntry]:
        return list(self.unstable.entries)

    def has_next_committed_entries(self) -> bool:
        return self.committed + 1 > max(self.applied + 1, self.first_index())

    def next_committed_entries(self) -> list[LogEntry]:
        """Committed entries not yet applied, bounded by the per-Ready size limit."""
        lo = max(self.applied + 1, self.first_index())
        if self.committed + 1 <= lo:
            return []
        return self.slice(lo, self.committed + 1, self.committed_size_per_ready_bytes_max)

    def entries_from(self, lo: int, max_size_bytes: int) -> list[LogEntry]:
        if lo > self.last_index():
            return []
        return self.slice(lo, self.last_index() + 1, max_size_bytes)

    def slice(self, lo: int, hi: int, max_size_bytes: int) -> list[LogEntry]:
        """Entries ``[lo, hi)`` from storage and the unstable tail, size-limited."""
        if lo < self.first_index():
            raise CompactedError(f"index {lo} is compacted")
        if hi > self.last_index() + 1:
            raise UnavailableError(f"index {hi - 1} is beyond last index {self.last_index()}")
        if lo == hi:
            return []
        entries: list[LogEntry] = []
        offset = self.unstable.offset
        if lo < offset:
            stored_hi = min(hi, offset)
            entries = self.storage.entries(lo, stored_hi, max_size_bytes)
            if len(entries) < stored_hi - lo:
                return entries  # storage stopped at the size limit
        if hi > offset:
            entries = entries + self.unstable.slice(max(lo, offset), hi)
        return limit_size(entries, max_size_bytes)

    def all_entries(self) -> list[LogEntry]:
        """Every entry held (for tests and tools). O(n)."""
        return self.entries_from(self.first_index(), 1 << 62)
