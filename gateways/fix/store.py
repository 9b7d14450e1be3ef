"""Where a FIX session keeps its sequence numbers and the application messages it sent, so
that a ResendRequest can be answered and a gateway restart resumes the session.

The session writes through ``set_next_sender``/``set_next_target``/``save_sent``; the asyncio
shell calls ``commit()`` before it puts the session's output on the wire, so that nothing
reaches a counterparty that a crash could make the gateway forget (group commit: one LMDB
transaction per batch of work, not per message).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import lmdb

_SEQS = struct.Struct(">QQ")
_SEQ = struct.Struct(">Q")
_POSITION_KEY = b"\x00stream-position"


class MemorySessionStore:
    """The same contract in memory (tests, and the acceptance reflector)."""

    def __init__(self) -> None:
        self.next_sender = 1
        self.next_target = 1
        self._sent: dict[int, bytes] = {}

    def set_next_sender(self, seq: int) -> None:
        self.next_sender = seq

    def set_next_target(self, seq: int) -> None:
        self.next_target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._sent[seq] = raw

    def sent_range(self, begin: int, end: int) -> Iterator[tuple[int, bytes]]:
        for seq in range(begin, end + 1):
            raw = self._sent.get(seq)
            if raw is not None:
                yield seq, raw

    def reset(self) -> None:
        self.next_sender = self.next_target = 1
        self._sent.clear()

    def commit(self) -> None:
        pass


class LmdbSessionStores:
    """One LMDB environment for all the sessions of a gateway: ``store(session_key)`` gives
    each session its store. Sequence numbers and sent messages survive a restart."""

    def __init__(self, path: str | Path, map_size: int = 1 << 32, sync: bool = True) -> None:
        """``sync``: each commit reaches the disk before it returns (False: the OS writes
        it back later; a process crash still loses nothing)."""
        Path(path).mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(str(path), map_size=map_size, max_dbs=4, subdir=True,
                             sync=sync, metasync=sync)
        self._seqs = self.env.open_db(b"seqs")
        self._sent = self.env.open_db(b"sent")
        self._stores: dict[bytes, LmdbSessionStore] = {}
        with self.env.begin(db=self._seqs) as txn:
            raw = txn.get(_POSITION_KEY)
        #: the last event-stream position whose output the gateway has handed to its
        #: sessions (committed with their sequence numbers: exactly once across restarts)
        self.position = 0 if raw is None else _SEQ.unpack(raw)[0]
        self._position_dirty = False

    def set_position(self, position: int) -> None:
        self.position = position
        self._position_dirty = True

    def commit(self) -> None:
        """One write transaction for every session's pending changes and the position."""
        dirty = [store for store in self._stores.values() if store._dirty]
        if not dirty and not self._position_dirty:
            return
        with self.env.begin(write=True) as txn:
            for store in dirty:
                store._write(txn)
            if self._position_dirty:
                txn.put(_POSITION_KEY, _SEQ.pack(self.position), db=self._seqs)
        for store in dirty:
            store._pending.clear()
            store._dirty = False
        self._position_dirty = False

    def store(self, session_key: bytes) -> LmdbSessionStore:
        if session_key not in self._stores:
            self._stores[session_key] = LmdbSessionStore(self, session_key)
        return self._stores[session_key]

    def close(self) -> None:
        self.commit()
        self.env.close()


class LmdbSessionStore:
    def __init__(self, stores: LmdbSessionStores, key: bytes) -> None:
        self._stores = stores
        self._key = key
        self._prefix = key + b"\x00"
        with stores.env.begin(db=stores._seqs) as txn:
            raw = txn.get(key)
        self.next_sender, self.next_target = (1, 1) if raw is None else _SEQS.unpack(raw)
        self._pending: dict[int, bytes] = {}
        self._dirty = False
        self._reset = False

    def set_next_sender(self, seq: int) -> None:
        self.next_sender = seq
        self._dirty = True

    def set_next_target(self, seq: int) -> None:
        self.next_target = seq
        self._dirty = True

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._pending[seq] = raw
        self._dirty = True

    def sent_range(self, begin: int, end: int) -> Iterator[tuple[int, bytes]]:
        self.commit()
        start = self._prefix + _SEQ.pack(max(begin, 0))
        with self._stores.env.begin(db=self._stores._sent) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(start):
                return
            for key, raw in cursor:
                if not key.startswith(self._prefix):
                    return
                seq = _SEQ.unpack(key[len(self._prefix):])[0]
                if seq > end:
                    return
                yield seq, bytes(raw)

    def reset(self) -> None:
        self.next_sender = self.next_target = 1
        self._pending.clear()
        self._reset = True
        self._dirty = True

    def commit(self) -> None:
        self._stores.commit()

    def _write(self, txn: lmdb.Transaction) -> None:
        stores = self._stores
        if self._reset:
            cursor = txn.cursor(db=stores._sent)
            if cursor.set_range(self._prefix):
                while cursor.key().startswith(self._prefix):
                    if not cursor.delete():
                        break
            self._reset = False
        for seq, raw in self._pending.items():
            txn.put(self._prefix + _SEQ.pack(seq), raw, db=stores._sent)
        txn.put(self._key, _SEQS.pack(self.next_sender, self.next_target), db=stores._seqs)
