"""A node's data directory: the command log and the event store in LMDB, snapshots as files.

Layout::

    DATA_DIR/node.lmdb/        LMDB environment: sub-databases meta, log, events
    DATA_DIR/snapshots/        snapshot-<index>.snap, written atomically (tmp, fsync, rename)

``log``: key = index (u64 big-endian), value = CRC-32 (u32) || encoded ``LogEntry``.
``events``: key = index, value = CRC-32 || chain hash (16 bytes) || [0xd3 || timestamp_ns
(i64 big-endian): the entry's log timestamp, a msgpack int64, absent in records written before
it existed] || canonical event bytes (a msgpack array, which never starts with 0xd3).
The CRC is computed when writing and checked on every read; a mismatch, an entry stored
under the wrong key, or a gap raises ``LogCorruptError`` naming the index.

Durability: in ``fsync`` mode every write transaction is synced before it returns; in
``replicated`` mode LMDB does not sync (the OS writes pages back later), so a machine crash
may lose the unsynced tail; a process crash loses nothing. A change of Raft term or vote is
synced at once in both modes (``LmdbRaftStorage.write``). ``runs.py`` records
replicated-mode runs in ``meta``, so that a node restarting after a machine crash knows it
may have lost entries it acknowledged and restarts recovering (cluster/raft/recovery.py).
"""

from __future__ import annotations

import enum
import json
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import lmdb
import msgspec

from venue.codecs import LogEntry
from venue.engine import Module, load_modules

from .lmdbcheck import DataFileError, check_lmdb_file

DATA_FORMAT = "venue-data/1"
MAP_SIZE_BYTES_DEFAULT = 64 * 1024**3  # address space only: the file grows as written
SNAPSHOTS_KEPT_DEFAULT = 3
KEY = struct.Struct(">Q")
_CRC = struct.Struct(">I")
_HASH_BYTES = 16
_TIMESTAMP = struct.Struct(">Bq")  # msgpack int64: marker 0xd3, then the value
_TIMESTAMP_MARKER = 0xD3


class Durability(enum.StrEnum):
    FSYNC = "fsync"
    REPLICATED = "replicated"


class DataDirError(Exception):
    """A data directory that cannot be used: missing, of another format, or corrupt."""


class LogCorruptError(DataDirError):
    def __init__(self, store: str, index: int, why: str) -> None:
        super().__init__(f"{store} record at index {index} is corrupt: {why}")
        self.index = index

_MEMBERS_KEY = b"cluster_members"


class StoredEvents(NamedTuple):
    index: int
    chain_hash: bytes
    event_bytes: bytes
    timestamp_ns: int = 0  # the entry's log timestamp (0 in records that predate it)


_entry_decoder = msgspec.msgpack.Decoder(LogEntry)
_encoder = msgspec.msgpack.Encoder()


def seal(body: bytes) -> bytes:
    """Prefix ``body`` with its CRC-32."""
    return _CRC.pack(zlib.crc32(body)) + body


def unseal(store: str, index: int, value: bytes) -> bytes:
    """Check and strip the CRC-32; ``LogCorruptError`` on a mismatch."""
    if len(value) < _CRC.size:
        raise LogCorruptError(store, index, "record shorter than its checksum")
    (crc,) = _CRC.unpack_from(value)
    body = value[_CRC.size:]
    if zlib.crc32(body) != crc:
        raise LogCorruptError(store, index, "checksum mismatch")
    return body


class DataStore:
    """One node's log, event store and snapshots. Not thread-safe; one writer process."""

    def __init__(self, path: Path | str, *, create: bool = False, readonly: bool = False,
                 module_specs: Sequence[str] | None = None,
                 engine_options: dict[str, int] | None = None,
                 module_options: dict[str, dict[str, Any]] | None = None,
                 durability: Durability = Durability.FSYNC,
                 map_size_bytes: int = MAP_SIZE_BYTES_DEFAULT,
                 snapshots_kept: int = SNAPSHOTS_KEPT_DEFAULT) -> None:
        self.path = Path(path)
        self.durability = Durability(durability)
        self.readonly = readonly
        self.snapshots_kept = snapshots_kept
        lmdb_dir = self.path / "node.lmdb"
        data_file = lmdb_dir / "data.mdb"
        if data_file.exists():
            try:
                check_lmdb_file(data_file)
            except DataFileError as exc:
                raise DataDirError(str(exc)) from None
        elif not create:
            raise DataDirError(f"{self.path} is not a venue data directory "
                               f"(no node.lmdb/data.mdb)")
        else:
            lmdb_dir.mkdir(parents=True, exist_ok=True)
        (self.path / "snapshots").mkdir(exist_ok=True) if not readonly else None
        try:
            self._env = lmdb.open(str(lmdb_dir), map_size=map_size_bytes, max_dbs=4,
                                  readonly=readonly, sync=self.durability is Durability.FSYNC,
                                  metasync=self.durability is Durability.FSYNC,
                                  lock=not readonly or os.access(lmdb_dir, os.W_OK))
            self._meta = self._env.open_db(b"meta", create=not readonly)
            self._log = self._env.open_db(b"log", create=not readonly)
            self._events = self._env.open_db(b"events", create=not readonly)
        except lmdb.Error as exc:
            raise DataDirError(f"{lmdb_dir}: LMDB refused to open it: {exc}") from None
        self.module_specs = self._check_meta(module_specs, engine_options or {},
                                             module_options or {}, create)
        # Engine limits (sessions_max, timers_max) and module options (keyword arguments per
        # module spec) change what entries do, so they are fixed when the directory is
        # created and every replay uses them.
        with self._env.begin() as txn:
            self.engine_options: dict[str, int] = json.loads(
                txn.get(b"engine_options", db=self._meta) or b"{}")
            self.module_options: dict[str, dict[str, Any]] = json.loads(
                txn.get(b"module_options", db=self._meta) or b"{}")

    def _check_meta(self, module_specs: Sequence[str] | None, engine_options: dict[str, int],
                    module_options: dict[str, dict[str, Any]], create: bool) -> list[str]:
        with self._env.begin() as txn:
            data_format = txn.get(b"format", db=self._meta)
            stored_specs = txn.get(b"modules", db=self._meta)
        if data_format is None:
            if not create or module_specs is None:
                raise DataDirError(f"{self.path}: data directory has no format record")
            with self._env.begin(write=True) as txn:
                txn.put(b"format", DATA_FORMAT.encode(), db=self._meta)
                txn.put(b"modules", json.dumps(list(module_specs)).encode(), db=self._meta)
                txn.put(b"engine_options", json.dumps(engine_options).encode(),
                        db=self._meta)
                txn.put(b"module_options", json.dumps(module_options).encode(),
                        db=self._meta)
            return list(module_specs)
        if data_format.decode() != DATA_FORMAT:
            raise DataDirError(f"{self.path}: data format {data_format.decode()!r}, this "
                               f"venue reads {DATA_FORMAT!r}")
        specs = json.loads(stored_specs or b"[]")
        if module_specs is not None and list(module_specs) != specs:
            raise DataDirError(f"{self.path} was written with modules {specs}, "
                               f"not {list(module_specs)}")
        return specs

    def close(self) -> None:
        self._env.close()

    def members(self) -> dict[int, str]:
        """Addresses (the JSON of ``ConfigChange.address``) of members added at run time:
        CONFIG_CHANGE entries are compacted away, so the node keeps them here."""
        with self.begin() as txn:
            raw = txn.get(_MEMBERS_KEY, db=self.meta_db)
        return {} if raw is None else {int(k): v for k, v in json.loads(raw).items()}

    def remember_member(self, node_id: int, address: str | None) -> None:
        """Record a member's address ("" keeps the one known; None: it was removed)."""
        members = self.members()
        if address is None:
            members.pop(node_id, None)
        elif address:
            members[node_id] = address
        with self.begin(write=True) as txn:
            txn.put(_MEMBERS_KEY, json.dumps({str(k): v for k, v in sorted(members.items())})
                    .encode(), db=self.meta_db)

    def sync(self) -> None:
        """Flush every committed transaction to disk (``replicated`` mode defers this)."""
        self._env.sync(True)

    def begin(self, write: bool = False) -> lmdb.Transaction:
        """A transaction over every sub-database (for writers that must be atomic across
        them, such as the Raft storage persisting a Ready)."""
        return self._env.begin(write=write)

    @property
    def log_db(self) -> object:
        return self._log

    @property
    def meta_db(self) -> object:
        return self._meta

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load_modules(self) -> list[Module]:
        """Fresh instances of the modules this directory was written with, with the
        options it recorded."""
        return load_modules(self.module_specs, self.module_options)

    # -- log -----------------------------------------------------------------------------

    def last_index(self) -> int:
        return self._last_key(self._log)

    def first_index(self) -> int:
        with self._env.begin(db=self._log) as txn:
            cursor = txn.cursor()
            return KEY.unpack(cursor.key())[0] if cursor.first() else 0

    def append(self, entries: Sequence[LogEntry]) -> None:
        """Append entries after the last one, in one (synced, in fsync mode) transaction."""
        if not entries:
            return
        with self._env.begin(write=True, db=self._log) as txn:
            cursor = txn.cursor()
            expected = KEY.unpack(cursor.key())[0] + 1 if cursor.last() else entries[0].index
            for entry in entries:
                if entry.index != expected:
                    raise ValueError(f"log append of index {entry.index}, expected {expected}")
                txn.put(KEY.pack(entry.index), seal(_encoder.encode(entry)), append=True)
                expected += 1

    def truncate_from(self, index: int) -> int:
        """Delete entries at ``index`` and after (a Raft conflict); return how many."""
        removed = 0
        with self._env.begin(write=True, db=self._log) as txn:
            cursor = txn.cursor()
            if cursor.set_range(KEY.pack(index)):
                while cursor.delete():
                    removed += 1
        return removed

    def _scan(self, db: object, lo: int, hi: int | None) -> Iterator[tuple[int, bytes]]:
        """``(index, value)`` for keys ``lo``..``hi`` inclusive, in order, in one read txn."""
        with self._env.begin(db=db) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(KEY.pack(lo)):
                return
            for key, value in cursor:
                (index,) = KEY.unpack(key)
                if hi is not None and index > hi:
                    return
                yield index, value

    def _get(self, db: object, index: int) -> bytes | None:
        with self._env.begin(db=db) as txn:
            return txn.get(KEY.pack(index))

    def entries(self, lo: int = 1, hi: int | None = None) -> Iterator[LogEntry]:
        """Entries ``lo``..``hi`` inclusive, checked; ``LogCorruptError`` on a bad one."""
        expected = None
        for index, value in self._scan(self._log, lo, hi):
            if expected is not None and index != expected:
                raise LogCorruptError("log", expected, f"missing (next stored is {index})")
            expected = index + 1
            yield self._decode_entry(index, value)

    def entry(self, index: int) -> LogEntry | None:
        value = self._get(self._log, index)
        return None if value is None else self._decode_entry(index, value)

    @staticmethod
    def _decode_entry(index: int, value: bytes) -> LogEntry:
        body = unseal("log", index, value)
        try:
            entry = _entry_decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise LogCorruptError("log", index, f"does not decode: {exc}") from None
        if entry.index != index:
            raise LogCorruptError("log", index, f"holds entry {entry.index}")
        return entry

    # -- events --------------------------------------------------------------------------

    def last_event_index(self) -> int:
        return self._last_key(self._events)

    def put_events(self, records: Sequence[tuple]) -> None:
        """Store ``(index, chain_hash, event_bytes[, timestamp_ns])`` records in one
        transaction."""
        if not records:
            return
        with self._env.begin(write=True, db=self._events) as txn:
            self.put_events_in(txn, records)

    def put_events_in(self, txn: lmdb.Transaction, records: Sequence[tuple]) -> None:
        """``put_events`` inside the caller's write transaction (the cluster node writes a
        Ready's log entries and the events they applied to in one synced commit)."""
        events = self._events
        for record in records:
            index, chain_hash, event_bytes = record[:3]
            stamp = _TIMESTAMP.pack(_TIMESTAMP_MARKER, record[3]) if len(record) > 3 else b""
            txn.put(KEY.pack(index), seal(chain_hash + stamp + event_bytes), db=events)

    def delete_events_before(self, index: int) -> int:
        """Retention: drop the event records below ``index`` in one transaction; return how
        many. O(records dropped)."""
        dropped = 0
        with self._env.begin(write=True, db=self._events) as txn:
            cursor = txn.cursor()
            if cursor.first():
                while cursor.key() and KEY.unpack(cursor.key())[0] < index:
                    if not cursor.delete():
                        break
                    dropped += 1
        return dropped

    def events(self, lo: int = 1, hi: int | None = None) -> Iterator[StoredEvents]:
        for index, value in self._scan(self._events, lo, hi):
            yield self._decode_events(index, value)

    def event_record(self, index: int) -> StoredEvents | None:
        value = self._get(self._events, index)
        return None if value is None else self._decode_events(index, value)

    @staticmethod
    def _decode_events(index: int, value: bytes) -> StoredEvents:
        body = unseal("events", index, value)
        if len(body) < _HASH_BYTES:
            raise LogCorruptError("events", index, "record shorter than its chain hash")
        if len(body) > _HASH_BYTES and body[_HASH_BYTES] == _TIMESTAMP_MARKER:
            if len(body) < _HASH_BYTES + _TIMESTAMP.size:
                raise LogCorruptError("events", index, "record shorter than its timestamp")
            _, timestamp_ns = _TIMESTAMP.unpack_from(body, _HASH_BYTES)
            return StoredEvents(index, body[:_HASH_BYTES],
                                body[_HASH_BYTES + _TIMESTAMP.size:], timestamp_ns)
        return StoredEvents(index, body[:_HASH_BYTES], body[_HASH_BYTES:])

    def _last_key(self, db: object) -> int:
        with self._env.begin(db=db) as txn:
            cursor = txn.cursor()
            return KEY.unpack(cursor.key())[0] if cursor.last() else 0

    # -- snapshots -----------------------------------------------------------------------

    def snapshot_indexes(self) -> list[int]:
        directory = self.path / "snapshots"
        if not directory.is_dir():
            return []
        found = []
        for child in directory.glob("snapshot-*.snap"):
            digits = child.stem.removeprefix("snapshot-")
            if digits.isdigit():
                found.append(int(digits))
        return sorted(found)

    def snapshot_path(self, index: int) -> Path:
        return self.path / "snapshots" / f"snapshot-{index:020d}.snap"

    def write_snapshot(self, index: int, data: bytes) -> Path:
        """Write atomically (temp file, fsync, rename, fsync dir); keep the newest few."""
        directory = self.path / "snapshots"
        final = self.snapshot_path(index)
        temporary = final.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        for old in self.snapshot_indexes()[:-self.snapshots_kept]:
            self.snapshot_path(old).unlink(missing_ok=True)
        return final

    def read_snapshot(self, index: int) -> bytes:
        return self.snapshot_path(index).read_bytes()

    def latest_snapshot_index(self, at_or_below: int | None = None) -> int | None:
        candidates = [i for i in self.snapshot_indexes()
                      if at_or_below is None or i <= at_or_below]
        return candidates[-1] if candidates else None
