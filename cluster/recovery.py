"""Rebuild an engine from a data directory: latest snapshot, then the log suffix.

Every entry replayed is checked against the event store: the recomputed chain hash must equal
the stored one, or this node (or the code it now runs) has diverged from what it once
produced, and ``ChainMismatchError`` names the first index where it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from venue.codecs import EntryKind, LogEntry
from venue.engine import Engine, Module

from .store import DataStore, StoredEvents

#: a cluster's bootstrap snapshot covers index 1: every node applies this in its place, so
#: the log proper starts at index 2 (``cluster.raft.storage.bootstrap_snapshot``)
GENESIS_ENTRY = LogEntry(1, 1, 0, EntryKind.NOOP, b"\x90")


class ChainMismatchError(Exception):
    def __init__(self, index: int, stored: bytes, computed: bytes) -> None:
        super().__init__(
            f"replay diverged at log index {index}: stored chain hash {stored.hex()}, "
            f"recomputed {computed.hex()} (the modules are not the ones, or do not behave "
            f"as the ones, that wrote this log)")
        self.index = index
        self.stored = stored
        self.computed = computed


def recover(store: DataStore, modules: Sequence[Module], *, to_index: int | None = None,
            use_snapshot: bool = True, write_missing_events: bool = False,
            progress: Callable[[int], None] | None = None) -> Engine:
    """Return an engine at ``to_index`` (default: the end of the log).

    Events missing from the event store (the node stopped between writing an entry and its
    events) are recomputed and, with ``write_missing_events``, stored.
    """
    snapshot_index = store.latest_snapshot_index(to_index) if use_snapshot else None
    snapshot = store.read_snapshot(snapshot_index) if snapshot_index is not None else None
    engine = Engine(modules, snapshot=snapshot, **store.engine_options)
    if engine.applied_index == 0 and store.first_index() == GENESIS_ENTRY.index + 1:
        engine.apply(GENESIS_ENTRY)  # a cluster node's directory
    start = engine.applied_index + 1
    stored_iter = store.events(start, to_index)
    stored: StoredEvents | None = next(stored_iter, None)
    missing: list[tuple[int, bytes, bytes, int]] = []
    for entry in store.entries(start, to_index):
        applied = engine.apply(entry)
        while stored is not None and stored.index < entry.index:
            stored = next(stored_iter, None)
        if stored is not None and stored.index == entry.index:
            if stored.chain_hash != applied.chain_hash:
                raise ChainMismatchError(entry.index, stored.chain_hash, applied.chain_hash)
        else:
            missing.append((entry.index, applied.chain_hash, applied.event_bytes,
                            entry.timestamp_ns))
        if progress is not None:
            progress(entry.index)
    if write_missing_events and missing:
        store.put_events(missing)
    return engine
