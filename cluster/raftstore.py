"""Raft's storage in LMDB: the same contract as ``MemoryStorage``, durable.

It lives in a node's ``DataStore`` (the ``log`` sub-database, checksummed records) and adds,
in the ``meta`` sub-database, the hard state, the latest snapshot and the compaction point.
``persist`` writes everything one ``Ready`` hands the node loop (snapshot, entries, hard
state) in ONE transaction, synced in ``fsync`` mode (in ``replicated`` mode only when the
term or vote changed), before the loop sends any message.

The terms of the stored entries are cached in memory (8 bytes an entry, bounded by
compaction) because Raft asks for terms far more often than for entries.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import lmdb
import msgspec

from venue.codecs import LogEntry

from .raft import (
    ConfState,
    HardState,
    Snapshot,
    SnapshotMetadata,
)
from .raft.messages import limit_size
from .raft.storage import (
    check_compaction,
    check_entries_range,
    check_newer_snapshot,
    check_term_index,
)
from .store import KEY, DataStore, Durability, LogCorruptError, seal, unseal

_HARD_STATE = b"raft_hard_state"
_SNAPSHOT = b"raft_snapshot"
_OFFSET = b"raft_offset"  # (index, term) of the compaction point
_SNAPSHOT_IN_FILE = b"raft_snapshot_in_file"  # the data is the node's snapshot file
_encoder = msgspec.msgpack.Encoder()
_entry_decoder = msgspec.msgpack.Decoder(LogEntry)


class LmdbRaftStorage:
    """Durable Raft storage; ``snapshot`` initialises a directory that holds none yet."""

    def __init__(self, store: DataStore, snapshot: Snapshot | None = None) -> None:
        self.store = store
        with store.begin() as txn:
            stored = txn.get(_SNAPSHOT, db=store.meta_db)
        if stored is None:
            if store.last_index():
                raise LogCorruptError("log", store.last_index(), "entries without Raft state")
            initial = snapshot or Snapshot(SnapshotMetadata(0, 0, ConfState()))
            with store.begin(write=True) as txn:
                self._put_snapshot(txn, initial)
                self._put(txn, _OFFSET, (initial.index, initial.term))
                self._put(txn, _HARD_STATE, HardState())
        self._load()

    def _load(self) -> None:
        meta = self.store.meta_db
        with self.store.begin() as txn:
            self._snapshot = msgspec.msgpack.decode(
                unseal("meta", 0, txn.get(_SNAPSHOT, db=meta)), type=Snapshot)
            self._offset_index, self._offset_term = msgspec.msgpack.decode(
                unseal("meta", 0, txn.get(_OFFSET, db=meta)), type=tuple[int, int])
            self._hard_state = msgspec.msgpack.decode(
                unseal("meta", 0, txn.get(_HARD_STATE, db=meta)), type=HardState)
            self._snapshot_in_file = txn.get(_SNAPSHOT_IN_FILE, db=meta) is not None
        self._terms = [entry.term for entry in self.store.entries(self._offset_index + 1)]

    def _put(self, txn: lmdb.Transaction, key: bytes, value: object) -> None:
        txn.put(key, seal(_encoder.encode(value)), db=self.store.meta_db)

    def _put_snapshot(self, txn: lmdb.Transaction, snapshot: Snapshot) -> None:
        self._put(txn, _SNAPSHOT, snapshot)

    # -- read side -----------------------------------------------------------------------

    def initial_state(self) -> tuple[HardState, ConfState]:
        return self._hard_state, self._snapshot.metadata.conf_state

    def entries(self, lo: int, hi: int, max_size_bytes: int) -> list[LogEntry]:
        check_entries_range(lo, hi, self.first_index(), self.last_index())
        if lo == hi:
            return []
        return limit_size(list(self.store.entries(lo, hi - 1)), max_size_bytes)

    def term(self, index: int) -> int:
        check_term_index(index, self.first_index(), self.last_index())
        if index == self._offset_index:
            return self._offset_term
        return self._terms[index - self._offset_index - 1]

    def first_index(self) -> int:
        return self._offset_index + 1

    def last_index(self) -> int:
        return self._offset_index + len(self._terms)

    def snapshot(self) -> Snapshot:
        """The latest snapshot. One the node took itself lives in its snapshot file (it can
        be large: it is read only when a follower needs it)."""
        if self._snapshot_in_file:
            return Snapshot(self._snapshot.metadata,
                            self.store.read_snapshot(self._snapshot.index))
        return self._snapshot

    def snapshot_metadata(self) -> SnapshotMetadata:
        return self._snapshot.metadata

    # -- write side ----------------------------------------------------------------------

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    def persist(self, hard_state: HardState | None, entries: Sequence[LogEntry],
                snapshot: Snapshot | None = None,
                event_records: Sequence[tuple[int, bytes, bytes]] = ()) -> None:
        """Everything of one Ready, in one transaction: snapshot, then entries, then hard
        state, and the node's ``event_records`` for the entries it applied (one synced
        commit per Ready, not two). In-memory views change only after the commit
        succeeded."""
        self.publish(self.write(hard_state, entries, snapshot, event_records))

    def write(self, hard_state: HardState | None, entries: Sequence[LogEntry],
              snapshot: Snapshot | None = None,
              event_records: Sequence[tuple[int, bytes, bytes]] = ()) -> tuple:
        """The transaction of ``persist`` alone: it reads the in-memory views but changes
        none of them, so it may run in a worker thread while the node loop goes on reading
        (LMDB readers see the last committed state). Hand the result to ``publish``."""
        if snapshot is not None:
            check_newer_snapshot(snapshot.index, self._snapshot.index)
        offset = (snapshot.index, snapshot.term) if snapshot else (self._offset_index,
                                                                   self._offset_term)
        known = 0 if snapshot else len(self._terms)
        with self.store.begin(write=True) as txn:
            if snapshot is not None:
                self._put_snapshot(txn, snapshot)
                txn.delete(_SNAPSHOT_IN_FILE, db=self.store.meta_db)
                self._put(txn, _OFFSET, offset)
                self._delete_from(txn, 0)
            terms = self._append(txn, entries, offset[0], known)
            if hard_state is not None:
                self._put(txn, _HARD_STATE, hard_state)
            if event_records:
                self.store.put_events_in(txn, event_records)
        if self.store.durability is Durability.REPLICATED and hard_state is not None and (
                hard_state.term, hard_state.vote) != (self._hard_state.term, self._hard_state.vote):
            # A forgotten vote could elect two leaders in one term, which no durability mode
            # allows: term and vote are synced at once in replicated mode too.
            self.store.sync()
        return hard_state, snapshot, offset, terms

    def publish(self, written: tuple) -> None:
        """Make a committed ``write`` visible (on the node loop's thread)."""
        hard_state, snapshot, offset, (kept, appended) = written
        if snapshot is not None:
            self._snapshot = snapshot
            self._snapshot_in_file = False
            self._offset_index, self._offset_term = offset
            self._terms = []
        elif offset[0] != self._offset_index:
            raise AssertionError("the log was compacted while a write was in flight")
        del self._terms[kept:]  # a conflicting suffix the write replaced
        self._terms.extend(appended)
        if hard_state is not None:
            self._hard_state = hard_state

    def _append(self, txn: lmdb.Transaction, entries: Sequence[LogEntry], offset_index: int,
                known: int) -> tuple[int, list[int]]:
        """Write ``entries`` after the ``known`` ones past ``offset_index``; return how many
        of those stay and the terms appended after them (O(len(entries)): the in-memory
        term list is not copied)."""
        if not entries:
            return known, []
        for before, after in itertools.pairwise(entries):
            if after.index != before.index + 1:
                raise ValueError(f"entries not consecutive: {before.index} then {after.index}")
        last = offset_index + known
        first = entries[0].index
        if first > last + 1:
            raise ValueError(f"gap: appending index {first} after last index {last}")
        entries = [entry for entry in entries if entry.index > offset_index]
        if not entries:
            return known, []
        first = entries[0].index
        if first <= last:
            self._delete_from(txn, first)
        log = self.store.log_db
        for entry in entries:
            txn.put(KEY.pack(entry.index), seal(_encoder.encode(entry)), db=log)
        return first - offset_index - 1, [entry.term for entry in entries]

    def _delete_from(self, txn: lmdb.Transaction, index: int) -> None:
        cursor = txn.cursor(db=self.store.log_db)
        if cursor.set_range(KEY.pack(index)):
            while cursor.delete():
                pass

    def set_hard_state(self, hard_state: HardState) -> None:
        self.persist(hard_state, ())

    def append(self, entries: Sequence[LogEntry]) -> None:
        """Append, discarding a conflicting suffix; entries at or before the compaction
        point are ignored. O(len(entries) + truncated)."""
        self.persist(None, entries)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Replace the whole log with ``snapshot`` (a follower catching up)."""
        self.persist(None, (), snapshot)

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes,
                        in_file: bool = False) -> Snapshot:
        """Record the application's snapshot taken after applying entry ``index``. With
        ``in_file`` the data is not copied into LMDB: it is the node's snapshot file for
        ``index`` (already written and synced), read back when a follower needs it."""
        check_newer_snapshot(index, self._snapshot.index)
        if index > self.last_index():
            raise ValueError(f"snapshot index {index} is beyond last index {self.last_index()}")
        if index == self._offset_index:
            timestamp_ns = self._snapshot.metadata.timestamp_ns
        else:
            entry = self.store.entry(index)
            timestamp_ns = entry.timestamp_ns if entry is not None else 0
        metadata = SnapshotMetadata(index, self.term(index), conf_state, timestamp_ns)
        snapshot = Snapshot(metadata, b"" if in_file else data)
        with self.store.begin(write=True) as txn:
            self._put_snapshot(txn, snapshot)
            if in_file:
                txn.put(_SNAPSHOT_IN_FILE, b"1", db=self.store.meta_db)
            else:
                txn.delete(_SNAPSHOT_IN_FILE, db=self.store.meta_db)
        self._snapshot = snapshot
        self._snapshot_in_file = in_file
        return snapshot

    def compact(self, index: int) -> None:
        """Discard entries up to and including ``index`` (covered by the snapshot)."""
        check_compaction(index, self._offset_index, self._snapshot.index)
        term = self.term(index)
        with self.store.begin(write=True) as txn:
            cursor = txn.cursor(db=self.store.log_db)
            if cursor.first():
                while cursor.key() and KEY.unpack(cursor.key())[0] <= index:
                    if not cursor.delete():
                        break
            self._put(txn, _OFFSET, (index, term))
        del self._terms[:index - self._offset_index]
        self._offset_index, self._offset_term = index, term
