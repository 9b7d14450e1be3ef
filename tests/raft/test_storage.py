"""MemoryStorage against the storage contract."""

from __future__ import annotations

import pytest

from venue.cluster.raft import ConfState, MemoryStorage, Snapshot, bootstrap_snapshot

from .storage_contract import StorageContract


class TestMemoryStorage(StorageContract):
    def make_storage(self, snapshot: Snapshot | None = None) -> MemoryStorage:
        return MemoryStorage(snapshot)


def test_bootstrap_needs_a_voter() -> None:
    with pytest.raises(ValueError, match="at least one voter"):
        bootstrap_snapshot(ConfState((), (1,)))


def test_bootstrap_storage_starts_after_the_bootstrap_snapshot() -> None:
    storage = MemoryStorage.bootstrap(ConfState((1,)))
    assert (storage.first_index(), storage.snapshot().index) == (2, 1)
