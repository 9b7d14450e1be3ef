"""``RawNode``: the public face of the Raft core, and the ``Ready`` it hands the node loop.

The node loop drives it like this (the core checks the take/advance pairing)::

    node.tick()                      # every tick interval
    node.step(message)               # every message received from a peer
    node.propose(payload, timestamp_ns=now)   # on the leader
    ready = node.ready()
    if ready is not None:
        persist(ready.hard_state, ready.entries, ready.snapshot)   # fsync if must_sync
        send(ready.messages)
        apply(ready.snapshot, ready.committed_entries)
        node.advance(ready)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from venue.codecs import ConfigChange, EntryKind, LogEntry

from . import leader
from .config import Config
from .errors import ReadyOrderError
from .membership import apply_conf_change, decode_conf_change, propose_conf_change
from .messages import NONE, ConfState, HardState, Message, MessageType, Snapshot
from .progress import ProgressState
from .raft import CampaignKind, Raft, Role
from .storage import Storage
from .tracker import ConfChangeType

_SENDABLE_BEFORE_PERSIST = (MessageType.APPEND, MessageType.HEARTBEAT)


@dataclass(frozen=True)
class SoftState:
    """Volatile state worth telling the node loop about when it changes."""

    lead: int
    role: Role


@dataclass(frozen=True)
class Ready:
    """Work for the node loop, to be done in this order, then ``advance(ready)``:

    1. persist ``hard_state`` (if not None), ``snapshot`` (if not None) and ``entries``
       (appending them, replacing any stored entries from ``entries[0].index`` on); sync the
       write first if ``must_sync`` (in ``fsync`` durability mode);
    2. send ``messages`` (a leader may send some of them before step 1:
       ``RawNode.sendable_before_persist``);
    3. restore the state machine from ``snapshot`` (if any), then apply
       ``committed_entries`` in order;
    4. call ``advance(ready)``.
    """

    soft_state: SoftState | None
    hard_state: HardState | None
    entries: tuple[LogEntry, ...]
    snapshot: Snapshot | None
    committed_entries: tuple[LogEntry, ...]
    messages: tuple[Message, ...]
    must_sync: bool


@dataclass(frozen=True)
class ProgressStatus:
    match: int
    next: int
    state: ProgressState
    recent_active: bool
    paused: bool
    inflight_count: int
    is_learner: bool


@dataclass(frozen=True)
class Status:
    """A snapshot of a node's Raft state for monitoring and tests."""

    id: int
    role: Role
    term: int
    vote: int
    lead: int
    commit: int
    applied: int
    first_index: int
    last_index: int
    lead_transferee: int
    conf_state: ConfState
    progress: dict[int, ProgressStatus] = field(default_factory=dict)  # leader only
    recovering: bool = False  # may lack entries it acknowledged: no votes yet (recovery.py)
    fell_back: bool = False  # left recovering because too many voters were recovering


class RawNode:
    """A sans-I/O Raft node (etcd's RawNode). Not thread-safe; one caller drives it.

    ``rng`` draws the randomised election timeouts: pass a seeded ``random.Random`` so one
    seed replays one history.
    """

    def __init__(self, config: Config, storage: Storage, rng: Random) -> None:
        self._raft = Raft(config, storage, rng)
        self._previous_soft = SoftState(self._raft.lead, self._raft.role)
        self._previous_hard = self._raft.hard_state()
        self._outstanding: Ready | None = None

    @property
    def id(self) -> int:
        return self._raft.id

    # -- input ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance logical time by one tick (heartbeats, election timeouts)."""
        self._raft.tick()

    def campaign(self) -> None:
        """Start an election now (with pre-vote, if configured)."""
        self._raft.hup(CampaignKind.ELECTION)

    def step(self, message: Message) -> None:
        """Handle a message received from a peer."""
        if message.to != self._raft.id:
            raise ValueError(f"message for node {message.to} stepped into node {self.id}")
        if message.sender == NONE:
            raise ValueError("message has no sender")
        self._raft.step(message)

    def propose(self, payload: bytes, kind: EntryKind = EntryKind.COMMAND_BATCH,
                timestamp_ns: int | None = None) -> LogEntry:
        """Append an entry on the leader and start replicating it; return the entry (its
        index and term identify it: it is committed when an entry with that index *and*
        term is applied). ``timestamp_ns`` defaults to the previous entry's. Raises
        ``ProposalDropped`` if this node cannot take it now."""
        if kind == EntryKind.CONFIG_CHANGE:
            raise ValueError("use propose_config_change for membership changes")
        return leader.propose(self._raft, EntryKind(kind), payload, timestamp_ns)

    def propose_config_change(self, change: ConfigChange,
                              timestamp_ns: int | None = None) -> LogEntry:
        """Propose adding a voter, adding a learner (or demoting a voter), or removing a
        node: one at a time. The change takes effect on each node when that node applies
        the committed entry (at ``advance``). Raises ``ProposalDropped`` if another change
        is still in progress or the change makes no sense for the current membership."""
        if change.change not in tuple(ConfChangeType):
            raise ValueError(f"unknown ConfigChange.change {change.change}: "
                             f"use 1 (add voter), 2 (add learner) or 3 (remove)")
        if change.node_id < 1:
            raise ValueError(f"ConfigChange.node_id must be >= 1, got {change.node_id}")
        return propose_conf_change(self._raft, change, timestamp_ns)

    def transfer_leader(self, to: int) -> None:
        """Ask the leader to hand leadership to ``to`` (forwarded if we are a follower)."""
        r = self._raft
        if r.is_leader():
            leader.transfer_leader(r, to)
        elif r.lead != NONE:
            r.msgs.append(Message(MessageType.TRANSFER_LEADER, r.lead, to, r.term))

    def report_unreachable(self, node_id: int) -> None:
        """The transport failed to reach ``node_id``."""
        if self._raft.is_leader():
            leader.report_unreachable(self._raft, node_id)

    def report_snapshot(self, node_id: int, succeeded: bool) -> None:
        """The transport finished (or failed) sending a snapshot to ``node_id``."""
        if self._raft.is_leader():
            leader.report_snapshot(self._raft, node_id, succeeded)

    # -- output --------------------------------------------------------------------------

    def has_ready(self) -> bool:
        r = self._raft
        return (SoftState(r.lead, r.role) != self._previous_soft
                or r.hard_state() != self._previous_hard
                or bool(r.log.unstable.entries) or r.log.unstable.snapshot is not None
                or bool(r.msgs) or r.log.has_next_committed_entries())

    def ready(self) -> Ready | None:
        """The work to do now, or None. Raises ``ReadyOrderError`` if the previous Ready
        was not advanced."""
        if self._outstanding is not None:
            raise ReadyOrderError("advance() the previous Ready before taking another")
        if not self.has_ready():
            return None
        r = self._raft
        soft = SoftState(r.lead, r.role)
        hard = r.hard_state()
        entries = tuple(r.log.unstable_entries())
        snapshot = r.log.unstable.snapshot
        previous = self._previous_hard
        ready = Ready(
            soft_state=soft if soft != self._previous_soft else None,
            hard_state=hard if hard != previous else None,
            entries=entries,
            snapshot=snapshot,
            committed_entries=tuple(r.log.next_committed_entries()),
            messages=tuple(r.msgs),
            must_sync=(hard.term != previous.term or hard.vote != previous.vote
                       or bool(entries) or snapshot is not None),
        )
        r.msgs = []
        self._outstanding = ready
        return ready

    def sendable_before_persist(self, ready: Ready) -> tuple[Message, ...]:
        """The messages of ``ready`` that may leave before it is persisted: a leader's
        appends and heartbeats, when it was leader before this Ready and its term and vote
        are unchanged (Raft thesis §10.2.1: the leader writes to its disk in parallel with
        its followers). No commit index in them counts an entry held only in the leader's
        memory: the leader counts its own entries once they are persisted (``advance``).
        Votes, answers and snapshots still wait for the persist. Call before ``advance``."""
        r = self._raft
        if ready.soft_state is not None or ready.snapshot is not None or not r.is_leader():
            return ()
        hard, previous = ready.hard_state, self._previous_hard
        if hard is not None and (hard.term, hard.vote) != (previous.term, previous.vote):
            return ()
        return tuple(m for m in ready.messages if m.type in _SENDABLE_BEFORE_PERSIST)

    def advance(self, ready: Ready) -> None:
        """Tell the core that ``ready`` was persisted, sent and applied."""
        if ready is not self._outstanding:
            raise ReadyOrderError("advance() must be given the Ready last returned by ready()")
        self._outstanding = None
        r = self._raft
        if ready.soft_state is not None:
            self._previous_soft = ready.soft_state
        if ready.hard_state is not None:
            self._previous_hard = ready.hard_state
        if ready.snapshot is not None:
            r.log.stable_snap_to(ready.snapshot.index)
            r.log.applied_to(max(r.log.applied, ready.snapshot.index))
        if ready.entries:
            last = ready.entries[-1]
            r.log.stable_to(last.index, last.term)
            leader.self_acknowledge(r, last.index, last.term)
        if ready.committed_entries:
            for entry in ready.committed_entries:
                if entry.kind == EntryKind.CONFIG_CHANGE:
                    apply_conf_change(r, decode_conf_change(entry))
            r.log.applied_to(ready.committed_entries[-1].index)
            leader.reduce_uncommitted_size(r, ready.committed_entries)

    # -- inspection ----------------------------------------------------------------------

    def status(self) -> Status:
        r = self._raft
        progress = {}
        if r.is_leader():
            for node_id in r.tracker.ids():
                p = r.tracker.progress[node_id]
                progress[node_id] = ProgressStatus(p.match, p.next, p.state, p.recent_active,
                                                   p.is_paused(), len(p.inflights),
                                                   p.is_learner)
        return Status(r.id, r.role, r.term, r.vote, r.lead, r.log.committed, r.log.applied,
                      r.log.first_index(), r.log.last_index(), r.lead_transferee,
                      r.tracker.conf_state(), progress, r.recovery is not None, r.fell_back)
