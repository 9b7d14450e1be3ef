"""RawNode's contract: configuration checks, the Ready protocol, limits, determinism."""

from __future__ import annotations

from random import Random

import pytest

from venue.cluster.raft import (
    ConfChangeType,
    Config,
    ConfState,
    MemoryStorage,
    ProposalDropped,
    RawNode,
    ReadyOrderError,
    Role,
    Snapshot,
    SnapshotMetadata,
)
from venue.cluster.raft.config import MESSAGE_SIZE_BYTES_MIN
from venue.codecs import ConfigChange, EntryKind

from .harness import Env
from .test_paper import elected


def solo(**settings: int | bool) -> tuple[RawNode, MemoryStorage]:
    storage = MemoryStorage.bootstrap(ConfState((1,)))
    return RawNode(Config(id=1, **settings), storage, Random(0)), storage  # type: ignore


def handle(node: RawNode, storage: MemoryStorage) -> None:
    while (ready := node.ready()) is not None:
        if ready.hard_state is not None:
            storage.set_hard_state(ready.hard_state)
        storage.append(ready.entries)
        node.advance(ready)


@pytest.mark.parametrize(("settings", "message"), [
    ({"id": 0}, "Config.id must be >= 1"),
    ({"id": 1, "election_timeout_ticks": 2, "heartbeat_interval_ticks": 2},
     "must be greater than heartbeat_interval_ticks"),
    ({"id": 1, "heartbeat_interval_ticks": 0}, "heartbeat_interval_ticks must be >= 1"),
    ({"id": 1, "message_size_bytes_max": 10}, "message_size_bytes_max must be >="),
    ({"id": 1, "inflight_messages_max": 0}, "inflight_messages_max must be >= 1"),
    ({"id": 1, "uncommitted_size_bytes_max": 0}, "uncommitted_size_bytes_max must be >= 1"),
    ({"id": 1, "committed_size_per_ready_bytes_max": 0}, "per_ready_bytes_max must be >= 1"),
    ({"id": 1, "applied": -1}, "applied must be >= 0"),
    ({"id": 1, "pre_vote": 1}, "Config.pre_vote must be bool"),
    ({"id": True}, "Config.id must be int"),
    ({"id": 1, "election_timeout_ticks": 10.0}, "must be int"),
])
def test_nonsense_configuration_is_refused_with_a_clear_message(
        settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Config(**settings)  # type: ignore[arg-type]


def test_smallest_message_size_holds_one_entry() -> None:
    Config(id=1, message_size_bytes_max=MESSAGE_SIZE_BYTES_MIN)


def test_membership_at_index_zero_is_refused() -> None:
    storage = MemoryStorage(Snapshot(SnapshotMetadata(0, 0, ConfState((1,)))))
    with pytest.raises(ValueError, match="bootstrap from a snapshot"):
        RawNode(Config(id=1), storage, Random(0))


def test_taking_a_second_ready_before_advancing_the_first_is_refused() -> None:
    node, _ = solo()
    node.campaign()
    assert node.ready() is not None
    with pytest.raises(ReadyOrderError):
        node.ready()


def test_advancing_a_ready_that_was_not_handed_out_is_refused() -> None:
    node, _ = solo()
    node.campaign()
    ready = node.ready()
    assert ready is not None
    node.advance(ready)
    with pytest.raises(ReadyOrderError):
        node.advance(ready)


def test_ready_is_none_when_there_is_nothing_to_do() -> None:
    node, storage = solo()
    node.campaign()
    handle(node, storage)
    assert not node.has_ready() and node.ready() is None


def test_must_sync_is_set_for_new_entries_or_a_new_term_or_vote_only() -> None:
    env = elected()
    env.propose(1, b"x")
    leader_ready = env.node(1).ready()
    assert leader_ready is not None and leader_ready.must_sync and leader_ready.entries
    env.node(1).advance(leader_ready)
    node, storage = solo()
    node.campaign()
    first = node.ready()
    assert first is not None and first.must_sync  # term, vote and the NOOP
    node.advance(first)
    storage.append(first.entries)
    node.tick()
    assert node.ready() is None


def test_single_voter_commits_and_applies_its_own_proposals() -> None:
    node, storage = solo()
    node.campaign()
    handle(node, storage)
    entry = node.propose(b"x", timestamp_ns=5)
    ready = node.ready()
    assert ready is not None and ready.entries[-1] == entry
    # not committed before it is on the leader's own disk (its self-acknowledgement)
    assert entry not in ready.committed_entries
    storage.append(ready.entries)
    node.advance(ready)
    committing = node.ready()
    assert committing is not None and committing.committed_entries[-1] == entry
    assert not committing.entries
    node.advance(committing)


def test_follower_drops_proposals() -> None:
    env = elected()
    with pytest.raises(ProposalDropped, match="not the leader"):
        env.node(2).propose(b"x")


def test_proposal_larger_than_a_message_is_dropped() -> None:
    node, storage = solo(message_size_bytes_max=MESSAGE_SIZE_BYTES_MIN + 100)
    node.campaign()
    handle(node, storage)
    node.propose(b"x" * 100)
    with pytest.raises(ProposalDropped, match="message_size_bytes_max"):
        node.propose(b"x" * 102)


def test_append_messages_stay_within_the_message_size_limit() -> None:
    limit = 400
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), message_size_bytes_max=limit)
    env.campaign(1)
    env.stabilize()
    for number in range(20):
        env.propose(1, b"%03d" % number * 20)
    env.process_ready(1)
    assert len([m for m in env.network if m.entries]) > 2  # split over several messages
    assert all(m.size_bytes() <= limit for m in env.network)


def test_uncommitted_bytes_are_bounded_on_the_leader() -> None:
    env = Env()
    env.add_nodes(3, voters=(1, 2, 3), uncommitted_size_bytes_max=100)
    env.campaign(1)
    env.stabilize()
    env.groups = [[1], [2, 3]]
    env.propose(1, b"x" * 150)  # the first is always accepted
    with pytest.raises(ProposalDropped, match="uncommitted_size_bytes_max"):
        env.node(1).propose(b"y")
    env.groups = []
    env.tick_heartbeat(1)
    env.stabilize()
    env.node(1).propose(b"y")  # committed and applied: room again


def test_in_flight_appends_are_bounded_per_follower() -> None:
    env = Env()
    env.add_nodes(2, voters=(1, 2), inflight_messages_max=3)
    env.campaign(1)
    env.stabilize()
    for number in range(10):
        env.propose(1, b"%d" % number)
    env.process_ready(1)
    assert len([m for m in env.network if m.entries]) == 3


def test_config_change_entries_need_propose_config_change() -> None:
    node, storage = solo()
    node.campaign()
    handle(node, storage)
    with pytest.raises(ValueError, match="propose_config_change"):
        node.propose(b"", kind=EntryKind.CONFIG_CHANGE)
    with pytest.raises(ValueError, match=r"unknown ConfigChange\.change"):
        node.propose_config_change(ConfigChange(9, 2))
    with pytest.raises(ValueError, match="node_id must be >= 1"):
        node.propose_config_change(ConfigChange(ConfChangeType.ADD_VOTER, 0))


def test_noop_carries_the_previous_entry_timestamp() -> None:
    node, storage = solo()
    node.campaign()
    handle(node, storage)
    node.propose(b"x", timestamp_ns=777)
    handle(node, storage)
    node.transfer_leader(1)  # no-op: already leader
    raft = node._raft
    raft.become_follower(raft.term, 0)
    node.campaign()
    ready = node.ready()
    assert ready is not None
    assert ready.entries[-1].kind == EntryKind.NOOP
    assert ready.entries[-1].timestamp_ns == 777


def test_restart_with_applied_replays_membership_changes_since_the_snapshot() -> None:
    env = elected()
    env.add_nodes(1)
    env.propose_conf_change(1, ConfChangeType.ADD_LEARNER, 4)
    env.stabilize()
    applied = env.node(1).status().applied
    env.restart(1, applied=applied)
    assert env.node(1).status().conf_state == ConfState((1, 2, 3), (4,))
    assert env.node(1).status().applied == applied


def test_one_seed_replays_one_history() -> None:
    from .simulation import run_simulation

    def history(seed: int) -> list[tuple[int, int, bytes]]:
        env = run_simulation(seed, node_count=3, steps=800, spare_count=1)
        return [(e.index, e.term, e.payload) for _, e in sorted(env.canonical.items())]

    assert history(3) == history(3)
    assert history(3) != history(4)


def test_status_reports_progress_on_the_leader_only() -> None:
    env = elected()
    assert sorted(env.node(1).status().progress) == [1, 2, 3]
    assert env.node(2).status().progress == {}
    assert env.node(2).status().role == Role.FOLLOWER


def test_report_unreachable_sends_the_follower_back_to_probing() -> None:
    env = elected()
    env.node(1).report_unreachable(2)
    assert env.node(1).status().progress[2].state.name == "PROBE"
