"""Membership and per-peer progress: who votes, who learns, what each has acknowledged.

Membership changes are single-server (Raft §6 / thesis §4.1): each change adds or removes
one voter, or adds or removes one learner, so any majority of the old voters overlaps any
majority of the new ones. See ``raft.Raft.apply_conf_change`` for when a change takes effect.
"""

from __future__ import annotations

import enum

from venue.codecs import ConfigChange

from .messages import ConfState
from .progress import Progress
from .quorum import VoteResult, committed_index, majority, vote_result


class ConfChangeType(enum.IntEnum):
    """``ConfigChange.change`` codes (permanent: they are in the log)."""

    ADD_VOTER = 1
    ADD_LEARNER = 2
    REMOVE = 3


def next_conf_state(conf_state: ConfState, change: ConfigChange) -> ConfState:
    """The membership after applying ``change`` to ``conf_state``: a pure function, so the
    node loop can fold CONFIG_CHANGE entries to know the membership at any index (a
    snapshot must carry the membership as of its own index).

    >>> next_conf_state(ConfState((1, 2), (3,)), ConfigChange(1, 3))
    ConfState(voters=(1, 2, 3), learners=())
    """
    voters = [node for node in conf_state.voters if node != change.node_id]
    learners = [node for node in conf_state.learners if node != change.node_id]
    if change.change == ConfChangeType.ADD_VOTER:
        voters.append(change.node_id)
    elif change.change == ConfChangeType.ADD_LEARNER:
        learners.append(change.node_id)
    elif change.change != ConfChangeType.REMOVE:
        raise ValueError(f"unknown ConfigChange.change {change.change}")
    return ConfState(tuple(sorted(voters)), tuple(sorted(learners)))


class ProgressTracker:
    """Voters, learners, their :class:`Progress`, and the votes of the current election.

    Ids are kept sorted so that every iteration is in ascending id order.
    """

    def __init__(self, inflight_messages_max: int) -> None:
        self.inflight_messages_max = inflight_messages_max
        self.voters: list[int] = []
        self.learners: list[int] = []
        self.progress: dict[int, Progress] = {}
        self.votes: dict[int, bool] = {}

    def conf_state(self) -> ConfState:
        return ConfState(tuple(self.voters), tuple(self.learners))

    def ids(self) -> list[int]:
        """Every member, voters and learners, ascending."""
        return sorted(self.progress)

    def is_voter(self, node_id: int) -> bool:
        return node_id in self.voters

    def is_learner(self, node_id: int) -> bool:
        return node_id in self.learners

    def restore(self, conf_state: ConfState, next_index: int) -> None:
        """Replace the membership with ``conf_state`` (start-up or snapshot install)."""
        overlap = [node for node in conf_state.voters if node in conf_state.learners]
        if overlap:
            raise ValueError(f"nodes {overlap} are both voter and learner")
        self.voters = sorted(conf_state.voters)
        self.learners = sorted(conf_state.learners)
        self.progress = {}
        for node_id in self.ids_of(conf_state):
            self.progress[node_id] = Progress(next_index, self.inflight_messages_max,
                                              is_learner=node_id in self.learners)
            self.progress[node_id].recent_active = True
        self.votes = {}

    @staticmethod
    def ids_of(conf_state: ConfState) -> list[int]:
        return sorted([*conf_state.voters, *conf_state.learners])

    def apply_change(self, change: ConfigChange, last_index: int) -> None:
        """Apply one single-server change. Idempotent: adding a member twice or removing a
        non-member changes nothing. A new member's ``next`` is ``last_index`` (not one past
        it), so the leader's first probe carries an entry and goes out at once."""
        conf_state = next_conf_state(self.conf_state(), change)
        self.voters = list(conf_state.voters)
        self.learners = list(conf_state.learners)
        node_id = change.node_id
        if node_id not in self.voters and node_id not in self.learners:
            self.progress.pop(node_id, None)
            return
        progress = self.progress.get(node_id)
        if progress is None:
            progress = Progress(max(last_index, 1), self.inflight_messages_max)
            progress.recent_active = True  # do not fail check-quorum before it answers
            self.progress[node_id] = progress
        progress.is_learner = node_id in self.learners

    def committed(self) -> int:
        """Largest index a majority of voters has acknowledged."""
        match = {node_id: self.progress[node_id].match for node_id in self.voters}
        return committed_index(self.voters, match)

    def reset_votes(self) -> None:
        self.votes = {}

    def record_vote(self, node_id: int, granted: bool) -> None:
        """Record ``node_id``'s answer; only the first answer per election counts."""
        if node_id not in self.votes:
            self.votes[node_id] = granted

    def tally_votes(self) -> tuple[int, int, VoteResult]:
        granted = sum(1 for node in self.voters if self.votes.get(node) is True)
        rejected = sum(1 for node in self.voters if self.votes.get(node) is False)
        return granted, rejected, vote_result(self.voters, self.votes)

    def quorum_active(self, self_id: int) -> bool:
        """Whether a majority of voters (counting ``self_id``) was heard from since the last
        check; clears the marks for the next check."""
        active = 0
        for node_id in self.voters:
            progress = self.progress[node_id]
            if node_id == self_id or progress.recent_active:
                active += 1
        for node_id, progress in self.progress.items():
            progress.recent_active = node_id == self_id
        return active >= majority(len(self.voters))
