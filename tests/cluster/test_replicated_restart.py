"""``replicated`` durability on a real data directory: a node that restarts after a machine
crash (the kernel's boot id changed and the run was not stopped cleanly) starts recovering
(cluster/raft/recovery.py); a process crash or a clean stop does not; a change of term or
vote is synced at once."""

from __future__ import annotations

from pathlib import Path
from random import Random

import pytest

from venue.cluster import runs
from venue.cluster.nodecore import NodeCore, NodeSettings
from venue.cluster.raft import HardState
from venue.cluster.store import DataStore, Durability

MODULES = ("venue.engine.modules.counter:CounterModule",)


def open_store(path: Path, durability: Durability = Durability.REPLICATED) -> DataStore:
    return DataStore(path, create=True, module_specs=MODULES, durability=durability)


def reboot(monkeypatch: pytest.MonkeyPatch, boot_id: bytes) -> None:
    monkeypatch.setattr(runs, "boot_id", lambda: boot_id)


def start_node(path: Path, durability: Durability = Durability.REPLICATED
               ) -> tuple[NodeCore, DataStore]:
    store = open_store(path, durability)
    return NodeCore(NodeSettings(1, (1, 2, 3)), store, Random(1)), store


def test_a_process_crash_in_the_same_boot_loses_nothing_so_no_recovering(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reboot(monkeypatch, b"boot-a")
    node, store = start_node(tmp_path)
    assert node.status()["recovering"] is False
    store.close()  # killed: no stop_cleanly
    node, store = start_node(tmp_path)
    assert node.status()["recovering"] is False
    store.close()


def test_a_machine_crash_restarts_recovering_until_caught_up_even_across_clean_stops(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reboot(monkeypatch, b"boot-a")
    _, store = start_node(tmp_path)
    store.close()  # the machine lost power
    reboot(monkeypatch, b"boot-b")
    node, store = start_node(tmp_path)
    assert node.status()["recovering"] is True
    node.stop_cleanly()  # still recovering: the next start must know
    store.close()
    node, store = start_node(tmp_path)
    assert node.status()["recovering"] is True
    node.raw._raft.recovery = None  # as if it had caught up with a leader
    node.stop_cleanly()
    store.close()
    reboot(monkeypatch, b"boot-c")
    node, store = start_node(tmp_path)
    assert node.status()["recovering"] is False
    store.close()


def test_a_node_switched_to_fsync_after_a_lossy_crash_still_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reboot(monkeypatch, b"boot-a")
    _, store = start_node(tmp_path)
    store.close()
    reboot(monkeypatch, b"boot-b")
    node, store = start_node(tmp_path, Durability.FSYNC)
    assert node.status()["recovering"] is True
    store.close()


def test_fsync_mode_never_starts_recovering(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    reboot(monkeypatch, b"boot-a")
    _, store = start_node(tmp_path, Durability.FSYNC)
    store.close()
    reboot(monkeypatch, b"boot-b")
    node, store = start_node(tmp_path, Durability.FSYNC)
    assert node.status()["recovering"] is False
    store.close()


def test_replicated_mode_syncs_a_change_of_term_or_vote_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node, store = start_node(tmp_path)
    syncs: list[int] = []
    monkeypatch.setattr(store, "sync", lambda: syncs.append(1))
    node.storage.persist(HardState(1, 0, 1), [])
    assert len(syncs) == 1
    node.storage.persist(HardState(1, 0, 1), [])  # commit only: the flush takes it later
    assert len(syncs) == 1
    node.storage.persist(HardState(1, 2, 1), [])
    assert len(syncs) == 2
    store.close()


def test_a_recovering_node_of_a_real_cluster_catches_up_and_votes_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three NodeCores on replicated-mode directories: a follower whose machine crashed
    restarts recovering, catches up with the leader and leaves the state."""
    from venue.engine.modules.counter import Increment

    from .test_nodecore import Cluster, _encoder, counters

    class ReplicatedCluster(Cluster):
        def start(self, node_id: int) -> None:
            store = open_store(self.root / f"node-{node_id}")
            self.stores[node_id] = store
            self.nodes[node_id] = NodeCore(NodeSettings(node_id, (1, 2, 3)), store,
                                           Random(node_id))
            self.down.pop(node_id, None)

    reboot(monkeypatch, b"boot-a")
    cluster = ReplicatedCluster(tmp_path)
    session = cluster.open_session("alice", 1)
    cluster.leader().submit(session, 1, _encoder.encode(Increment(7, 5)))
    cluster.run(20)
    follower_id = next(i for i, n in cluster.nodes.items() if n and not n.is_leader)
    cluster.crash(follower_id)
    cluster.leader().submit(session, 2, _encoder.encode(Increment(7, 1)))
    cluster.run(10)
    reboot(monkeypatch, b"boot-b")  # that machine rebooted
    cluster.start(follower_id)
    follower = cluster.nodes[follower_id]
    assert follower is not None and follower.status()["recovering"] is True
    cluster.run(60)
    assert follower.status()["recovering"] is False
    assert counters(follower) == {7: 6}
    assert len({node.engine.chain.head for node in cluster.nodes.values() if node}) == 1
