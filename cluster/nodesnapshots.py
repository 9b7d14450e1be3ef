"""Snapshots and retention of a ``NodeCore`` (its mixin): when to take one, taking it in a
forked child or in the loop, recording it in Raft's storage, and pruning the log and the
event store behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .raft import ConfState

if TYPE_CHECKING:
    from .nodecore import NodeCore


class Snapshotting:
    @property
    def snapshot_running(self: NodeCore) -> bool:
        """A forked child is still writing a background snapshot."""
        return self._snapshot_child.running

    def _maybe_snapshot(self: NodeCore) -> None:
        if self._snapshot_child.running:
            self._finish_snapshot(self._snapshot_child.poll())
            return
        settings = self.settings
        if (self.engine.applied_index - self._last_snapshot_index
                >= settings.snapshot_interval_entries
                or self.applied_bytes_since_snapshot >= settings.snapshot_interval_bytes):
            self.take_snapshot()

    def finish_snapshot(self: NodeCore) -> None:
        """Wait for a background snapshot's child and record its snapshot (before the
        store closes, so that a clean stop leaves no child writing behind it)."""
        if self._snapshot_child.running:
            self._finish_snapshot(self._snapshot_child.poll(block=True))

    def take_snapshot(self: NodeCore, background: bool | None = None) -> int:
        """Snapshot the engine at its applied index: the snapshot file, then Raft's
        storage (which reads the file when a follower needs it), then retention. In the
        background (the default where ``fork`` exists) a forked child serialises a
        copy-on-write image while this process goes on applying; it is recorded when the
        child has written and synced the file. Returns the index, 0 if nothing new or a
        snapshot is already being taken."""
        index = self.engine.applied_index
        if index <= self.storage.snapshot_metadata().index or self._snapshot_child.running:
            return 0
        if self._writing:  # a Ready's transaction is in flight: right after it
            self._snapshot_wanted = True
            return index
        conf_state = self.raw._raft.tracker.conf_state()
        if background is None:
            background = self.settings.snapshot_in_background
        if background and self._snapshot_child.start(self.engine, self.store, index,
                                                     conf_state):
            self._last_snapshot_index = index  # not again before this one finished
            self.applied_bytes_since_snapshot = 0
            return index
        self.store.write_snapshot(index, self.engine.take_snapshot())
        self.applied_bytes_since_snapshot = 0
        self._finish_snapshot((index, conf_state))
        return index

    def _finish_snapshot(self: NodeCore, done: tuple[int, ConfState] | None) -> None:
        if done is None:
            return
        index, conf_state = done
        self.write_deferred()  # the stored commit index is never behind the snapshot
        self.storage.create_snapshot(index, conf_state, b"", in_file=True)
        self._last_snapshot_index = index
        self._prune(index)

    def _prune(self: NodeCore, snapshot_index: int) -> None:
        """Retention: the log keeps ``log_retained_entries`` behind the snapshot (a follower
        that far behind catches up from the log, not a snapshot), the event store keeps
        ``events_retained_entries`` (for subscribers and resumed sessions)."""
        settings = self.settings
        compact_to = snapshot_index - settings.log_retained_entries
        if compact_to >= self.storage.first_index():
            self.storage.compact(compact_to)
        events_before = snapshot_index - settings.events_retained_entries
        if settings.events_retained_entries and events_before > 1:
            self.store.delete_events_before(events_before)
