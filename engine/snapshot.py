"""Versioned engine snapshots.

Layout: ``MAGIC`` (8 bytes) | format version (u32 big-endian) | msgpack body | XXH3-64 of
everything before it (8 bytes). The body holds the log index and timestamp it was taken at,
the chain head, the session table, the pending timers, and each module's own bytes with
the module's ``snapshot_version``.

Restoring checks, in order: magic, format version, checksum, then that the snapshot's modules
are exactly the node's modules, in the same order, at the same ``snapshot_version``. Any
mismatch raises a ``SnapshotVersionError`` or ``SnapshotError`` that says what differs;
nothing is restored.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import msgspec
import xxhash

from .errors import SnapshotError, SnapshotVersionError
from .hashing import HashChain
from .modules.sessions import SessionState

if TYPE_CHECKING:
    from .dispatcher import Engine

MAGIC = b"VENUESNP"
FORMAT_VERSION = 1
_VERSION = struct.Struct(">I")
_CHECKSUM = struct.Struct(">Q")
_HEADER_SIZE_BYTES = len(MAGIC) + _VERSION.size


class ModuleState(msgspec.Struct, array_like=True, frozen=True):
    name: str
    snapshot_version: int
    state: bytes


class EngineState(msgspec.Struct, array_like=True, frozen=True):
    log_index: int
    timestamp_ns: int
    chain_head: bytes
    sessions: list[SessionState]
    timers: list[tuple[int, str, int]]
    modules: list[ModuleState]


_encoder = msgspec.msgpack.Encoder(order="deterministic")
_decoder = msgspec.msgpack.Decoder(EngineState)


def encode_engine_state(engine: Engine) -> bytes:
    state = EngineState(
        log_index=engine.applied_index,
        timestamp_ns=engine.last_timestamp_ns,
        chain_head=engine.chain.head,
        sessions=engine.sessions.to_rows(),
        timers=engine.timers.items(),
        modules=[ModuleState(name, module.snapshot_version, module.take_snapshot())
                 for name, module in engine.modules.items()],
    )
    head = MAGIC + _VERSION.pack(FORMAT_VERSION) + _encoder.encode(state)
    return head + _CHECKSUM.pack(xxhash.xxh3_64_intdigest(head))


def read_snapshot(data: bytes) -> EngineState:
    """Check and decode a snapshot without restoring it."""
    if len(data) < _HEADER_SIZE_BYTES + _CHECKSUM.size or not data.startswith(MAGIC):
        raise SnapshotError("not a venue snapshot (bad magic or too short)")
    (version,) = _VERSION.unpack_from(data, len(MAGIC))
    if version != FORMAT_VERSION:
        raise SnapshotVersionError(
            f"snapshot format version {version} is not supported by this venue, which reads "
            f"version {FORMAT_VERSION}; replay the log with the venue that wrote it, or "
            f"start from the log without this snapshot"
        )
    body_end = len(data) - _CHECKSUM.size
    (checksum,) = _CHECKSUM.unpack_from(data, body_end)
    if xxhash.xxh3_64_intdigest(data[:body_end]) != checksum:
        raise SnapshotError("snapshot checksum mismatch: the file is corrupt")
    try:
        return _decoder.decode(data[_HEADER_SIZE_BYTES:body_end])
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"snapshot body does not decode: {exc}") from None


def restore_engine_state(engine: Engine, data: bytes) -> dict[str, bytes]:
    """Restore the engine-level state and return each module's bytes for ``on_start``."""
    state = read_snapshot(data)
    theirs = {m.name: m.snapshot_version for m in state.modules}
    ours = {name: module.snapshot_version for name, module in engine.modules.items()}
    # Order matters, not only membership: session callbacks run, and their events are
    # emitted, in module order, so a reordered config would diverge from the chain.
    if list(theirs) != list(ours):
        raise SnapshotVersionError(
            f"snapshot holds modules {list(theirs)} (in this order) but this node runs "
            f"{list(ours)}")
    for name, version in theirs.items():
        if version != ours[name]:
            raise SnapshotVersionError(
                f"module {name!r} snapshot_version {version} in the snapshot, "
                f"{ours[name]} in this node's code")
    try:
        chain = HashChain(state.log_index, state.chain_head)
    except ValueError as exc:
        raise SnapshotError(f"snapshot chain head is unusable: {exc}") from None
    engine.sessions.restore(list(state.sessions))
    engine.timers.restore([tuple(item) for item in state.timers])
    engine.chain = chain
    engine.applied_index = state.log_index
    engine.last_timestamp_ns = state.timestamp_ns
    return {m.name: m.state for m in state.modules}
