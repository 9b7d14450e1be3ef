"""A single-node venue: a sequencer, the LMDB log and the engine, with no replication.

The node honours the same order the replicated node will: stamp and persist entries (one
transaction per batch, synced in ``fsync`` mode), then apply them, then store their events
and chain hashes. It is what ``venue demo`` and the engine benchmark run, and what the Raft
node (cluster issue) puts consensus in front of.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from venue.codecs import (
    ClientCommand,
    Command,
    CommandBatch,
    EntryKind,
    LogEntry,
    SessionClose,
    SessionCloseReason,
    SessionOpen,
    SnapshotMarker,
    TimerFire,
)
from venue.codecs.log import KIND_OF_PAYLOAD
from venue.engine import Applied, Engine

from .recovery import recover
from .store import DataStore, Durability

TERM_SINGLE_NODE = 1
BATCH_COMMANDS_MAX_DEFAULT = 1024


class SingleNode:
    """Owns a data directory; not thread-safe. ``clock`` is only read here, at the edge."""

    def __init__(self, data_dir: Path | str, module_specs: Sequence[str] | None = None, *,
                 durability: Durability = Durability.FSYNC,
                 engine_options: dict[str, int] | None = None,
                 module_options: dict[str, dict[str, Any]] | None = None,
                 clock: Callable[[], int] = time.time_ns,
                 batch_commands_max: int = BATCH_COMMANDS_MAX_DEFAULT) -> None:
        self.store = DataStore(data_dir, create=True, module_specs=module_specs,
                               engine_options=engine_options, module_options=module_options,
                               durability=durability)
        self.clock = clock
        self.batch_commands_max = batch_commands_max
        try:
            self.engine: Engine = recover(self.store, self.store.load_modules(),
                                          write_missing_events=True)
        except BaseException:
            self.store.close()
            raise
        self._encoder = msgspec.msgpack.Encoder()
        self._next_seq: dict[int, int] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> SingleNode:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sequencing ----------------------------------------------------------------------

    def append(self, payloads: Sequence[msgspec.Struct]) -> list[Applied]:
        """Stamp, persist, apply and record one entry per payload, as one batch."""
        index = self.engine.applied_index
        timestamp_ns = max(self.clock(), self.engine.last_timestamp_ns)
        entries = []
        for payload in payloads:
            index += 1
            entries.append(LogEntry(index, TERM_SINGLE_NODE, timestamp_ns,
                                    KIND_OF_PAYLOAD[type(payload)],
                                    self._encoder.encode(payload)))
        self.store.append(entries)
        applied: list[Applied] = []
        try:
            for entry in entries:
                applied.append(self.engine.apply(entry))
        finally:  # on a halt, the entries before the failing one keep their events
            self.store.put_events([(a.index, a.chain_hash, a.event_bytes) for a in applied])
        if any(entry.kind == EntryKind.SNAPSHOT_MARKER for entry in entries):
            self.take_snapshot()
        return applied

    def open_session(self, principal: str) -> int:
        """Open a client session; returns its id (the index of its entry)."""
        (applied,) = self.append([SessionOpen(principal)])
        if not self.engine.sessions.is_open(applied.index):
            raise RuntimeError(f"session refused: {applied.outcomes[0].events[0]!r}")
        self._next_seq[applied.index] = 1
        return applied.index

    def close_session(self, session_id: int) -> Applied:
        self._next_seq.pop(session_id, None)
        return self.append([SessionClose(session_id, SessionCloseReason.CLIENT)])[0]

    def submit(self, session_id: int, commands: Sequence[Command]) -> list[Applied]:
        """Submit commands from one session, numbering them; batches of at most
        ``batch_commands_max`` commands per entry."""
        seq = self._next_seq.get(session_id, self.engine.sessions.last_client_seq(session_id)
                                 + 1)
        batches = []
        for start in range(0, len(commands), self.batch_commands_max):
            chunk = commands[start:start + self.batch_commands_max]
            batch = []
            for command in chunk:
                batch.append(ClientCommand(session_id, seq,
                                           self._encoder.encode(command)))
                seq += 1
            batches.append(CommandBatch(batch))
        self._next_seq[session_id] = seq
        return self.append(batches)

    def fire_due_timers(self) -> Applied | None:
        """Append a TIMER entry if a module timer is due by the clock."""
        deadline = self.engine.next_timer_deadline()
        now_ns = self.clock()
        if deadline is None or deadline > now_ns:
            return None
        return self.append([TimerFire(now_ns)])[0]

    def request_snapshot(self, requested_by: str = "operator") -> Path:
        """Append a SNAPSHOT_MARKER entry (every node snapshots after applying it)."""
        self.append([SnapshotMarker(requested_by)])
        return self.store.snapshot_path(self.engine.applied_index)

    def take_snapshot(self) -> Path:
        return self.store.write_snapshot(self.engine.applied_index, self.engine.take_snapshot())
