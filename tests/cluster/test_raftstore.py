"""The LMDB Raft storage passes the same contract as the in-memory one, and is durable."""

from __future__ import annotations

from pathlib import Path

import lmdb
import pytest

from tests.raft.storage_contract import CONF, StorageContract, run
from venue.cluster.raft import HardState, Snapshot, SnapshotMetadata, bootstrap_snapshot
from venue.cluster.raftstore import LmdbRaftStorage
from venue.cluster.store import DataStore, LogCorruptError

SPECS = ["venue.engine.modules.counter:CounterModule"]


class TestLmdbRaftStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.stores: list[DataStore] = []
        yield
        for store in self.stores:
            store.close()

    def make_storage(self, snapshot: Snapshot | None = None) -> LmdbRaftStorage:
        store = DataStore(self.tmp_path / f"node{len(self.stores)}", create=True,
                          module_specs=SPECS)
        self.stores.append(store)
        return LmdbRaftStorage(store, snapshot)


def _reopen(path: Path, snapshot: Snapshot | None = None
            ) -> tuple[DataStore, LmdbRaftStorage]:
    store = DataStore(path, create=True, module_specs=SPECS)
    return store, LmdbRaftStorage(store, snapshot)


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    store, storage = _reopen(tmp_path, bootstrap_snapshot(CONF))
    storage.persist(HardState(2, 1, 4), run(2, 6, 1))
    storage.create_snapshot(4, CONF, b"engine-state")
    storage.compact(3)
    storage.append(run(5, 7, 2))
    store.close()
    store, again = _reopen(tmp_path)
    try:
        assert again.initial_state() == (HardState(2, 1, 4), CONF)
        assert (again.first_index(), again.last_index()) == (4, 7)
        assert [again.term(i) for i in range(3, 8)] == [1, 1, 2, 2, 2]
        assert again.entries(4, 8, 1 << 20) == [*run(4, 4, 1), *run(5, 7, 2)]
        assert again.snapshot().data == b"engine-state"
    finally:
        store.close()


def test_an_installed_snapshot_survives_a_restart(tmp_path: Path) -> None:
    store, storage = _reopen(tmp_path)
    storage.persist(None, (), Snapshot(SnapshotMetadata(9, 3, CONF), b"nine"))
    storage.append(run(10, 11, 3))
    store.close()
    store, again = _reopen(tmp_path)
    try:
        assert (again.first_index(), again.last_index(), again.term(9)) == (10, 11, 3)
        assert again.snapshot().data == b"nine"
    finally:
        store.close()


def test_a_corrupt_entry_is_reported_not_returned(tmp_path: Path) -> None:
    store, storage = _reopen(tmp_path, bootstrap_snapshot(CONF))
    storage.append(run(2, 4, 1))
    store.close()
    env = lmdb.open(str(tmp_path / "node.lmdb"), max_dbs=4)
    log = env.open_db(b"log")
    with env.begin(write=True, db=log) as txn:
        value = bytearray(txn.get((3).to_bytes(8, "big")))
        value[-1] ^= 0x55
        txn.put((3).to_bytes(8, "big"), bytes(value))
    env.close()
    with pytest.raises(LogCorruptError, match="index 3"):
        _reopen(tmp_path)
