"""The data directory: LMDB log and event store, checksums, pre-flight, snapshots."""

from __future__ import annotations

import shutil
from pathlib import Path

import lmdb
import pytest

from venue.cluster.lmdbcheck import DataFileError, check_lmdb_file
from venue.cluster.store import DataDirError, DataStore, Durability, LogCorruptError
from venue.codecs import EntryKind, LogEntry

SPECS = ["venue.engine.modules.counter:CounterModule"]


def entries(first: int, count: int) -> list[LogEntry]:
    return [LogEntry(i, 1, 1_000 + i, EntryKind.NOOP, b"\x90") for i in range(first,
                                                                            first + count)]


@pytest.fixture
def store(tmp_path: Path):
    with DataStore(tmp_path / "node", create=True, module_specs=SPECS) as opened:
        yield opened


def test_appended_entries_read_back_in_order(store: DataStore) -> None:
    store.append(entries(1, 50))
    store.append(entries(51, 10))
    assert [e.index for e in store.entries()] == list(range(1, 61))
    assert [e.index for e in store.entries(10, 12)] == [10, 11, 12]
    assert store.entry(33) == entries(33, 1)[0]
    assert (store.first_index(), store.last_index()) == (1, 60)


def test_append_refuses_a_gap_or_an_overlap(store: DataStore) -> None:
    store.append(entries(1, 3))
    with pytest.raises(ValueError, match="expected 4"):
        store.append(entries(5, 1))
    with pytest.raises(ValueError, match="expected 4"):
        store.append(entries(3, 1))
    assert store.last_index() == 3


def test_truncate_from_removes_the_suffix_for_a_raft_conflict(store: DataStore) -> None:
    store.append(entries(1, 10))
    assert store.truncate_from(7) == 4
    assert store.last_index() == 6
    store.append(entries(7, 2))
    assert store.last_index() == 8


def test_events_keep_chain_hash_and_bytes(store: DataStore) -> None:
    store.put_events([(1, b"a" * 16, b"\x90"), (2, b"b" * 16, b"\x91\x01")])
    record = store.event_record(2)
    assert record is not None
    assert (record.chain_hash, record.event_bytes) == (b"b" * 16, b"\x91\x01")
    assert [r.index for r in store.events()] == [1, 2]
    assert store.last_event_index() == 2


def _corrupt_value(path: Path, db_name: bytes, index: int) -> None:
    env = lmdb.open(str(path / "node.lmdb"), max_dbs=4)
    db = env.open_db(db_name)
    key = index.to_bytes(8, "big")
    with env.begin(write=True, db=db) as txn:
        value = bytearray(txn.get(key))
        value[-1] ^= 0xFF
        txn.put(key, bytes(value))
    env.close()


def test_a_flipped_byte_in_a_log_record_is_reported_with_its_index(tmp_path: Path) -> None:
    with DataStore(tmp_path, create=True, module_specs=SPECS) as store:
        store.append(entries(1, 5))
    _corrupt_value(tmp_path, b"log", 4)
    with DataStore(tmp_path, readonly=True) as store:
        with pytest.raises(LogCorruptError, match="log record at index 4 is corrupt: "
                                                  "checksum mismatch"):
            list(store.entries())
        assert store.entry(3) is not None


def test_a_flipped_byte_in_an_event_record_is_reported(tmp_path: Path) -> None:
    with DataStore(tmp_path, create=True, module_specs=SPECS) as store:
        store.put_events([(1, b"h" * 16, b"\x90\x90")])
    _corrupt_value(tmp_path, b"events", 1)
    with DataStore(tmp_path, readonly=True) as store, pytest.raises(LogCorruptError):
        store.event_record(1)


def test_a_truncated_data_file_is_refused_before_lmdb_maps_it(tmp_path: Path) -> None:
    with DataStore(tmp_path, create=True, module_specs=SPECS) as store:
        for first in range(1, 20_001, 1_000):
            store.append(entries(first, 1_000))
    data = tmp_path / "node.lmdb" / "data.mdb"
    size = data.stat().st_size
    with data.open("r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(DataDirError, match="truncated"):
        DataStore(tmp_path, readonly=True)


def test_preflight_rejects_a_file_that_is_not_lmdb(tmp_path: Path) -> None:
    bogus = tmp_path / "data.mdb"
    bogus.write_bytes(b"x" * 8192)
    with pytest.raises(DataFileError, match="not an LMDB data file"):
        check_lmdb_file(bogus)
    bogus.write_bytes(b"x" * 10)
    with pytest.raises(DataFileError, match="too short"):
        check_lmdb_file(bogus)


def test_a_directory_without_data_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(DataDirError, match="is not a venue data directory"):
        DataStore(tmp_path / "nothing-here", readonly=True)


def test_reopening_with_other_modules_is_refused(tmp_path: Path) -> None:
    DataStore(tmp_path, create=True, module_specs=SPECS).close()
    with pytest.raises(DataDirError, match="was written with modules"):
        DataStore(tmp_path, create=True, module_specs=["other:Module"])
    with DataStore(tmp_path, readonly=True) as store:
        assert store.module_specs == SPECS


def test_snapshots_are_written_atomically_and_only_the_newest_are_kept(tmp_path: Path
                                                                        ) -> None:
    with DataStore(tmp_path, create=True, module_specs=SPECS, snapshots_kept=2) as store:
        for index in (5, 10, 15):
            store.write_snapshot(index, f"state-{index}".encode())
        assert store.snapshot_indexes() == [10, 15]
        assert store.read_snapshot(15) == b"state-15"
        assert store.latest_snapshot_index() == 15
        assert store.latest_snapshot_index(at_or_below=12) == 10
        assert store.latest_snapshot_index(at_or_below=9) is None
        assert not list((tmp_path / "snapshots").glob("*.tmp"))


def test_replicated_mode_data_survives_a_clean_reopen(tmp_path: Path) -> None:
    with DataStore(tmp_path, create=True, module_specs=SPECS,
                   durability=Durability.REPLICATED) as store:
        store.append(entries(1, 3))
    copy = tmp_path.parent / (tmp_path.name + "-copy")
    shutil.copytree(tmp_path, copy)
    with DataStore(copy, readonly=True) as store:
        assert store.last_index() == 3
