"""Majority arithmetic: the commit index a quorum has acknowledged, and election results.

Both functions take voters as a sequence and look values up in a dict, so the answer never
depends on hashing order. A property test compares them with brute-force versions.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence


class VoteResult(enum.IntEnum):
    PENDING = 1
    LOST = 2
    WON = 3


def majority(voter_count: int) -> int:
    """Smallest number of voters that forms a quorum.

    >>> [majority(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, 2, 3, 3]
    """
    return voter_count // 2 + 1


def committed_index(voters: Sequence[int], match: Mapping[int, int]) -> int:
    """Largest index that a majority of ``voters`` has acknowledged (``match`` maps voter
    id to its highest acknowledged index; a missing voter counts as 0). O(n log n).

    >>> committed_index([1, 2, 3], {1: 5, 2: 4, 3: 1})
    4
    >>> committed_index([1, 2, 3, 4], {1: 5, 2: 4, 3: 3, 4: 1})
    3
    """
    if not voters:
        return 0
    indexes = sorted((match.get(voter, 0) for voter in voters), reverse=True)
    return indexes[majority(len(indexes)) - 1]


def vote_result(voters: Sequence[int], votes: Mapping[int, bool]) -> VoteResult:
    """WON once a majority of ``voters`` granted, LOST once a majority can no longer grant,
    else PENDING. Votes from non-voters are ignored. O(n).

    >>> vote_result([1, 2, 3], {1: True, 2: False}).name
    'PENDING'
    >>> vote_result([1, 2, 3], {1: True, 3: True}).name
    'WON'
    """
    granted = sum(1 for voter in voters if votes.get(voter) is True)
    rejected = sum(1 for voter in voters if votes.get(voter) is False)
    needed = majority(len(voters))
    if granted >= needed:
        return VoteResult.WON
    if len(voters) - rejected < needed:
        return VoteResult.LOST
    return VoteResult.PENDING
