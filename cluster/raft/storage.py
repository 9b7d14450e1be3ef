"""The storage contract Raft reads through, and an in-memory implementation for tests.

The core never writes to storage: the node loop persists what a ``Ready`` hands it (hard
state, entries, snapshot) and compacts the log after the engine takes a snapshot. Raft only
reads, through :class:`Storage`. A durable store (LMDB) implements the same read side plus
the write methods of :class:`MemoryStorage`; ``tests/raft/storage_contract.py`` holds the
tests every implementation must pass.

Index ranges: storage holds a snapshot at ``first_index() - 1`` (index 0, term 0 for an
empty log) and entries ``first_index() .. last_index()``. ``term()`` answers for the
snapshot index and every stored entry.
"""

from __future__ import annotations

import itertools
from typing import Protocol

from venue.codecs import LogEntry

from .messages import ConfState, HardState, Snapshot, SnapshotMetadata, limit_size


class StorageError(Exception):
    """Base class of the errors a storage may raise to Raft."""


class CompactedError(StorageError):
    """The requested index lies at or before the compaction point; use the snapshot."""


class UnavailableError(StorageError):
    """The requested index lies beyond the last stored entry."""


class SnapshotOutOfDateError(StorageError):
    """The snapshot offered is older than the one already held."""


class Storage(Protocol):
    """What Raft reads. Every method is a query; none may change what the others answer."""

    def initial_state(self) -> tuple[HardState, ConfState]:
        """The persisted hard state and the membership as of the latest snapshot."""
        ...

    def entries(self, lo: int, hi: int, max_size_bytes: int) -> list[LogEntry]:
        """Entries ``lo <= index < hi``, truncated to ``max_size_bytes`` (estimate of
        :func:`entry_size_bytes`) but never to fewer than one entry if ``lo < hi``.
        Raises :class:`CompactedError` if ``lo < first_index()`` and
        :class:`UnavailableError` if ``hi > last_index() + 1``."""
        ...

    def term(self, index: int) -> int:
        """The term of the entry at ``index``, for ``first_index() - 1 <= index <=
        last_index()``; :class:`CompactedError` below, :class:`UnavailableError` above."""
        ...

    def first_index(self) -> int:
        """Index of the first stored entry (snapshot index + 1)."""
        ...

    def last_index(self) -> int:
        """Index of the last stored entry (the snapshot index if there are none)."""
        ...

    def snapshot(self) -> Snapshot:
        """The most recent snapshot."""
        ...

    def snapshot_metadata(self) -> SnapshotMetadata:
        """The most recent snapshot's metadata (cheap: no data is read)."""
        ...


def check_entries_range(lo: int, hi: int, first_index: int, last_index: int) -> None:
    """The range checks of :meth:`Storage.entries`, shared by every implementation."""
    if lo > hi:
        raise ValueError(f"invalid range: lo {lo} > hi {hi}")
    if lo < first_index:
        raise CompactedError(f"index {lo} is compacted (first index {first_index})")
    if hi > last_index + 1:
        raise UnavailableError(f"index {hi - 1} is beyond last index {last_index}")


def check_term_index(index: int, first_index: int, last_index: int) -> None:
    """The range checks of :meth:`Storage.term` (the snapshot index is answerable)."""
    if index < first_index - 1:
        raise CompactedError(f"index {index} is compacted (first index {first_index})")
    if index > last_index:
        raise UnavailableError(f"index {index} is beyond last index {last_index}")


def check_newer_snapshot(index: int, held_index: int) -> None:
    if index <= held_index:
        raise SnapshotOutOfDateError(f"snapshot at {index} is not newer than the held one "
                                     f"at {held_index}")


def check_compaction(index: int, offset_index: int, snapshot_index: int) -> None:
    """Only entries a snapshot covers may go, so a lagging follower can be caught up."""
    if index <= offset_index:
        raise CompactedError(f"index {index} is already compacted")
    if index > snapshot_index:
        raise ValueError(f"cannot compact to {index}: the latest snapshot is at "
                         f"{snapshot_index}; take a snapshot first")


BOOTSTRAP_INDEX = 1
BOOTSTRAP_TERM = 1


def bootstrap_snapshot(conf_state: ConfState, data: bytes = b"") -> Snapshot:
    """The snapshot every founding member of a new cluster starts from: index 1, term 1,
    naming the initial members; ``data`` is the application's initial state (empty bytes
    for "fresh").

    Membership lives in snapshots and CONFIG_CHANGE entries only, so it must never predate
    the log: starting at index 1 (not 0) means the log proper begins at index 2, and a node
    that joins later with empty storage is always sent this (or a later) snapshot first,
    learning the membership it would otherwise miss.
    """
    if not conf_state.voters:
        raise ValueError("a new cluster needs at least one voter")
    return Snapshot(SnapshotMetadata(BOOTSTRAP_INDEX, BOOTSTRAP_TERM, conf_state), data)


class MemoryStorage:
    """:class:`Storage` in a Python list, with the write methods a node loop uses.

    ``MemoryStorage()`` is an empty node (one that will join an existing cluster);
    ``MemoryStorage.bootstrap(conf_state)`` a founding member of a new cluster;
    ``MemoryStorage(snapshot)`` a node starting from a snapshot.
    """

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        if snapshot is None:
            snapshot = Snapshot(SnapshotMetadata(0, 0, ConfState()))
        self._hard_state = HardState()
        self._snapshot = snapshot
        self._offset_index = snapshot.index  # compaction point: term known, entry gone
        self._offset_term = snapshot.term
        self._entries: list[LogEntry] = []  # index offset+1 onwards

    @classmethod
    def bootstrap(cls, conf_state: ConfState, data: bytes = b"") -> MemoryStorage:
        """A founding member of a new cluster (see :func:`bootstrap_snapshot`)."""
        return cls(bootstrap_snapshot(conf_state, data))

    # -- read side ---------------------------------------------------------------------

    def initial_state(self) -> tuple[HardState, ConfState]:
        return self._hard_state, self._snapshot.metadata.conf_state

    def entries(self, lo: int, hi: int, max_size_bytes: int) -> list[LogEntry]:
        check_entries_range(lo, hi, self.first_index(), self.last_index())
        start = lo - self._offset_index - 1
        return limit_size(self._entries[start:hi - self._offset_index - 1], max_size_bytes)

    def term(self, index: int) -> int:
        check_term_index(index, self.first_index(), self.last_index())
        if index == self._offset_index:
            return self._offset_term
        return self._entries[index - self._offset_index - 1].term

    def first_index(self) -> int:
        return self._offset_index + 1

    def last_index(self) -> int:
        return self._offset_index + len(self._entries)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def snapshot_metadata(self) -> SnapshotMetadata:
        return self._snapshot.metadata

    # -- write side --------------------------------------------------------------------

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    def set_hard_state(self, hard_state: HardState) -> None:
        self._hard_state = hard_state

    def append(self, entries: list[LogEntry] | tuple[LogEntry, ...]) -> None:
        """Append ``entries`` (consecutive indexes), first discarding any stored entries at
        or after ``entries[0].index`` (a conflicting suffix). Entries at or before the
        compaction point are ignored. O(len(entries) + truncated)."""
        if not entries:
            return
        for before, after in itertools.pairwise(entries):
            if after.index != before.index + 1:
                raise ValueError(f"entries not consecutive: {before.index} then {after.index}")
        first = entries[0].index
        if first > self.last_index() + 1:
            raise ValueError(f"gap: appending index {first} after last index "
                             f"{self.last_index()}")
        if entries[-1].index <= self._offset_index:
            return
        if first <= self._offset_index:
            entries = entries[self._offset_index + 1 - first:]
            first = self._offset_index + 1
        del self._entries[first - self._offset_index - 1:]
        self._entries.extend(entries)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Replace the whole log with ``snapshot`` (a follower catching up)."""
        check_newer_snapshot(snapshot.index, self._snapshot.index)
        self._snapshot = snapshot
        self._offset_index = snapshot.index
        self._offset_term = snapshot.term
        self._entries = []

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record the application's snapshot taken after applying entry ``index``.

        ``conf_state`` must be the membership as of ``index``."""
        check_newer_snapshot(index, self._snapshot.index)
        if index > self.last_index():
            raise ValueError(f"snapshot index {index} is beyond last index {self.last_index()}")
        metadata = SnapshotMetadata(index, self.term(index), conf_state,
                                    self._timestamp_at(index))
        self._snapshot = Snapshot(metadata, data)
        return self._snapshot

    def _timestamp_at(self, index: int) -> int:
        if index == self._offset_index:
            return self._snapshot.metadata.timestamp_ns
        return self._entries[index - self._offset_index - 1].timestamp_ns

    def compact(self, index: int) -> None:
        """Discard entries up to and including ``index``. Only entries a snapshot covers may
        go, so a lagging follower can always be caught up."""
        check_compaction(index, self._offset_index, self._snapshot.index)
        self._offset_term = self.term(index)
        del self._entries[:index - self._offset_index]
        self._offset_index = index
