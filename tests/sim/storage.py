"""Raft storage with a crash model: what was synced survives a crash, what was only written
may not.

Writes go to ``live`` (a ``MemoryStorage``, what Raft reads: the page cache) and are queued
as unsynced operations. ``sync()`` makes them durable by replaying them onto ``durable``.
``crash()`` keeps the durable state plus a random prefix of the unsynced operations (the
OS may have flushed some of them) and rebuilds ``live`` from that.

Two durability modes (DESIGN §3):

- ``fsync``: the node loop syncs at the persist step of every Ready with ``must_sync`` (new
  entries, term or vote), so only a Ready that changes nothing but the commit index may
  lose that change, which Raft tolerates.
- ``replicated``: entries are acknowledged from memory and synced by a background flush
  every ``flush_interval_steps``; a change of term or vote is still synced at once (a
  forgotten vote would allow two leaders in one term, which no mode promises to allow).
  A crash may lose entries the node acknowledged, so it restarts recovering
  (cluster/raft/recovery.py). The faults keep the voters neither down nor recovering a
  majority; ``powerloss.py`` is the history where they are not, and says what the checker
  then allows to be lost.

In both modes engine snapshots and log compaction are written synced (the snapshot file is
fsynced before the log is cut).
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from venue.cluster.raft import ConfState, HardState, MemoryStorage, Ready, Snapshot

DURABILITY_MODES = ("fsync", "replicated")
Operation = Callable[[MemoryStorage], None]


def _copy(storage: MemoryStorage) -> MemoryStorage:
    copy = MemoryStorage(storage.snapshot())
    copy.set_hard_state(storage.hard_state)
    first, last = storage.first_index(), storage.last_index()
    if last >= first:
        copy.append(storage.entries(first, last + 1, 1 << 62))
    return copy


class SimStorage:
    """One node's disk. ``live`` is what its RawNode reads."""

    def __init__(self, conf_state: ConfState | None, durability: str = "fsync") -> None:
        """A founding member of ``conf_state``, or (None) an empty node that joins later."""
        if durability not in DURABILITY_MODES:
            raise ValueError(f"durability must be one of {DURABILITY_MODES}")
        self.durability = durability
        self.durable = MemoryStorage.bootstrap(conf_state) if conf_state else MemoryStorage()
        self.live = _copy(self.durable)
        self.unsynced: list[Operation] = []
        self.sync_count = 0

    def _write(self, operation: Operation) -> None:
        operation(self.live)
        self.unsynced.append(operation)

    def persist(self, ready: Ready, sync: bool = True) -> None:
        """Step 1 of a Ready: hard state, snapshot and entries, written as one transaction
        (a crash keeps all of it or none); synced as the durability mode says (``sync``
        False: the caller syncs later)."""
        hard_state, snapshot, entries = ready.hard_state, ready.snapshot, ready.entries

        def transaction(storage: MemoryStorage) -> None:
            if hard_state is not None:
                storage.set_hard_state(hard_state)
            if snapshot is not None:
                storage.apply_snapshot(snapshot)
            storage.append(entries)

        vote_changed = hard_state is not None and (hard_state.term, hard_state.vote) != (
            self.live.hard_state.term, self.live.hard_state.vote)
        self._write(transaction)
        if sync and (ready.must_sync if self.durability == "fsync" else vote_changed):
            self.sync()

    def sync(self) -> None:
        for operation in self.unsynced:
            operation(self.durable)
        self.unsynced = []
        self.sync_count += 1

    def save_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record an engine snapshot taken at ``index`` and compact the log up to it."""
        self.sync()
        snapshot = self.live.create_snapshot(index, conf_state, data)
        self.live.compact(index)
        self.durable.create_snapshot(index, conf_state, data)
        self.durable.compact(index)
        return snapshot

    def crash(self, rng: Random) -> int:
        """Lose power: keep the durable state and a random prefix of the unsynced
        transactions.
        Returns how many unsynced writes were lost."""
        kept = rng.randrange(len(self.unsynced) + 1)
        for operation in self.unsynced[:kept]:
            operation(self.durable)
        lost = len(self.unsynced) - kept
        self.unsynced = []
        self.live = _copy(self.durable)
        return lost

    @property
    def hard_state(self) -> HardState:
        return self.live.hard_state
