"""The node core's settings, results and errors (``cluster/nodecore.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from venue.codecs import ConfigChange
from venue.engine import Applied

from .divergence import CHECKPOINT_INTERVAL_ENTRIES_DEFAULT, Divergence
from .raft import HardState, Message, Ready

BATCH_COMMANDS_MAX_DEFAULT = 1024
QUEUED_COMMANDS_MAX_DEFAULT = 65_536
SNAPSHOT_INTERVAL_ENTRIES_DEFAULT = 50_000
SNAPSHOT_INTERVAL_BYTES_DEFAULT = 256 << 20
LOG_RETAINED_ENTRIES_DEFAULT = 5_000
EVENTS_RETAINED_ENTRIES_DEFAULT = 1_000_000


class NotLeader(Exception):
    """This node cannot take the request: ``leader_id`` (0 if unknown) can."""

    def __init__(self, leader_id: int) -> None:
        super().__init__(f"not the leader (leader: {leader_id or 'unknown'})")
        self.leader_id = leader_id


class Overloaded(Exception):
    """The sequencer's queue is full: resend later (back-pressure)."""


@dataclass(frozen=True)
class NodeSettings:
    node_id: int
    voters: tuple[int, ...]
    election_timeout_ticks: int = 15
    heartbeat_interval_ticks: int = 2
    batch_commands_max: int = BATCH_COMMANDS_MAX_DEFAULT
    queued_commands_max: int = QUEUED_COMMANDS_MAX_DEFAULT
    snapshot_interval_entries: int = SNAPSHOT_INTERVAL_ENTRIES_DEFAULT
    # or once this many bytes of entry payload were applied since (big commands, few entries)
    snapshot_interval_bytes: int = SNAPSHOT_INTERVAL_BYTES_DEFAULT
    message_size_bytes_max: int = 4 << 20
    checkpoint_interval_entries: int = CHECKPOINT_INTERVAL_ENTRIES_DEFAULT
    log_retained_entries: int = LOG_RETAINED_ENTRIES_DEFAULT
    events_retained_entries: int = EVENTS_RETAINED_ENTRIES_DEFAULT  # 0: keep every event
    snapshot_in_background: bool = True  # a forked child serialises (where fork exists)


@dataclass
class Output:
    """What one ``process`` call produced, for the shell to deliver."""

    messages: list[Message] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    applied_timestamps_ns: list[int] = field(default_factory=list)  # each one's log timestamp
    opened: list[tuple[int, int]] = field(default_factory=list)  # (token, session id)
    lost_opens: list[int] = field(default_factory=list)  # tokens whose entry lost its place
    checkpoints: list[tuple[int, bytes]] = field(default_factory=list)  # (index, chain hash)
    conf_changes: list[ConfigChange] = field(default_factory=list)  # applied membership
    divergences: list[Divergence] = field(default_factory=list)  # found by this leader

    def extend(self, other: Output) -> None:
        for name in ("messages", "applied", "applied_timestamps_ns", "opened", "lost_opens",
                     "checkpoints", "conf_changes", "divergences"):
            getattr(self, name).extend(getattr(other, name))


@dataclass
class Pending:
    """One Ready between ``prepare`` and ``complete``."""

    ready: Ready
    records: list[tuple[int, bytes, bytes, int]]  # (index, chain hash, events, timestamp)
    output: Output
    writes: bool = True  # False: nothing of it must reach the disk now (deferred.py)
    hard_state: HardState | None = None  # what the write stores (the Ready's, or one held)
    early: tuple[Message, ...] = ()  # a leader's messages sent before the write
    written: tuple | None = None
