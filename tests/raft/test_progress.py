"""Progress bookkeeping of one follower on the leader: the fast back-off, and a follower
that lost the entries it had acknowledged (a wiped disk, rejoined with ``--join``)."""

from __future__ import annotations

from venue.cluster.raft.progress import Progress, ProgressState


def probing(match: int, next_index: int) -> Progress:
    progress = Progress(next_index, inflight_messages_max=8)
    progress.match = match
    return progress


def test_a_rejection_in_probe_moves_next_back_to_the_hint_but_not_below_match() -> None:
    progress = probing(match=3, next_index=10)
    assert progress.maybe_decr_to(9, match_hint=5)
    assert (progress.match, progress.next) == (3, 6)


def test_a_stale_rejection_is_ignored() -> None:
    progress = probing(match=3, next_index=10)
    assert not progress.maybe_decr_to(7, match_hint=2)  # not for the append in flight
    assert (progress.match, progress.next) == (3, 10)


def test_a_follower_that_lost_acknowledged_entries_is_probed_from_what_it_has() -> None:
    """Without this, next could never go below match + 1 and the leader would send the
    same append for ever: the follower has nothing at or below the old match."""
    progress = probing(match=9, next_index=10)
    assert progress.maybe_decr_to(9, match_hint=0)
    assert (progress.match, progress.next) == (0, 1)
    assert progress.state == ProgressState.PROBE


def test_replicate_state_still_treats_rejections_at_or_below_match_as_stale() -> None:
    progress = probing(match=9, next_index=10)
    progress.become_replicate()
    assert not progress.maybe_decr_to(9, match_hint=0)
    assert progress.match == 9
