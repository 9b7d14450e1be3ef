"""One test per claim of the Raft paper (Ongaro & Ousterhout 2014), §5.1 to 5.4 and §6.

Each test is named after the claim it checks. Multi-node claims run on the scripted
``Env``; the five safety properties of Figure 3 also run over seeded random walks
(``simulation.py``), where ``Env`` checks them on every step.
"""

from __future__ import annotations

from random import Random

import pytest

from venue.cluster.raft import (
    Config,
    MemoryStorage,
    Message,
    MessageType,
    RawNode,
    Role,
)
from venue.codecs import EntryKind, LogEntry

from .harness import Env
from .simulation import check_log_matching, run_simulation

MT = MessageType
SEEDS = range(8)


def elected(count: int = 3, leader: int = 1, **settings: int | bool) -> Env:
    env = Env()
    env.add_nodes(count, voters=tuple(range(1, count + 1)), **settings)
    env.campaign(leader)
    env.stabilize()
    assert env.node(leader).status().role == Role.LEADER
    return env


def entries_of(env: Env, node_id: int) -> list[tuple[int, int, bytes]]:
    storage = env.nodes[node_id].storage
    entries = storage.entries(storage.first_index(), storage.last_index() + 1, 1 << 62)
    return [(e.index, e.term, e.payload) for e in entries]


def single_node(**settings: int | bool) -> RawNode:
    return RawNode(Config(id=1, **settings), MemoryStorage(), Random(1))  # type: ignore


# -- §5.1 Raft basics ----------------------------------------------------------------------


def test_servers_begin_as_followers() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3))
    assert [env.node(i).status().role for i in (1, 2, 3)] == [Role.FOLLOWER] * 3


def test_server_seeing_a_larger_term_adopts_it_and_reverts_to_follower() -> None:
    env = elected()
    env.node(1).step(Message(MT.HEARTBEAT, to=1, sender=2, term=5))
    status = env.node(1).status()
    assert (status.role, status.term, status.lead) == (Role.FOLLOWER, 5, 2)


def test_request_with_a_stale_term_is_rejected() -> None:
    env = elected()
    env.node(2).step(Message(MT.HEARTBEAT, to=2, sender=3, term=9))  # 2 moves to term 9
    env.process_ready(2)
    env.network.clear()
    before = entries_of(env, 2)
    stale = LogEntry(3, 1, 0, EntryKind.COMMAND_BATCH, b"stale")
    env.node(2).step(Message(MT.APPEND, to=2, sender=1, term=1, log_term=1, index=2,
                             entries=(stale,), commit=2))
    env.process_ready(2)
    (answer,) = env.network
    assert (answer.type, answer.term) == (MT.APPEND_RESPONSE, 9)
    assert entries_of(env, 2) == before


# -- §5.2 Leader election ----------------------------------------------------------------


def test_follower_hearing_no_leader_within_its_election_timeout_starts_an_election() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False)
    raft = env.node(1)._raft
    for _ in range(raft.randomized_election_timeout - 1):
        env.node(1).tick()
    assert env.node(1).status().role == Role.FOLLOWER
    env.node(1).tick()
    assert env.node(1).status().role == Role.CANDIDATE


def test_candidate_increments_its_term_and_votes_for_itself() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False)
    env.campaign(1)
    status = env.node(1).status()
    assert (status.role, status.term, status.vote) == (Role.CANDIDATE, 1, 1)


def test_candidate_receiving_votes_from_a_majority_becomes_leader() -> None:
    env = Env()
    env.add_nodes(5, voters=(1, 2, 3, 4, 5), pre_vote=False)
    env.campaign(1)
    env.process_ready(1)
    env.deliver(2)
    env.deliver(3)
    for node_id in (4, 5):
        env.deliver(node_id, drop=True)
    env.process_ready(2)
    env.process_ready(3)
    env.deliver(1)
    assert env.node(1).status().role == Role.LEADER


def test_each_server_votes_for_at_most_one_candidate_in_a_term() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False)
    env.campaign(1)
    env.campaign(2)  # both at term 1
    env.process_ready(1)
    env.process_ready(2)
    env.deliver(3)  # 3 hears 1 first, then 2
    env.process_ready(3)
    answers = {m.to: m.reject for m in env.network if m.sender == 3}
    assert answers == {1: False, 2: True}
    assert env.node(3).status().vote == 1


def test_candidate_receiving_append_from_a_leader_of_its_term_becomes_follower() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False)
    env.campaign(2)
    env.node(2).step(Message(MT.APPEND, to=2, sender=3, term=2, log_term=1, index=1))
    status = env.node(2).status()
    assert (status.role, status.term, status.lead) == (Role.FOLLOWER, 2, 3)


def test_split_vote_leads_to_a_new_election_in_a_higher_term() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), pre_vote=False)
    for node_id in (1, 2, 3):
        env.campaign(node_id)
    env.stabilize()
    assert all(env.node(i).status().role == Role.FOLLOWER for i in (1, 2, 3))
    env.tick_election(2)
    env.stabilize()
    assert env.node(2).status().role == Role.LEADER
    assert env.node(2).status().term == 2


def test_election_timeouts_are_randomised_from_the_injected_rng() -> None:
    def timeouts(seed: int) -> list[int]:
        raft = RawNode(Config(id=1), MemoryStorage(), Random(seed))._raft
        drawn = []
        for _ in range(50):
            raft.become_follower(raft.term + 1, 0)
            drawn.append(raft.randomized_election_timeout)
        return drawn

    assert timeouts(7) == timeouts(7)  # one seed, one history
    assert timeouts(7) != timeouts(8)
    assert all(10 <= timeout < 20 for timeout in timeouts(7))
    assert len(set(timeouts(7))) > 3


@pytest.mark.parametrize("seed", SEEDS)
def test_election_safety_at_most_one_leader_per_term(seed: int) -> None:
    env = run_simulation(seed, node_count=5, steps=1500, pre_vote=False, check_quorum=False)
    assert env.leaders  # Env raises on a second leader in a term


# -- §5.3 Log replication ----------------------------------------------------------------


def test_leader_appends_a_proposal_to_its_log_and_replicates_it() -> None:
    env = elected()
    entry = env.propose(1, b"x")
    assert entry is not None and entry.term == 1
    env.process_ready(1)
    appends = [m for m in env.network if m.type == MT.APPEND]
    assert sorted(m.to for m in appends) == [2, 3]
    assert all(m.entries == (entry,) for m in appends)


def test_entry_is_committed_once_stored_on_a_majority() -> None:
    env = elected(count=5)
    entry = env.propose(1, b"x")
    assert entry is not None
    env.process_ready(1)
    env.deliver(2)  # the copies for 3, 4 and 5 stay in flight
    env.process_ready(2)
    env.deliver(1)
    assert env.node(1).status().commit == entry.index - 1  # 2 of 5 hold it
    env.deliver(3)
    env.process_ready(3)
    env.deliver(1)
    assert env.node(1).status().commit == entry.index  # 3 of 5 hold it


def test_followers_apply_committed_entries_in_log_order() -> None:
    env = elected()
    for data in (b"a", b"b", b"c"):
        env.propose(1, data)
    env.stabilize()
    for node_id in (1, 2, 3):
        applied = env.nodes[node_id].applied
        assert [payload for _, payload in applied] == [b"a", b"b", b"c"]
        assert [index for index, _ in applied] == sorted(index for index, _ in applied)


def test_follower_rejects_append_whose_previous_entry_does_not_match() -> None:
    env = elected()
    env.network.clear()
    orphan = LogEntry(9, 1, 0, EntryKind.COMMAND_BATCH, b"gap")
    env.node(2).step(Message(MT.APPEND, to=2, sender=1, term=1, log_term=1, index=8,
                             entries=(orphan,), commit=2))
    env.process_ready(2)
    (answer,) = env.network
    assert answer.reject and answer.reject_hint == env.node(2).status().last_index


def test_leader_forces_conflicting_follower_entries_to_be_overwritten() -> None:
    env = elected(check_quorum=False)
    env.groups = [[1], [2, 3]]
    env.propose(1, b"lost")
    env.stabilize()
    env.tick_election(3)
    env.stabilize()
    env.propose(3, b"kept")
    env.groups = []
    env.tick_heartbeat(3)
    env.stabilize()
    assert entries_of(env, 1) == entries_of(env, 3)
    assert b"lost" not in [payload for _, _, payload in entries_of(env, 1)]


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_append_only_a_leader_never_overwrites_or_deletes_its_entries(
        seed: int) -> None:
    run_simulation(seed, node_count=3, steps=1500)  # Env checks every leader's Ready


@pytest.mark.parametrize("seed", SEEDS)
def test_log_matching_same_index_and_term_means_identical_prefix(seed: int) -> None:
    env = run_simulation(seed, node_count=5, steps=1500)
    check_log_matching(env)
