"""Majority arithmetic against deliberately naive versions (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from venue.cluster.raft.quorum import VoteResult, committed_index, majority, vote_result

voter_ids = st.lists(st.integers(1, 9), min_size=1, max_size=7, unique=True)


def naive_committed_index(voters: list[int], match: dict[int, int]) -> int:
    """The largest index that more than half of the voters have acknowledged, by trying
    every candidate index."""
    candidates = [0, *(match.get(voter, 0) for voter in voters)]
    acknowledged = [index for index in candidates
                    if 2 * sum(1 for v in voters if match.get(v, 0) >= index) > len(voters)]
    return max(acknowledged)


def naive_vote_result(voters: list[int], votes: dict[int, bool]) -> VoteResult:
    granted = [v for v in voters if votes.get(v) is True]
    undecided = [v for v in voters if v not in votes]
    if 2 * len(granted) > len(voters):
        return VoteResult.WON
    if 2 * (len(granted) + len(undecided)) > len(voters):
        return VoteResult.PENDING
    return VoteResult.LOST


@given(voter_ids, st.data())
def test_committed_index_is_the_largest_index_a_majority_acknowledged(
        voters: list[int], data: st.DataObject) -> None:
    match = {voter: data.draw(st.integers(0, 20)) for voter in voters
             if data.draw(st.booleans())}
    assert committed_index(voters, match) == naive_committed_index(voters, match)


@given(voter_ids, st.data())
def test_vote_result_matches_counting_by_hand(voters: list[int], data: st.DataObject) -> None:
    voters_and_strangers = [*voters, 42]
    votes = {node: data.draw(st.booleans()) for node in voters_and_strangers
             if data.draw(st.booleans())}
    assert vote_result(voters, votes) == naive_vote_result(voters, votes)


def test_majority_is_more_than_half() -> None:
    assert all(2 * majority(n) > n >= 2 * (majority(n) - 1) for n in range(1, 50))


def test_no_voters_commit_nothing() -> None:
    assert committed_index([], {1: 5}) == 0
