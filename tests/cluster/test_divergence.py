"""The leader's checkpoint comparison (sans-I/O)."""

from __future__ import annotations

import pytest

from venue.cluster.divergence import CHECKPOINTS_KEPT, DivergenceChecker


def test_equal_hashes_advance_the_agreed_index_and_report_nothing() -> None:
    checker = DivergenceChecker(10)
    assert checker.local(10, b"a") == []
    assert checker.remote(2, 10, b"a") == []
    assert checker.agreed == {2: 10}


def test_a_mismatch_names_the_range_since_the_last_agreement_and_both_hashes() -> None:
    checker = DivergenceChecker(10)
    checker.local(10, b"a")
    checker.local(20, b"b")
    checker.remote(3, 10, b"a")
    [divergence] = checker.remote(3, 20, b"X")
    assert (divergence.node_id, divergence.agreed_index, divergence.index) == (3, 10, 20)
    assert (divergence.leader_hash, divergence.follower_hash) == (b"b", b"X")
    assert "between log index 11 and 20" in divergence.describe()
    assert checker.remote(3, 30, b"Y") == []  # reported once per node
    assert checker.divergences == [divergence]


def test_a_report_from_ahead_of_the_leader_waits_until_the_leader_gets_there() -> None:
    checker = DivergenceChecker(5)
    assert checker.remote(2, 5, b"z") == []
    [divergence] = checker.local(5, b"a")
    assert divergence.index == 5 and divergence.follower_hash == b"z"


def test_reports_off_the_checkpoint_grid_or_already_agreed_are_ignored() -> None:
    checker = DivergenceChecker(5)
    checker.local(5, b"a")
    assert checker.remote(2, 7, b"q") == []
    assert checker.remote(2, 5, b"a") == []
    assert checker.remote(2, 5, b"different") == []  # at or below the agreed index


def test_memory_is_bounded() -> None:
    checker = DivergenceChecker(1)
    for index in range(1, CHECKPOINTS_KEPT + 500):
        checker.local(index, b"h")
        checker.remote(2, index + 10_000, b"ahead")
    assert len(checker._local) <= CHECKPOINTS_KEPT
    assert len(checker._pending[2]) <= CHECKPOINTS_KEPT


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        DivergenceChecker(0)
