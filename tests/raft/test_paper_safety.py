"""Raft paper claims, continued: §5.4 (safety) and §6 (membership changes)."""

from __future__ import annotations

import pytest

from venue.cluster.raft import (
    ConfChangeType,
    Message,
    MessageType,
    ProposalDropped,
    Role,
)
from venue.codecs import ConfigChange, EntryKind

from .harness import Env
from .simulation import run_simulation
from .test_paper import SEEDS, elected

MT = MessageType


# -- §5.4.1 Election restriction -----------------------------------------------------------


def test_voter_denies_its_vote_to_a_candidate_whose_log_is_less_up_to_date() -> None:
    env = elected(pre_vote=False, check_quorum=False)
    env.propose(1, b"x")
    env.stabilize()
    env.network.clear()
    last = env.node(2).status().last_index
    env.node(2).step(Message(MT.VOTE, to=2, sender=3, term=5, log_term=1, index=last - 1))
    env.process_ready(2)
    (answer,) = env.network
    assert answer.type == MT.VOTE_RESPONSE and answer.reject


def test_up_to_date_compares_last_terms_first_then_log_length() -> None:
    env = elected()
    log = env.node(2)._raft.log
    last_index, last_term = log.last_index(), log.last_term()
    assert log.is_up_to_date(last_index - 1, last_term + 1)  # shorter but newer term
    assert not log.is_up_to_date(last_index + 5, last_term - 1)  # longer but older term
    assert log.is_up_to_date(last_index, last_term)
    assert not log.is_up_to_date(last_index - 1, last_term)


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_completeness_every_leader_holds_every_committed_entry(seed: int) -> None:
    run_simulation(seed, node_count=5, steps=1500)  # Env checks each new leader's log


# -- §5.4.2 Committing entries from previous terms ---------------------------------------


def test_leader_commits_previous_term_entries_only_through_a_current_term_entry() -> None:
    """Figure 8 (see also scenarios/figure8.txt): an entry of an earlier term that is
    on a majority is not committed until an entry of the leader's own term is."""
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False, check_quorum=False)
    env.campaign(1)
    env.stabilize()
    old = env.propose(1, b"old")
    assert old is not None
    env.process_ready(1)
    env.deliver(2)
    env.deliver(3, drop=True)
    env.process_ready(2)
    env.network.clear()  # 2 holds the entry; 1 never hears so, nobody commits it
    env.campaign(2)  # term 2; 1 and 3 vote for 2
    env.process_ready(2)
    env.deliver(1)
    env.deliver(3)
    env.process_ready(1)
    env.process_ready(3)
    env.deliver(2)
    env.process_ready(2)  # the new leader's NOOP reaches its own disk
    env.network.clear()
    node = env.node(2)
    assert node.status().role == Role.LEADER
    noop_index = node.status().last_index
    node.step(Message(MT.APPEND_RESPONSE, to=2, sender=3, term=2, index=old.index))
    assert node.status().commit < old.index  # on a majority (2, 3), but of term 1
    node.step(Message(MT.APPEND_RESPONSE, to=2, sender=3, term=2, index=noop_index))
    assert node.status().commit == noop_index  # the NOOP of term 2 commits both


def test_new_leader_appends_a_noop_of_its_term() -> None:
    env = elected()
    raft = env.node(1)._raft
    last = raft.log.slice(raft.log.last_index(), raft.log.last_index() + 1, 1 << 20)[0]
    assert (last.kind, last.term) == (EntryKind.NOOP, raft.term)


@pytest.mark.parametrize("seed", SEEDS)
def test_state_machine_safety_no_two_nodes_apply_different_entries_at_an_index(
        seed: int) -> None:
    env = run_simulation(seed, node_count=3, steps=2000, spare_count=2)
    assert env.canonical  # Env raises when two nodes apply different entries at an index


def test_restarted_node_recovers_its_term_vote_and_log_from_storage() -> None:
    """§5.5: a crashed server restarts from what it persisted before answering."""
    env = elected()
    env.propose(1, b"x")
    env.stabilize()
    before = env.node(2).status()
    env.restart(2)
    after = env.node(2).status()
    assert (after.term, after.vote, after.commit, after.last_index) == (
        before.term, before.vote, before.commit, before.last_index)
    env.stabilize()
    assert [p for _, p in env.nodes[2].applied] == [b"x"]


# -- §6 Cluster membership changes ---------------------------------------------------------


def test_only_one_membership_change_is_in_progress_at_a_time() -> None:
    env = elected()
    env.add_nodes(2)
    env.propose_conf_change(1, ConfChangeType.ADD_LEARNER, 4)
    with pytest.raises(ProposalDropped, match="one at a time"):
        env.node(1).propose_config_change(ConfigChange(ConfChangeType.ADD_LEARNER, 5))
    env.stabilize()
    env.propose_conf_change(1, ConfChangeType.ADD_LEARNER, 5)
    assert env.output[-1].startswith("proposed")


def test_new_leader_changes_membership_only_after_applying_an_entry_of_its_term() -> None:
    env = elected()
    env.add_nodes(1)
    env.transfer_leader(1, 2)
    env.process_ready(1)
    env.deliver(2)
    env.process_ready(2)
    env.deliver(1)
    env.deliver(3)
    env.process_ready(1)
    env.process_ready(3)
    env.deliver(2)
    assert env.node(2).status().role == Role.LEADER
    with pytest.raises(ProposalDropped, match="one at a time"):
        env.node(2).propose_config_change(ConfigChange(ConfChangeType.ADD_LEARNER, 4))
    env.stabilize()
    env.node(2).propose_config_change(ConfigChange(ConfChangeType.ADD_LEARNER, 4))


def test_new_servers_join_as_learners_that_neither_vote_nor_count_for_commit() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2), learners=(3,))
    env.campaign(1)
    env.stabilize()
    env.groups = [[1, 3], [2]]
    entry = env.propose(1, b"x")
    env.stabilize()
    assert entry is not None
    assert env.node(3).status().last_index == entry.index  # the learner has it ...
    assert env.node(1).status().commit < entry.index  # ... but it does not count
    env.tick_election(3)
    assert env.node(3).status().role == Role.FOLLOWER  # and it never campaigns


def test_membership_change_takes_effect_when_the_entry_is_applied() -> None:
    env = elected()
    env.add_nodes(1)
    env.propose_conf_change(1, ConfChangeType.ADD_VOTER, 4)
    env.process_ready(1)  # appended, not committed
    assert env.node(1).status().conf_state.voters == (1, 2, 3)
    env.stabilize()
    assert all(env.node(i).status().conf_state.voters == (1, 2, 3, 4) for i in (1, 2, 3, 4))


def test_removed_server_does_not_disrupt_the_cluster() -> None:
    env = elected()
    env.propose_conf_change(1, ConfChangeType.REMOVE, 3)
    env.stabilize()
    assert env.node(3).status().conf_state.voters == (1, 2)
    for _ in range(5):
        env.tick_election(3)
        env.stabilize()
    assert env.node(3).status().role == Role.FOLLOWER
    assert env.node(1).status().role == Role.LEADER
    assert env.node(1).status().term == 1


def test_servers_ignore_vote_requests_while_they_believe_a_leader_exists() -> None:
    """§6: within the minimum election timeout of hearing from a leader, a server neither
    updates its term nor grants its vote (here: the check-quorum leader lease)."""
    env = elected(pre_vote=False)
    env.network.clear()
    env.node(2).step(Message(MT.VOTE, to=2, sender=3, term=7, log_term=9, index=99))
    env.process_ready(2)
    assert env.network == []
    assert env.node(2).status().term == 1


def test_leader_refuses_to_remove_itself() -> None:
    env = elected()
    with pytest.raises(ProposalDropped, match="transfer leadership first"):
        env.node(1).propose_config_change(ConfigChange(ConfChangeType.REMOVE, 1))


def test_leader_that_applies_its_own_removal_hands_over_leadership() -> None:
    """A removal proposed by an earlier leader may be applied by its target once that
    target leads: it then refuses proposals and transfers leadership."""
    env = elected()
    env.propose_conf_change(1, ConfChangeType.REMOVE, 2)
    env.process_ready(1)
    env.deliver(2)
    env.deliver(3)
    env.process_ready(2)
    env.process_ready(3)
    env.network.clear()  # 1 never learns the entry is replicated
    env.groups = [[2, 3], [1]]  # 2 and 3 elect 2 under the old membership
    env.tick(3, 10)  # 3's lease runs out
    env.tick_election(2)
    env.stabilize()
    assert env.node(2).status().role == Role.LEADER
    assert env.node(2).status().conf_state.voters == (1, 3)
    with pytest.raises(ProposalDropped, match=r"removed|transferred"):
        env.node(2).propose(b"x")
    env.groups = []
    for _ in range(5):  # the hand-over retries every election timeout
        for node_id in (1, 2, 3):
            env.tick_election(node_id)
        env.stabilize()
    roles = {i: env.node(i).status().role for i in (1, 2, 3)}
    assert roles[2] == Role.FOLLOWER
    assert sorted(roles.values()).count(Role.LEADER) == 1
