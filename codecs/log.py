"""The log entry envelope and the payload of each entry kind.

A log entry is ``(index, term, timestamp_ns, kind, payload)``. The payload is the encoded
bytes of the struct that ``kind`` names, so that Raft and the sequencer carry it without
decoding; the engine decodes it when it applies the entry.
"""

from __future__ import annotations

import msgspec

from .enums import EntryKind, SessionCloseReason


class LogEntry(msgspec.Struct, frozen=True, array_like=True):
    index: int
    term: int
    timestamp_ns: int
    kind: EntryKind
    payload: bytes


class ClientCommand(msgspec.Struct, frozen=True, array_like=True):
    """One command from a client session. ``command`` holds the encoded command as opaque
    bytes: the sequencer forwards what the client sent without decoding it, and the engine
    decodes it with the node's schema. Being a msgpack bin field, bad bytes from a client can
    only make that one command undecodable (a reject), never the batch around it."""

    session_id: int
    client_seq: int
    command: bytes


class CommandBatch(msgspec.Struct, frozen=True, array_like=True):
    commands: list[ClientCommand]


class SessionOpen(msgspec.Struct, frozen=True, array_like=True):
    """Open a client session; its session id is the index of this entry."""

    principal: str


class SessionClose(msgspec.Struct, frozen=True, array_like=True):
    session_id: int
    reason: SessionCloseReason


class TimerFire(msgspec.Struct, frozen=True, array_like=True):
    """Fire every module timer whose deadline is at or before ``deadline_ns``."""

    deadline_ns: int


class SnapshotMarker(msgspec.Struct, frozen=True, array_like=True):
    """Every node takes a snapshot after applying this entry."""

    requested_by: str = ""


class ConfigChange(msgspec.Struct, frozen=True, array_like=True):
    """A cluster membership change (Raft's business; the engine only records it)."""

    change: int  # 1 add voter, 2 add learner, 3 remove
    node_id: int
    address: str = ""


class NoOp(msgspec.Struct, frozen=True, array_like=True):
    """Appended by a new leader to commit entries of earlier terms."""


PAYLOAD_TYPES: dict[EntryKind, type[msgspec.Struct]] = {
    EntryKind.COMMAND_BATCH: CommandBatch,
    EntryKind.SESSION_OPEN: SessionOpen,
    EntryKind.SESSION_CLOSE: SessionClose,
    EntryKind.TIMER: TimerFire,
    EntryKind.SNAPSHOT_MARKER: SnapshotMarker,
    EntryKind.CONFIG_CHANGE: ConfigChange,
    EntryKind.NOOP: NoOp,
}

KIND_OF_PAYLOAD: dict[type[msgspec.Struct], EntryKind] = {
    payload_type: kind for kind, payload_type in PAYLOAD_TYPES.items()
}
