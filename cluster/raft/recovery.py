"""A node that may have forgotten entries it acknowledged: the recovering state.

In ``replicated`` durability mode a node acknowledges entries from memory and syncs them
later (its term and vote are still synced at once). After a crash it may come back without
entries it acknowledged, some of which a leader may have committed by counting it. Raft's
safety rests on voters never forgetting: a forgetful voter would grant its vote to a
candidate that lacks a committed entry (their logs look equally up to date), and such a
leader would overwrite the entry.

**The rule** (``Config.recovering``, set by the node loop when it restarts after a crash in
``replicated`` mode). A recovering node does not vote, grant pre-votes or campaign (nor
take over by leadership transfer). It still accepts entries and snapshots, and counts for
commit with what it acknowledges now. It leaves the state when, in its current term ``T``:

1. it has heard a heartbeat from the leader of ``T`` (``T`` is at least the term it
   restarted with, which was synced), which carries that leader's last index ``L``; and
2. its log is known to match that leader's up to ``L`` (a successful append ending at or
   past ``L``, a snapshot at or past ``L``, or a commit index at or past ``L``).

Why that suffices: a leader counts only acknowledgements of its own term, so any commit
that counted one the node has lost was made by a leader of a term ``u <= T`` (the node's
term only grows). If ``u < T``, the entry is in the log of the leader of ``T`` since its
election (Leader Completeness; it still holds because that leader was elected by voters
that were not recovering, and every majority meets the commit quorum in such a voter). If
``u = T``, that leader is the one the node acknowledged the entry to before its crash, and
it had the entry before it sent the heartbeat. Either way the entry is at or below ``L``,
so once the log matches up to ``L`` the node holds everything whose commit may have counted
on it, and its vote means again what Raft needs it to mean. (Acknowledgements from before
the crash that reach the leader late are for entries at or below ``L`` too.)

While recovering, the node answers every heartbeat with a rejection naming its last index,
and does not take the heartbeat's commit index (the leader's match for it may be stale):
the leader then lowers its match and probes it again (``Progress`` would otherwise treat
the node's rejections at or below the stale match as stale and stall).

**Transport assumption.** A message sent to a node before it crashed must not be delivered
to it after it restarted (TCP does this: the connection dies with the process); otherwise
an old heartbeat could name a last index from before entries the node acknowledged.

**Limits: too many recovering at once.** The rule is safe, and the cluster available, while
the voters that are not recovering (nor down) form a majority: they elect leaders and the
recovering ones catch up from them. When so many are recovering that the others are fewer
than a majority (in practice: a majority crashed within one flush interval, as in a power
loss of the whole cluster, or nodes crashed while earlier crashed ones could not yet reach
a leader), no leader can be elected and the cluster would stay down for ever. So a
recovering node that has not heard from a leader for a (randomised) election timeout polls
the voters (``RECOVERY_POLL``); a voter answers yes when it is recovering and has not heard
from a leader within an election timeout either. When, at the end of a round, the voters
that did not answer yes are fewer than a majority, the node **falls back**: it leaves the
recovering state with whatever it has on disk and takes part in elections as an ordinary
node (``Status.fell_back``), except that until it hears from a leader (or for
``FLOOR_TIMEOUTS`` election timeouts) it votes only for a candidate whose log is at least
as up to date as the best log among the nodes that answered yes (their answers carry their
log ends): so the longest surviving log wins when the polls went through, and a node that
had applied entries the others lost does not find them overwritten. Entries that were
committed but synced by no node that took part are lost, and when polls are lost too,
entries synced by fewer than a majority may be. ``replicated`` mode accepts that only in
this case, which is its promise (DESIGN §3): losing a majority at once may lose the
unsynced tail. A node whose synced commit index covers entries the new leader lacks stops
with an error (``entry ... conflicts with committed entry``); rebuild it from a peer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import Message, MessageType
from .quorum import majority

if TYPE_CHECKING:
    from .raft import Raft

MT = MessageType


class Recovery:
    """What a recovering node knows about its catching up."""

    def __init__(self) -> None:
        self.target_term = 0  # the term of the leader whose log end we must reach
        self.target_index = 0  # that leader's last index, from its first heartbeat
        self.matched_term = 0
        self.matched_index = 0  # our log matches the leader of ``matched_term`` up to here
        self.poll_elapsed_ticks = 0
        self.poll_round = 0
        self.polls: dict[int, bool] = {}  # voter -> recovering and leaderless, this round
        self.best_log: tuple[int, int] = (0, 0)  # (last term, last index) of those saying yes

    def __repr__(self) -> str:
        return (f"Recovery(target={self.target_term}/{self.target_index} "
                f"matched={self.matched_term}/{self.matched_index})")


def on_heartbeat(r: Raft, m: Message) -> None:
    """A heartbeat from the leader of our term: learn its log end, tell it ours."""
    recovery = r.recovery
    assert recovery is not None
    if recovery.target_term != r.term:
        recovery.target_term, recovery.target_index = r.term, m.index
    r.send(MT.HEARTBEAT_RESPONSE, m.sender, reject=True, reject_hint=r.log.last_index())
    maybe_finish(r)


def on_matched(r: Raft, index: int) -> None:
    """Our log is known to match the leader of our term up to ``index``."""
    recovery = r.recovery
    if recovery is None:
        return
    if recovery.matched_term != r.term:
        recovery.matched_term, recovery.matched_index = r.term, 0
    recovery.matched_index = max(recovery.matched_index, index)
    maybe_finish(r)


def maybe_finish(r: Raft) -> None:
    """Leave the recovering state once the log matches the leader's up to its log end."""
    recovery = r.recovery
    if recovery is None or recovery.target_term != r.term:
        return
    matched = r.log.committed  # committed entries match every leader's log
    if recovery.matched_term == r.term:
        matched = max(matched, recovery.matched_index)
    if matched >= recovery.target_index:
        r.recovery = None


def leaderless(r: Raft) -> bool:
    """Recovering, and no leader heard from within an election timeout."""
    return r.recovery is not None and r.election_elapsed >= r.config.election_timeout_ticks


class Fallback:
    """After a fallback, until a leader is heard from: the least up-to-date log this node
    votes for, for at most ``FLOOR_TIMEOUTS`` election timeouts (the node that held the best
    log may be gone for good; then the others go on without it)."""

    def __init__(self, floor: tuple[int, int]) -> None:
        self.floor = floor  # (last term, last index)
        self.elapsed_ticks = 0


FLOOR_TIMEOUTS = 5


def tick(r: Raft) -> None:
    """A tick of a recovering node (instead of campaigning): poll once per randomised
    election timeout without a leader; fall back when the last round found too many
    recovering (the round had a whole timeout to collect its answers)."""
    recovery = r.recovery
    assert recovery is not None
    recovery.poll_elapsed_ticks += 1
    timeout = r.randomized_election_timeout
    if r.election_elapsed < timeout or recovery.poll_elapsed_ticks < timeout:
        return
    recovery.poll_elapsed_ticks = 0
    if _maybe_fall_back(r):
        return
    recovery.poll_round += 1
    recovery.polls = {r.id: True} if r.tracker.is_voter(r.id) else {}
    recovery.best_log = (r.log.last_term(), r.log.last_index())
    for node_id in r.tracker.voters:
        if node_id != r.id:
            r.send(MT.RECOVERY_POLL, node_id, index=recovery.poll_round)


def tick_fallback(r: Raft) -> None:
    fallback = r.fallback
    if fallback is not None:
        fallback.elapsed_ticks += 1
        if fallback.elapsed_ticks >= FLOOR_TIMEOUTS * r.config.election_timeout_ticks:
            r.fallback = None


def step_poll(r: Raft, m: Message) -> None:
    """A poll or its answer. Neither changes anyone's term."""
    if m.type == MT.RECOVERY_POLL:  # answer with our log's end in reject_hint / log_term
        r.send(MT.RECOVERY_POLL_RESPONSE, m.sender, index=m.index, reject=not leaderless(r),
               reject_hint=r.log.last_index(), log_term=r.log.last_term())
        return
    recovery = r.recovery
    if recovery is None or m.index != recovery.poll_round or not r.tracker.is_voter(m.sender):
        return
    if m.sender not in recovery.polls and not m.reject:
        recovery.best_log = max(recovery.best_log, (m.log_term, m.reject_hint))
    recovery.polls.setdefault(m.sender, not m.reject)


def may_vote(r: Raft, m: Message) -> bool:
    """Whether this node may grant ``m`` (a vote or pre-vote request) at all: never while
    recovering; after a fallback, only to a candidate whose log is at least as up to date
    as the best log among the polled nodes (until a leader is heard from)."""
    if r.recovery is not None:
        return False
    return r.fallback is None or (m.log_term, m.index) >= r.fallback.floor


def _maybe_fall_back(r: Raft) -> bool:
    recovery = r.recovery
    assert recovery is not None
    voter_count = len(r.tracker.voters)
    yes = sum(1 for node_id in r.tracker.voters if recovery.polls.get(node_id))
    if not recovery.poll_round or voter_count - yes >= majority(voter_count):
        return False
    # The others cannot elect a leader without us: fall back (the module docstring).
    r.recovery = None
    r.fell_back = True
    r.fallback = Fallback(recovery.best_log)
    return True
