"""Bugs in the Raft core that the simulator found, each pinned by a small direct test."""

from __future__ import annotations

from venue.codecs import EntryKind

from ..raft.harness import Env


def test_a_new_leaders_noop_never_goes_back_in_time_after_compaction() -> None:
    """Found by the simulator's timestamp check (seed 43): a leader elected with its log
    compacted up to the snapshot stamped its NOOP 0. Snapshots now carry the timestamp."""
    env = Env()
    env.record = False
    env.add_nodes(3, voters=(1, 2, 3))
    env.campaign(1)
    env.stabilize()
    entry = env.node(1).propose(b"x", timestamp_ns=5_000)
    env.stabilize()
    for node_id in (1, 2, 3):  # every node snapshots and compacts up to its last entry
        env.compact(node_id, entry.index)
    env.transfer_leader(1, 2)
    env.stabilize()
    storage = env.nodes[2].storage
    last = storage.entries(storage.last_index(), storage.last_index() + 1, 1 << 20)[0]
    assert last.kind == EntryKind.NOOP
    assert last.timestamp_ns >= entry.timestamp_ns, f"NOOP stamped {last.timestamp_ns}"
