"""The Raft state machine: roles, terms, elections and the follower side of replication.

The leader side (sending appends, handling their answers, leadership transfer) lives in
``leader.py``. Nothing here does I/O or reads a clock: input is ``tick()`` and ``step()``,
output is ``self.msgs`` and the log, which ``RawNode`` turns into a ``Ready``.
"""

from __future__ import annotations

import enum
from random import Random

import msgspec

from venue.codecs import EntryKind

from . import leader, membership, recovery
from .config import Config
from .log import RaftLog
from .messages import NONE, HardState, Message, MessageType, Snapshot
from .quorum import VoteResult
from .storage import Storage
from .tracker import ProgressTracker

MT = MessageType


class Role(enum.IntEnum):
    FOLLOWER = 1
    PRE_CANDIDATE = 2
    CANDIDATE = 3
    LEADER = 4


class CampaignKind(enum.IntEnum):
    PRE_ELECTION = 1  # pre-vote phase: ask without bumping the term
    ELECTION = 2
    TRANSFER = 3  # started by TimeoutNow: skips pre-vote and overrides leader leases


class Raft:
    """One node's Raft state. Use it through :class:`~venue.cluster.raft.RawNode`."""

    def __init__(self, config: Config, storage: Storage, rng: Random) -> None:
        self.id = config.id
        self.config = config
        self.rng = rng
        self.log = RaftLog(storage, config.committed_size_per_ready_bytes_max)
        hard_state, conf_state = storage.initial_state()
        if storage.first_index() == 1 and (conf_state.voters or conf_state.learners):
            raise ValueError("membership at index 0 would be invisible to nodes that join "
                             "later: bootstrap from a snapshot at index >= 1 "
                             "(storage.bootstrap_snapshot)")
        self.tracker = ProgressTracker(config.inflight_messages_max)
        self.tracker.restore(conf_state, self.log.last_index() + 1)
        self.term = 0
        self.vote = NONE
        self.lead = NONE
        self.role = Role.FOLLOWER
        self.msgs: list[Message] = []
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = config.election_timeout_ticks
        self.lead_transferee = NONE
        self.pending_conf_index = 0
        self.uncommitted_size_bytes = 0
        # None unless this node may have forgotten entries it acknowledged (recovery.py)
        self.recovery = recovery.Recovery() if config.recovering else None
        self.fell_back = False  # it left recovering by the fallback
        self.fallback: recovery.Fallback | None = None  # since the fallback: a vote floor
        self._load_hard_state(hard_state)
        self._load_applied(config.applied)
        self.become_follower(self.term, NONE)

    def _load_hard_state(self, hard_state: HardState) -> None:
        if hard_state == HardState():
            return  # never persisted one: a new node
        if not self.log.committed <= hard_state.commit <= self.log.last_index():
            raise ValueError(f"stored commit {hard_state.commit} is outside the stored log "
                             f"[{self.log.committed}, {self.log.last_index()}]")
        self.log.committed = hard_state.commit
        self.term = hard_state.term
        self.vote = hard_state.vote

    def _load_applied(self, applied: int) -> None:
        """Skip entries the application already applied, replaying their membership
        changes (the stored conf state is as of the snapshot)."""
        if applied <= self.log.applied:
            return
        if applied > self.log.committed:
            raise ValueError(f"Config.applied {applied} is beyond the stored commit "
                             f"{self.log.committed}")
        for entry in self.log.slice(self.log.applied + 1, applied + 1, 1 << 62):
            if entry.kind == EntryKind.CONFIG_CHANGE:
                self.tracker.apply_change(membership.decode_conf_change(entry),
                                          self.log.last_index())
        self.log.applied_to(applied)

    # -- state ---------------------------------------------------------------------------

    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    def promotable(self) -> bool:
        """Whether this node may campaign: a voter with no snapshot waiting to persist."""
        return self.tracker.is_voter(self.id) and self.log.unstable.snapshot is None

    def send(self, type_: MessageType, to: int, term: int | None = None,
             **fields: object) -> None:
        term = self.term if term is None else term
        self.msgs.append(Message(type_, to, self.id, term, **fields))  # type: ignore[arg-type]

    # -- role changes --------------------------------------------------------------------

    def reset(self, term: int) -> None:
        if term != self.term:
            self.term = term
            self.vote = NONE
        self.lead = NONE
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        timeout = self.config.election_timeout_ticks
        self.randomized_election_timeout = timeout + self.rng.randrange(timeout)
        self.lead_transferee = NONE
        self.tracker.reset_votes()
        last_index = self.log.last_index()
        for node_id, progress in self.tracker.progress.items():
            progress.reset(last_index + 1)
            if node_id == self.id:
                progress.match = last_index
        self.pending_conf_index = 0
        self.uncommitted_size_bytes = 0

    def become_follower(self, term: int, lead: int) -> None:
        self.reset(term)
        self.lead = lead
        self.role = Role.FOLLOWER

    def become_pre_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("a leader cannot become a pre-candidate")
        self.tracker.reset_votes()
        self.lead = NONE
        self.role = Role.PRE_CANDIDATE

    def become_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("a leader cannot become a candidate")
        self.reset(self.term + 1)
        self.vote = self.id
        self.role = Role.CANDIDATE

    def become_leader(self) -> None:
        if self.role == Role.FOLLOWER:
            raise AssertionError("a follower cannot become leader without an election")
        self.reset(self.term)
        self.lead = self.id
        self.role = Role.LEADER
        own = self.tracker.progress[self.id]
        own.become_replicate()
        own.recent_active = True
        leader.append_entries(self, [(EntryKind.NOOP, NOOP_PAYLOAD, self.last_timestamp_ns())])
        # No membership change until this term's NOOP is applied: that rules out two
        # concurrent single-server changes across a leader change (Ongaro's fix).
        self.pending_conf_index = self.log.last_index()

    def last_timestamp_ns(self) -> int:
        """Timestamp of the last entry, so entries the core adds never go back in time."""
        last = self.log.last_index()
        if last < self.log.first_index():  # compacted up to the snapshot: its stamp
            return self.log.snapshot_metadata().timestamp_ns
        return self.log.slice(last, last + 1, 1 << 62)[0].timestamp_ns

    # -- time ----------------------------------------------------------------------------

    def tick(self) -> None:
        if self.role == Role.LEADER:
            self._tick_heartbeat()
        else:
            self._tick_election()

    def _tick_election(self) -> None:
        self.election_elapsed += 1
        recovery.tick_fallback(self)
        if self.recovery is not None:
            recovery.tick(self)  # it may not campaign: it polls, and may fall back
        elif self.promotable() and self.election_elapsed >= self.randomized_election_timeout:
            self.election_elapsed = 0
            self.hup(CampaignKind.ELECTION)

    def _tick_heartbeat(self) -> None:
        self.heartbeat_elapsed += 1
        self.election_elapsed += 1
        if self.election_elapsed >= self.config.election_timeout_ticks:
            self.election_elapsed = 0
            if self.config.check_quorum and not self.tracker.quorum_active(self.id):
                self.become_follower(self.term, NONE)
                return
            self.lead_transferee = NONE  # a transfer not done in an election timeout failed
            if not self.tracker.is_voter(self.id):
                leader.hand_over(self)  # removed: try again
        if self.heartbeat_elapsed >= self.config.heartbeat_interval_ticks:
            self.heartbeat_elapsed = 0
            leader.broadcast_heartbeat(self)

    # -- elections -----------------------------------------------------------------------

    def hup(self, kind: CampaignKind) -> None:
        """Start a campaign if allowed. ``ELECTION`` means pre-vote first when enabled."""
        if self.role == Role.LEADER or not self.promotable() or self.recovery is not None:
            return
        if self._has_unapplied_conf_change():
            return  # the membership we would campaign in is about to change
        if kind == CampaignKind.ELECTION and self.config.pre_vote:
            kind = CampaignKind.PRE_ELECTION
        self.campaign(kind)

    def _has_unapplied_conf_change(self) -> bool:
        if self.log.committed <= self.log.applied:
            return False
        lo = max(self.log.applied + 1, self.log.first_index())
        entries = self.log.slice(lo, self.log.committed + 1, 1 << 62)
        return any(entry.kind == EntryKind.CONFIG_CHANGE for entry in entries)

    def campaign(self, kind: CampaignKind) -> None:
        if kind == CampaignKind.PRE_ELECTION:
            self.become_pre_candidate()
            request, term = MT.PRE_VOTE, self.term + 1
        else:
            self.become_candidate()
            request, term = MT.VOTE, self.term
        if self.poll(self.id, granted=True) == VoteResult.WON:
            self._won(kind)  # a single-voter cluster
            return
        last_index, last_term = self.log.last_index(), self.log.last_term()
        for node_id in self.tracker.voters:
            if node_id != self.id:
                self.send(request, node_id, term=term, index=last_index, log_term=last_term,
                          force=kind == CampaignKind.TRANSFER)

    def _won(self, kind: CampaignKind) -> None:
        if kind == CampaignKind.PRE_ELECTION:
            self.campaign(CampaignKind.ELECTION)
        else:
            self.become_leader()
            leader.broadcast_append(self)

    def poll(self, node_id: int, granted: bool) -> VoteResult:
        self.tracker.record_vote(node_id, granted)
        return self.tracker.tally_votes()[2]

    # -- input ---------------------------------------------------------------------------

    def step(self, m: Message) -> None:
        """Handle one message from a peer."""
        if m.type in (MT.RECOVERY_POLL, MT.RECOVERY_POLL_RESPONSE):
            recovery.step_poll(self, m)
            return
        if m.term > self.term:
            if m.type in (MT.VOTE, MT.PRE_VOTE) and not m.force and self._in_lease():
                return  # we heard from a leader recently: do not let this node disrupt it
            if m.type == MT.PRE_VOTE or (m.type == MT.PRE_VOTE_RESPONSE and not m.reject):
                pass  # a pre-vote never changes our term; a granted one is counted below
            elif m.type in (MT.APPEND, MT.HEARTBEAT, MT.SNAPSHOT):
                self.become_follower(m.term, m.sender)
            else:
                self.become_follower(m.term, NONE)
        elif m.term < self.term:
            self._step_stale(m)
            return
        if m.type in (MT.VOTE, MT.PRE_VOTE):
            self._handle_vote_request(m)
        elif self.role == Role.LEADER:
            leader.step_leader(self, m)
        elif self.role == Role.FOLLOWER:
            self._step_follower(m)
        else:
            self._step_candidate(m)

    def _in_lease(self) -> bool:
        return (self.config.check_quorum and self.lead != NONE
                and self.election_elapsed < self.config.election_timeout_ticks)

    def _step_stale(self, m: Message) -> None:
        if (self.config.check_quorum or self.config.pre_vote) and m.type in (
                MT.APPEND, MT.HEARTBEAT):
            # A deposed leader, or one cut off while we moved on: our higher term in the
            # answer makes it step down (with pre-vote it would otherwise never learn).
            self.send(MT.APPEND_RESPONSE, m.sender)
        elif m.type == MT.PRE_VOTE:
            self.send(MT.PRE_VOTE_RESPONSE, m.sender, reject=True)

    def _handle_vote_request(self, m: Message) -> None:
        response = MT.VOTE_RESPONSE if m.type == MT.VOTE else MT.PRE_VOTE_RESPONSE
        # A recovering node may lack entries it acknowledged: its vote would not count
        # them, so it gives none (recovery.py).
        can_vote = recovery.may_vote(self, m) and (
            self.vote == m.sender or (self.vote == NONE and self.lead == NONE)
            or (m.type == MT.PRE_VOTE and m.term > self.term))
        if can_vote and self.log.is_up_to_date(m.index, m.log_term):
            self.send(response, m.sender, term=m.term)
            if m.type == MT.VOTE:
                self.election_elapsed = 0
                self.vote = m.sender
        else:
            self.send(response, m.sender, reject=True)

    def _step_follower(self, m: Message) -> None:
        if m.type in (MT.APPEND, MT.HEARTBEAT, MT.SNAPSHOT):
            self.election_elapsed = 0
            self.lead = m.sender
            self._handle_leader_message(m)
        elif m.type == MT.TRANSFER_LEADER:
            if self.lead != NONE:
                self.msgs.append(msgspec.structs.replace(m, to=self.lead, term=self.term))
        elif m.type == MT.TIMEOUT_NOW:
            self.hup(CampaignKind.TRANSFER)

    def _step_candidate(self, m: Message) -> None:
        own_response = (MT.PRE_VOTE_RESPONSE if self.role == Role.PRE_CANDIDATE
                        else MT.VOTE_RESPONSE)
        if m.type in (MT.APPEND, MT.HEARTBEAT, MT.SNAPSHOT):
            self.become_follower(m.term, m.sender)  # a leader won this term
            self._handle_leader_message(m)
        elif m.type == own_response:
            result = self.poll(m.sender, not m.reject)
            if result == VoteResult.WON:
                kind = (CampaignKind.PRE_ELECTION if self.role == Role.PRE_CANDIDATE
                        else CampaignKind.ELECTION)
                self._won(kind)
            elif result == VoteResult.LOST:
                self.become_follower(self.term, NONE)

    def _handle_leader_message(self, m: Message) -> None:
        self.fallback = None  # a leader exists again (recovery.py)
        if m.type == MT.APPEND:
            self._handle_append(m)
        elif m.type == MT.HEARTBEAT:
            if self.recovery is not None:
                recovery.on_heartbeat(self, m)
                return
            self.log.commit_to(m.commit)
            self.send(MT.HEARTBEAT_RESPONSE, m.sender)
        else:
            self._handle_snapshot(m)

    def _handle_append(self, m: Message) -> None:
        if m.index < self.log.committed:
            self.send(MT.APPEND_RESPONSE, m.sender, index=self.log.committed)
            recovery.maybe_finish(self)
            return
        last_new = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last_new is not None:
            self.send(MT.APPEND_RESPONSE, m.sender, index=last_new)
            recovery.on_matched(self, last_new)
            return
        # Fast back-off: tell the leader the last entry that could match its log, so it
        # skips a whole conflicting term per round trip instead of one entry.
        hint_index, hint_term = self.log.find_conflict_by_term(
            min(m.index, self.log.last_index()), m.log_term)
        self.send(MT.APPEND_RESPONSE, m.sender, index=m.index, reject=True,
                  reject_hint=hint_index, log_term=hint_term)

    def _handle_snapshot(self, m: Message) -> None:
        snapshot = m.snapshot
        if snapshot is None:
            raise AssertionError("SNAPSHOT message without a snapshot")
        if self._restore(snapshot):
            self.send(MT.APPEND_RESPONSE, m.sender, index=self.log.last_index())
        else:
            self.send(MT.APPEND_RESPONSE, m.sender, index=self.log.committed)
        recovery.on_matched(self, self.log.committed)

    def _restore(self, snapshot: Snapshot) -> bool:
        if snapshot.index <= self.log.committed:
            return False
        if self.log.match_term(snapshot.index, snapshot.term):
            self.log.commit_to(snapshot.index)  # we hold the entries: just move commit
            return False
        self.log.restore(snapshot)
        self.tracker.restore(snapshot.metadata.conf_state, self.log.last_index() + 1)
        return True


NOOP_PAYLOAD = b"\x90"  # msgpack of the empty array-like struct ``NoOp()``
