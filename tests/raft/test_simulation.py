"""Seeded random walks over whole clusters (see ``simulation.py``): the safety properties
are checked on every step, and every run must converge once the network heals."""

from __future__ import annotations

import pytest

from .simulation import run_simulation

CASES = [
    # (node_count, spare_count, pre_vote, check_quorum)
    (3, 0, True, True),
    (5, 0, True, True),
    (3, 0, False, False),
    (5, 0, False, True),
    (3, 2, True, True),
    (2, 1, False, False),
    (1, 2, True, True),
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("node_count", "spare_count", "pre_vote", "check_quorum"), CASES)
def test_cluster_stays_safe_and_converges(seed: int, node_count: int, spare_count: int,
                                          pre_vote: bool, check_quorum: bool) -> None:
    env = run_simulation(seed, node_count=node_count, steps=2000, pre_vote=pre_vote,
                         check_quorum=check_quorum, spare_count=spare_count)
    assert env.canonical, "nothing was committed"
