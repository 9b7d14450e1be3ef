"""The storage contract every Raft storage must pass, as a reusable test class.

A durable store subclasses :class:`StorageContract` and provides ``make_storage``: a
factory returning an empty storage, or one starting from a given snapshot, that also has
the write methods of ``MemoryStorage`` (``set_hard_state``, ``append``,
``apply_snapshot``, ``create_snapshot``, ``compact``)::

    class TestLmdbStorage(StorageContract):
        def make_storage(self, snapshot=None):
            return LmdbStorage(self.tmp_path, snapshot)
"""

from __future__ import annotations

from typing import Any

import pytest

from venue.cluster.raft import (
    CompactedError,
    ConfState,
    HardState,
    Snapshot,
    SnapshotMetadata,
    SnapshotOutOfDateError,
    UnavailableError,
    bootstrap_snapshot,
    entry_size_bytes,
)
from venue.codecs import EntryKind, LogEntry

CONF = ConfState((1, 2, 3))


def entry(index: int, term: int, payload: bytes = b"") -> LogEntry:
    return LogEntry(index, term, index * 10, EntryKind.COMMAND_BATCH, payload or b"e%d" % index)


def run(first: int, last: int, term: int) -> list[LogEntry]:
    return [entry(i, term) for i in range(first, last + 1)]


class StorageContract:
    """Base class: subclasses provide ``make_storage(snapshot=None)``."""

    def make_storage(self, snapshot: Snapshot | None = None) -> Any:
        raise NotImplementedError

    def filled(self) -> Any:
        """Bootstrap snapshot at 1, entries 2..6 of term 1."""
        storage = self.make_storage(bootstrap_snapshot(CONF))
        storage.append(run(2, 6, 1))
        return storage

    def test_empty_storage_has_snapshot_zero_and_no_entries(self) -> None:
        storage = self.make_storage()
        assert (storage.first_index(), storage.last_index()) == (1, 0)
        assert storage.term(0) == 0
        assert storage.initial_state() == (HardState(), ConfState())
        assert storage.entries(1, 1, 100) == []

    def test_bootstrapped_storage_reports_members_from_its_snapshot(self) -> None:
        storage = self.make_storage(bootstrap_snapshot(CONF))
        assert storage.initial_state()[1] == CONF
        assert (storage.first_index(), storage.last_index(), storage.term(1)) == (2, 1, 1)

    def test_entries_returns_the_half_open_range(self) -> None:
        storage = self.filled()
        assert storage.entries(3, 5, 1 << 20) == run(3, 4, 1)
        assert storage.entries(2, 7, 1 << 20) == run(2, 6, 1)

    def test_entries_are_size_limited_but_never_empty(self) -> None:
        storage = self.filled()
        one = entry_size_bytes(entry(2, 1))
        assert storage.entries(2, 7, 0) == run(2, 2, 1)
        assert storage.entries(2, 7, 2 * one) == run(2, 3, 1)
        assert storage.entries(2, 7, 2 * one + 1) == run(2, 3, 1)

    def test_entries_below_first_index_raise_compacted(self) -> None:
        with pytest.raises(CompactedError):
            self.filled().entries(1, 3, 1 << 20)

    def test_entries_beyond_last_index_raise_unavailable(self) -> None:
        with pytest.raises(UnavailableError):
            self.filled().entries(5, 8, 1 << 20)

    def test_term_answers_from_the_snapshot_index_to_the_last_index(self) -> None:
        storage = self.filled()
        assert [storage.term(i) for i in range(1, 7)] == [1] * 6
        with pytest.raises(CompactedError):
            storage.term(0)
        with pytest.raises(UnavailableError):
            storage.term(7)

    def test_append_replaces_a_conflicting_suffix(self) -> None:
        storage = self.filled()
        storage.append(run(4, 5, 2))
        assert storage.entries(2, storage.last_index() + 1, 1 << 20) == [
            *run(2, 3, 1), *run(4, 5, 2)]
        assert storage.last_index() == 5

    def test_append_ignores_entries_at_or_before_the_compaction_point(self) -> None:
        storage = self.filled()
        storage.create_snapshot(4, CONF, b"s4")
        storage.compact(4)
        storage.append(run(3, 7, 1))
        assert (storage.first_index(), storage.last_index()) == (5, 7)
        assert storage.entries(5, 8, 1 << 20) == run(5, 7, 1)

    def test_append_with_a_gap_is_refused(self) -> None:
        with pytest.raises(ValueError, match="gap"):
            self.filled().append(run(8, 9, 1))

    def test_hard_state_round_trips(self) -> None:
        storage = self.filled()
        storage.set_hard_state(HardState(3, 2, 5))
        assert storage.initial_state()[0] == HardState(3, 2, 5)

    def test_create_snapshot_records_index_term_membership_and_data(self) -> None:
        storage = self.filled()
        snapshot = storage.create_snapshot(5, ConfState((1, 2), (3,)), b"state")
        assert snapshot == storage.snapshot()
        assert (snapshot.index, snapshot.term, snapshot.data) == (5, 1, b"state")
        assert snapshot.metadata.timestamp_ns == entry(5, 1).timestamp_ns
        assert snapshot.metadata.conf_state == ConfState((1, 2), (3,))

    def test_create_snapshot_older_than_the_held_one_is_refused(self) -> None:
        storage = self.filled()
        storage.create_snapshot(5, CONF, b"")
        with pytest.raises(SnapshotOutOfDateError):
            storage.create_snapshot(4, CONF, b"")

    def test_compact_discards_entries_up_to_the_index_and_keeps_its_term(self) -> None:
        storage = self.filled()
        storage.create_snapshot(4, CONF, b"")
        storage.compact(4)
        assert (storage.first_index(), storage.last_index(), storage.term(4)) == (5, 6, 1)
        with pytest.raises(CompactedError):
            storage.entries(4, 6, 1 << 20)
        with pytest.raises(CompactedError):
            storage.compact(3)

    def test_compact_beyond_the_snapshot_is_refused(self) -> None:
        storage = self.filled()
        with pytest.raises(ValueError, match="snapshot"):
            storage.compact(4)

    def test_apply_snapshot_replaces_the_log(self) -> None:
        storage = self.filled()
        snapshot = Snapshot(SnapshotMetadata(10, 3, ConfState((1, 2))), b"ten")
        storage.apply_snapshot(snapshot)
        assert (storage.first_index(), storage.last_index(), storage.term(10)) == (11, 10, 3)
        assert storage.snapshot() == snapshot
        assert storage.initial_state()[1] == ConfState((1, 2))
        storage.append(run(11, 12, 3))
        assert storage.last_index() == 12

    def test_apply_snapshot_older_than_the_held_one_is_refused(self) -> None:
        storage = self.filled()
        storage.create_snapshot(5, CONF, b"")
        with pytest.raises(SnapshotOutOfDateError):
            storage.apply_snapshot(Snapshot(SnapshotMetadata(4, 1, CONF)))
