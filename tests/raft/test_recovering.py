"""The recovering state (cluster/raft/recovery.py): a node that may have forgotten entries it
acknowledged (a crash in ``replicated`` durability mode) gives no votes and does not
campaign until it has caught up with a leader; when too many voters are recovering for the
others to elect one, they fall back. See also scenarios/recovering.txt."""

from __future__ import annotations

import pytest

from venue.cluster.raft import Message, MessageType, Role

from .harness import Env
from .test_paper import elected

MT = MessageType


def committed_counting_only_3(**settings: int | bool) -> Env:
    """Leader 1 commits entry 3 ('a') with 3's acknowledgement while 2 is cut off; then 3
    loses it (acknowledged from memory, never synced) and 1 is cut off."""
    env = elected(**settings)
    env.groups = [[1, 3], [2]]
    env.propose(1, b"a")
    env.stabilize()
    assert env.node(1).status().commit == 3
    env.lose_entries_after(3, 2)
    return env


def campaign_without_1(env: Env) -> None:
    env.groups = [[2, 3], [1]]
    env.network.clear()
    env.campaign(2)
    env.stabilize([2, 3])


def test_without_the_rule_a_forgetful_voter_lets_a_committed_entry_be_overwritten() -> None:
    """Why the rule exists: 3 votes for 2, whose log looks as up to date as 3's, and 2 leads
    without the committed 'a' (the harness checks Leader Completeness on every leader)."""
    env = committed_counting_only_3(pre_vote=False)
    env.restart(3)
    with pytest.raises(AssertionError, match="leader completeness"):
        campaign_without_1(env)


@pytest.mark.parametrize("pre_vote", [False, True])
def test_a_recovering_node_refuses_votes_and_pre_votes(pre_vote: bool) -> None:
    env = committed_counting_only_3(pre_vote=pre_vote)
    env.restart(3, recovering=True)
    env.record = True
    campaign_without_1(env)
    answers = [line for line in env.output if "3->2" in line and "VOTE_RESPONSE" in line]
    assert answers and all("Rejected" in line for line in answers), env.output
    assert env.node(2).status().role != Role.LEADER
    assert env.node(3).status().recovering


def test_a_recovering_node_never_campaigns_nor_takes_over_by_transfer() -> None:
    env = committed_counting_only_3()
    env.restart(3, recovering=True)
    env.groups = [[3], [1, 2]]
    for _ in range(10):
        env.tick_election(3)
        env.process_ready(3)
    sent = {m.type for m in env.network if m.sender == 3}
    assert sent == {MT.RECOVERY_POLL}, sent
    env.node(3).step(Message(MT.TIMEOUT_NOW, to=3, sender=1, term=1))
    assert env.node(3).status().role == Role.FOLLOWER
    assert env.node(3).status().term == 1


def test_a_minority_of_recovering_nodes_does_not_fall_back() -> None:
    """Polled voters that are not recovering answer No: the recovering node waits (cut off
    from the leader, it stays recovering however long it waits)."""
    env = committed_counting_only_3()
    env.restart(3, recovering=True)
    env.groups = [[2, 3], [1]]
    for _ in range(6):
        env.tick_election(3)
        env.tick(2)
        env.stabilize([2, 3])
    assert env.node(3).status().recovering
    assert not env.node(3).status().fell_back


def test_a_recovering_node_rejoins_once_it_holds_the_leaders_log_up_to_its_last_index(
        ) -> None:
    """The leader's commit index is not enough: 'b' and 'c' are on the leader only (it may
    have counted a stale acknowledgement from before the crash for them)."""
    env = committed_counting_only_3()
    env.restart(3, recovering=True)
    env.groups = [[1], [2, 3]]
    env.propose(1, b"b")
    env.propose(1, b"c")
    env.stabilize()
    env.groups = []
    env.tick_heartbeat(1)
    env.stabilize()
    status = env.node(3).status()
    assert not status.recovering and not status.fell_back
    assert status.last_index == env.node(1).status().last_index == 5
    env.groups = [[2, 3], [1]]  # now 3's vote is an ordinary vote again
    env.network.clear()
    env.tick(3, 10)  # past the leader lease (check-quorum)
    env.campaign(2)
    env.stabilize([2, 3])
    assert env.node(2).status().role == Role.LEADER


def test_heartbeat_commit_beyond_a_recovering_nodes_log_is_not_taken() -> None:
    """The leader's match for 3 is stale (3 lost 'a'): its heartbeat names commit 3, which
    3 no longer holds. 3 answers with a rejection naming its last index, and the leader
    lowers its match and probes it again."""
    env = committed_counting_only_3()
    env.restart(3, recovering=True)
    env.groups = []
    env.tick_heartbeat(1)
    env.process_ready(1)
    env.deliver(3)
    assert env.node(3).status().commit == 2
    env.process_ready(3)
    (answer,) = [m for m in env.network if m.sender == 3]
    assert (answer.type, answer.reject, answer.reject_hint) == (MT.HEARTBEAT_RESPONSE, True, 2)
    env.deliver(1)
    assert env.node(1).status().progress[3].match == 2


@pytest.mark.parametrize("count", [3, 4, 5])
def test_a_full_restart_with_every_node_recovering_falls_back_and_elects_a_leader(
        count: int) -> None:
    """A power loss of the whole cluster: every node restarts recovering, nobody hears from
    a leader, the polls find too many recovering, they fall back and elect a leader; what
    every node kept survives."""
    env = elected(count)
    env.propose(1, b"kept")
    env.stabilize()
    for node_id in range(1, count + 1):
        env.restart(node_id, recovering=True)
    for _ in range(100):
        for node_id in range(1, count + 1):
            env.tick(node_id)
        env.stabilize()
        if any(env.node(i).status().role == Role.LEADER for i in range(1, count + 1)):
            break
    leaders = [i for i in range(1, count + 1) if env.node(i).status().role == Role.LEADER]
    assert len(leaders) == 1
    env.propose(leaders[0], b"after")
    env.stabilize()
    env.tick_heartbeat(leaders[0])  # the others still recovering learn its last index
    env.stabilize()
    for node_id in range(1, count + 1):
        applied = [payload for _, payload in env.nodes[node_id].applied]
        assert applied[-2:] == [b"kept", b"after"], (node_id, applied)
        assert not env.node(node_id).status().recovering
    assert any(env.node(i).status().fell_back for i in range(1, count + 1))


def test_only_as_many_fall_back_as_needed_the_rest_catch_up() -> None:
    """Two of three restart recovering: they are too many, so they fall back once they
    poll each other; the third, healthy all along, needs none of that."""
    env = elected(3)
    env.propose(1, b"kept")
    env.stabilize()
    env.restart(1, recovering=True)
    env.restart(2, recovering=True)
    for _ in range(100):
        for node_id in (1, 2, 3):
            env.tick(node_id)
        env.stabilize()
    statuses = [env.node(i).status() for i in (1, 2, 3)]
    assert sum(status.role == Role.LEADER for status in statuses) == 1
    assert not any(status.recovering for status in statuses)
    assert not statuses[2].fell_back


@pytest.mark.parametrize("seed", range(5))
def test_after_a_full_restart_the_longest_surviving_log_wins(seed: int) -> None:
    """Only node 3 synced 'last' before the power loss (it was committed: 3 applied it).
    The fallen-back nodes vote only for a log at least as up to date as the best one their
    polls saw, so 3 leads and 'last' survives, whoever polls first."""
    env = Env(seed)
    env.add_nodes(3, voters=(1, 2, 3))
    env.campaign(1)
    env.stabilize()
    env.propose(1, b"last")
    env.stabilize()
    for node_id in (1, 2):
        env.lose_entries_after(node_id, 2)
    for node_id in (1, 2, 3):
        env.restart(node_id, recovering=True)
    for _ in range(100):
        for node_id in (1, 2, 3):
            env.tick(node_id)
        env.stabilize()
        if any(env.node(i).status().role == Role.LEADER for i in (1, 2, 3)):
            break
    assert env.node(3).status().role == Role.LEADER
    env.stabilize()
    assert [payload for _, payload in env.nodes[1].applied][-1:] == [b"last"]
