"""Raft messages and the persistent records they carry.

Everything here is a frozen, array-like msgspec Struct so that the network layer can encode
it with one ``msgspec.msgpack.Encoder`` and decode it with one typed ``Decoder(Message)``.
Fields are only ever appended, with defaults, so old peers can read new frames.

Sizes: :func:`entry_size_bytes` and :meth:`Message.size_bytes` are *upper bounds* on the
msgpack encoding (every integer counted at its widest, 9 bytes), so a limit enforced on the
estimate is also a limit on the bytes on the wire. A property test pins this.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import msgspec

from venue.codecs import LogEntry

NONE = 0
"""The node id that means "nobody" (no vote, no known leader). Real node ids are >= 1."""

INT_SIZE_BYTES_MAX = 9  # msgpack uint64 / int64
CONTAINER_HEADER_BYTES_MAX = 5  # msgpack array32 / bin32 header
ENTRY_OVERHEAD_BYTES = 1 + 3 * INT_SIZE_BYTES_MAX + 1 + CONTAINER_HEADER_BYTES_MAX  # 34
MESSAGE_OVERHEAD_BYTES = 96  # header + 9 scalar fields at their widest + empty containers
SNAPSHOT_OVERHEAD_BYTES = 64  # snapshot + metadata + conf state headers, index, term


class MessageType(enum.IntEnum):
    """What a :class:`Message` asks or answers. Values are permanent (they go on the wire)."""

    APPEND = 1
    APPEND_RESPONSE = 2
    VOTE = 3
    VOTE_RESPONSE = 4
    PRE_VOTE = 5
    PRE_VOTE_RESPONSE = 6
    SNAPSHOT = 7
    HEARTBEAT = 8
    HEARTBEAT_RESPONSE = 9
    TRANSFER_LEADER = 10
    TIMEOUT_NOW = 11
    RECOVERY_POLL = 12
    RECOVERY_POLL_RESPONSE = 13


class HardState(msgspec.Struct, frozen=True, array_like=True):
    """What a node must persist before it sends the messages of the same Ready."""

    term: int = 0
    vote: int = NONE
    commit: int = 0


class ConfState(msgspec.Struct, frozen=True, array_like=True):
    """The membership: voter ids and learner ids, each sorted ascending, disjoint."""

    voters: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()


class SnapshotMetadata(msgspec.Struct, frozen=True, array_like=True):
    index: int
    term: int
    conf_state: ConfState = ConfState()
    timestamp_ns: int = 0  # of the entry at ``index``: time never goes back past a snapshot


class Snapshot(msgspec.Struct, frozen=True, array_like=True):
    """The application's state after applying every entry up to ``metadata.index``.

    ``data`` is opaque to Raft: the engine's snapshot bytes.
    """

    metadata: SnapshotMetadata
    data: bytes = b""

    @property
    def index(self) -> int:
        return self.metadata.index

    @property
    def term(self) -> int:
        return self.metadata.term

    def size_bytes(self) -> int:
        """Upper bound on the encoded size. O(1)."""
        conf = self.metadata.conf_state
        members = len(conf.voters) + len(conf.learners)
        return SNAPSHOT_OVERHEAD_BYTES + INT_SIZE_BYTES_MAX * members + len(self.data)


EMPTY_SNAPSHOT = Snapshot(SnapshotMetadata(0, 0))


class Message(msgspec.Struct, frozen=True, array_like=True):
    """One Raft message, in the manner of etcd's ``raftpb.Message``.

    Field use by type:

    - ``APPEND``: ``index``/``log_term`` name the entry preceding ``entries``; ``commit`` is
      the leader's commit index.
    - ``APPEND_RESPONSE``: ``index`` is the follower's last matching index; on ``reject``,
      ``index`` echoes the rejected ``APPEND.index`` and ``reject_hint``/``log_term`` name
      the follower's guess of the last entry that may match (fast back-off).
    - ``VOTE``/``PRE_VOTE``: ``index``/``log_term`` are the candidate's last entry; ``force``
      marks a campaign started by leadership transfer (it may bypass the leader lease).
    - ``SNAPSHOT``: ``snapshot`` is set.
    - ``HEARTBEAT``: ``commit`` is min(follower's match, leader's commit); ``index`` is the
      leader's last index (a recovering follower catches up to it, ``recovery.py``).
    - ``HEARTBEAT_RESPONSE``: ``reject`` from a recovering follower, with its last index in
      ``reject_hint``: the leader lowers a higher match to it and probes again.
    - ``RECOVERY_POLL``: ``index`` numbers the poll round; the ``RECOVERY_POLL_RESPONSE``
      echoes it, does not ``reject`` when the responder is recovering and leaderless, and
      names the responder's last entry in ``reject_hint`` (index) and ``log_term``.
    - ``TRANSFER_LEADER``: as in etcd, ``sender`` is the *transferee* (the wanted leader).
    """

    type: MessageType
    to: int
    sender: int
    term: int
    log_term: int = 0
    index: int = 0
    entries: tuple[LogEntry, ...] = ()
    commit: int = 0
    reject: bool = False
    reject_hint: int = 0
    snapshot: Snapshot | None = None
    force: bool = False

    def size_bytes(self) -> int:
        """Upper bound on the msgpack-encoded size of this message. O(len(entries))."""
        size = MESSAGE_OVERHEAD_BYTES + entries_size_bytes(self.entries)
        if self.snapshot is not None:
            size += self.snapshot.size_bytes()
        return size


def entry_size_bytes(entry: LogEntry) -> int:
    """Upper bound on the encoded size of one log entry. O(1)."""
    return ENTRY_OVERHEAD_BYTES + len(entry.payload)


def entries_size_bytes(entries: Iterable[LogEntry]) -> int:
    """Sum of :func:`entry_size_bytes`. O(n)."""
    return sum(ENTRY_OVERHEAD_BYTES + len(entry.payload) for entry in entries)


def limit_size(entries: list[LogEntry], size_bytes_max: int) -> list[LogEntry]:
    """The longest prefix of ``entries`` within ``size_bytes_max``, but never fewer than
    one entry (so a single large entry still makes progress). O(n).

    >>> from venue.codecs import EntryKind
    >>> es = [LogEntry(i, 1, 0, EntryKind.NOOP, b"x" * 66) for i in (1, 2, 3)]
    >>> len(limit_size(es, 200)), len(limit_size(es, 1)), len(limit_size(es, 10_000))
    (2, 1, 3)
    """
    if not entries:
        return entries
    size = entry_size_bytes(entries[0])
    for count in range(1, len(entries)):
        size += entry_size_bytes(entries[count])
        if size > size_bytes_max:
            return entries[:count]
    return entries


RESPONSE_TYPES: dict[MessageType, bool] = {
    MessageType.APPEND_RESPONSE: True,
    MessageType.VOTE_RESPONSE: True,
    MessageType.PRE_VOTE_RESPONSE: True,
    MessageType.HEARTBEAT_RESPONSE: True,
    MessageType.RECOVERY_POLL_RESPONSE: True,
}
"""Message types that answer a request (a dict, not a set: determinism rules)."""
