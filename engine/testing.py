"""Helpers for testing modules the way a node runs them: real log entries, a real engine.

>>> from venue.engine.modules.counter import CounterModule, Increment
>>> log = LogBuilder()
>>> session = log.open("alice")
>>> _ = log.batch((session, 1, Increment(7)), (session, 2, Increment(7)))
>>> engine = Engine([CounterModule()])
>>> heads = apply_all(engine, log.entries)
>>> engine.module("counter").value(7)
2
>>> check_snapshot_replay(lambda: [CounterModule()], log.entries)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from venue.codecs import (
    ClientCommand,
    Command,
    CommandBatch,
    EntryKind,
    LogEntry,
    NoOp,
    SessionClose,
    SessionCloseReason,
    SessionOpen,
    TimerFire,
)

from .dispatcher import Engine
from .service import Module

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def client_command(session_id: int, client_seq: int, command: Command | bytes
                   ) -> ClientCommand:
    """A client command; ``command`` may be raw (possibly bad) bytes."""
    raw = command if isinstance(command, bytes) else _encoder.encode(command)
    return ClientCommand(session_id, client_seq, raw)


class LogBuilder:
    """Appends log entries with consecutive indexes and increasing timestamps, as a leader
    would. ``entries`` holds them in order."""

    def __init__(self, start_ns: int = 1_000_000, step_ns: int = 1_000) -> None:
        self.entries: list[LogEntry] = []
        self.now_ns = start_ns
        self.step_ns = step_ns

    @property
    def next_index(self) -> int:
        return len(self.entries) + 1

    def add(self, kind: EntryKind, payload: bytes, at_ns: int | None = None) -> LogEntry:
        self.now_ns = self.now_ns + self.step_ns if at_ns is None else at_ns
        entry = LogEntry(self.next_index, 1, self.now_ns, kind, payload)
        self.entries.append(entry)
        return entry

    def open(self, principal: str = "alice") -> int:
        """Append a SESSION_OPEN; return its session id (the entry's index)."""
        return self.add(EntryKind.SESSION_OPEN, _encoder.encode(SessionOpen(principal))).index

    def close(self, session_id: int, reason: SessionCloseReason = SessionCloseReason.CLIENT
              ) -> LogEntry:
        return self.add(EntryKind.SESSION_CLOSE,
                        _encoder.encode(SessionClose(session_id, reason)))

    def batch(self, *rows: tuple[int, int, Command | bytes], at_ns: int | None = None
              ) -> LogEntry:
        """One COMMAND_BATCH of ``(session_id, client_seq, command)`` rows."""
        commands = [client_command(session, seq, command) for session, seq, command in rows]
        return self.add(EntryKind.COMMAND_BATCH, _encoder.encode(CommandBatch(commands)), at_ns)

    def timer(self, deadline_ns: int | None = None) -> LogEntry:
        """A TIMER entry firing everything due by ``deadline_ns`` (default: its timestamp)."""
        at_ns = self.now_ns + self.step_ns
        due_ns = at_ns if deadline_ns is None else deadline_ns
        return self.add(EntryKind.TIMER, _encoder.encode(TimerFire(due_ns)), at_ns)

    def noop(self) -> LogEntry:
        return self.add(EntryKind.NOOP, _encoder.encode(NoOp()))


def apply_all(engine: Engine, entries: Sequence[LogEntry]) -> list[bytes]:
    """Apply ``entries`` and return the chain head after each."""
    return [engine.apply(entry).chain_hash for entry in entries]


def check_snapshot_replay(make_modules: Callable[[], list[Module]],
                          entries: Sequence[LogEntry]) -> None:
    """Assert the snapshot contract: for every index k, a snapshot taken at k and restored
    into fresh modules reproduces every later chain head of a straight run. O(n^2) entries
    applied: keep ``entries`` short."""
    engine = Engine(make_modules())
    snapshots = [engine.take_snapshot()]
    heads = []
    for entry in entries:
        heads.append(engine.apply(entry).chain_hash)
        snapshots.append(engine.take_snapshot())
    for k, snapshot in enumerate(snapshots):
        restored = Engine(make_modules(), snapshot=snapshot)
        replayed = apply_all(restored, entries[k:])
        if replayed != heads[k:]:
            first = next(i for i, (a, b) in enumerate(zip(replayed, heads[k:], strict=True))
                         if a != b)
            raise AssertionError(f"restored from the snapshot at index {k}, the chain differs "
                                 f"from a straight run at index {k + first + 1}")
        if restored.take_snapshot() != snapshots[-1]:
            raise AssertionError(f"restored from the snapshot at index {k}, the final state "
                                 f"differs from a straight run's")
