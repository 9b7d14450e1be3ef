"""Sans-I/O Raft in the manner of etcd-io/raft's RawNode.

``RawNode`` takes ticks, messages and proposals and hands back ``Ready`` batches of work
(persist, send, apply); it never does I/O, reads a clock or draws unseeded randomness.
"""

from .config import Config
from .errors import ProposalDropped, ReadyOrderError
from .messages import (
    NONE,
    ConfState,
    HardState,
    Message,
    MessageType,
    Snapshot,
    SnapshotMetadata,
    entry_size_bytes,
)
from .node import ProgressStatus, RawNode, Ready, SoftState, Status
from .progress import ProgressState
from .raft import Role
from .storage import (
    CompactedError,
    MemoryStorage,
    SnapshotOutOfDateError,
    Storage,
    StorageError,
    UnavailableError,
    bootstrap_snapshot,
)
from .tracker import ConfChangeType, next_conf_state

__all__ = [
    "NONE",
    "CompactedError",
    "ConfChangeType",
    "ConfState",
    "Config",
    "HardState",
    "MemoryStorage",
    "Message",
    "MessageType",
    "ProgressState",
    "ProgressStatus",
    "ProposalDropped",
    "RawNode",
    "Ready",
    "ReadyOrderError",
    "Role",
    "Snapshot",
    "SnapshotMetadata",
    "SnapshotOutOfDateError",
    "SoftState",
    "Status",
    "Storage",
    "StorageError",
    "UnavailableError",
    "bootstrap_snapshot",
    "entry_size_bytes",
    "next_conf_state",
]
