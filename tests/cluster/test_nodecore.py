"""``NodeCore`` without sockets: three nodes on real LMDB data directories, their messages
delivered by the test. Elections, sessions, batching, replies, timers, restarts from disk
(the engine snapshot file and the log), exactly-once across a leader crash, snapshots and
compaction."""

from __future__ import annotations

from pathlib import Path
from random import Random

import msgspec
import pytest

from venue.cluster.nodecore import NodeCore, NodeSettings, NotLeader
from venue.cluster.raft import Message
from venue.cluster.server import DEFERRED_AGE_NS_MAX
from venue.cluster.store import DataStore
from venue.codecs import EntryKind, SessionCloseReason
from venue.engine.modules.counter import Increment, Incremented

MODULES = ("venue.engine.modules.counter:CounterModule",)
VOTERS = (1, 2, 3)
TICK_NS = 10_000_000
_encoder = msgspec.msgpack.Encoder(order="deterministic")
_message_decoder = msgspec.msgpack.Decoder(Message)


class Cluster:
    def __init__(self, root: Path, snapshot_interval_entries: int = 50_000,
                 **settings: int) -> None:
        self.root = root
        self.settings = settings
        self.now_ns = 1_700_000_000_000_000_000
        self.snapshot_interval_entries = snapshot_interval_entries
        self.nodes: dict[int, NodeCore | None] = {}
        self.stores: dict[int, DataStore] = {}
        self.down: dict[int, None] = {}
        self.applied: dict[int, list] = {node_id: [] for node_id in VOTERS}
        self.opened: dict[int, int] = {}  # token -> session id
        self.inbox: list[Message] = []
        self.write_deferred = True
        for node_id in VOTERS:
            self.start(node_id)

    def start(self, node_id: int) -> None:
        store = DataStore(self.root / f"node-{node_id}", create=True, module_specs=MODULES)
        self.stores[node_id] = store
        settings = NodeSettings(node_id, VOTERS, batch_commands_max=4,
                                snapshot_interval_entries=self.snapshot_interval_entries,
                                **self.settings)
        self.nodes[node_id] = NodeCore(settings, store, Random(node_id))
        self.down.pop(node_id, None)

    def crash(self, node_id: int) -> None:
        self.nodes[node_id] = None
        self.stores[node_id].close()
        self.down[node_id] = None

    def step(self) -> None:
        self.now_ns += TICK_NS
        inbox, self.inbox = self.inbox, []
        for message in inbox:
            node = self.nodes.get(message.to)
            if node is not None:  # a message to a crashed node is lost
                # through the wire format, as the transport carries it
                node.step(_message_decoder.decode(_encoder.encode(message)))
        for node_id, node in self.nodes.items():
            if node is None:
                continue
            node.tick()
            output = node.process(self.now_ns)
            if self.write_deferred:  # as the server's tick does
                node.write_deferred(self.now_ns, DEFERRED_AGE_NS_MAX)
            self.inbox.extend(output.messages)
            self.applied[node_id].extend(output.applied)
            self.opened.update(output.opened)

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def leader(self) -> NodeCore:
        for _ in range(200):
            leaders = [node for node in self.nodes.values() if node is not None
                       and node.is_leader]
            if len(leaders) == 1:
                return leaders[0]
            self.step()
        raise AssertionError("no leader within 200 steps")

    def open_session(self, principal: str, token: int) -> int:
        for _ in range(5):
            self.leader().open_session(principal, token, self.now_ns)
            for _ in range(50):
                self.step()
                if token in self.opened:
                    return self.opened[token]
        raise AssertionError("session did not open")


def counters(node: NodeCore) -> dict[int, int]:
    return dict(node.engine.module("counter").values)  # type: ignore[attr-defined]


def test_three_nodes_elect_one_leader_and_apply_the_same_commands(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    leader = cluster.leader()
    session = cluster.open_session("alice", 1)
    for seq in range(1, 11):
        leader.submit(session, seq, _encoder.encode(Increment(seq % 3)))
    cluster.run(30)
    heads = {node.engine.chain.head for node in cluster.nodes.values() if node}
    assert len(heads) == 1
    for node in cluster.nodes.values():
        assert node is not None
        assert counters(node) == {0: 3, 1: 4, 2: 3}
        # batched: 10 commands in batches of at most 4
        batches = [a for a in cluster.applied[node.settings.node_id]
                   if any(o.client_seq for o in a.outcomes)]
        assert [sum(1 for o in a.outcomes if o.client_seq) for a in batches] == [4, 4, 2]
    follower = next(node for node in cluster.nodes.values() if node and not node.is_leader)
    with pytest.raises(NotLeader) as caught:
        follower.submit(session, 11, _encoder.encode(Increment(0)))
    assert caught.value.leader_id == leader.settings.node_id


def _increment_and_pick_a_follower(cluster: Cluster, session: int
                                   ) -> tuple[int, NodeCore, int, bytes]:
    """Apply Increment(7, 5); return a follower, it, its applied index and chain head."""
    cluster.leader().submit(session, 1, _encoder.encode(Increment(7, 5)))
    cluster.run(20)
    follower_id = next(i for i, n in cluster.nodes.items() if n and not n.is_leader)
    node = cluster.nodes[follower_id]
    assert node is not None
    return follower_id, node, node.engine.applied_index, node.engine.chain.head


def test_events_and_chain_hashes_are_stored_and_a_restart_checks_them(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    follower_id, _, applied_index, head = _increment_and_pick_a_follower(cluster, session)
    record = cluster.stores[follower_id].event_record(applied_index)
    assert record is not None and record.chain_hash == head
    cluster.crash(follower_id)
    cluster.start(follower_id)
    cluster.run(30)
    restarted = cluster.nodes[follower_id]
    assert restarted is not None
    assert restarted.engine.applied_index >= applied_index
    assert counters(restarted) == {7: 5}


def test_events_not_yet_written_are_readable_and_a_crash_recomputes_them(
        tmp_path: Path) -> None:
    """A Ready that only applies entries writes nothing (cluster/deferred.py): its events
    are read through ``NodeCore.events`` meanwhile, and a node that crashes before
    writing them recomputes the same records from its log at restart."""
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    cluster.run(20)  # the session's events are written (older than the deferral age)
    cluster.write_deferred = False
    follower_id, node, applied_index, head = _increment_and_pick_a_follower(cluster, session)
    store = cluster.stores[follower_id]
    assert store.event_record(applied_index) is None  # not on disk yet ...
    deferred = list(node.events(applied_index))  # ... but readable on the node
    assert [(r.index, r.chain_hash) for r in deferred] == [(applied_index, head)]
    stored_before = store.last_event_index()
    assert [r.index for r in node.events(stored_before)] == list(
        range(stored_before, applied_index + 1))  # the store, then what is held
    cluster.crash(follower_id)
    cluster.write_deferred = True
    cluster.start(follower_id)
    cluster.run(30)
    restarted = cluster.nodes[follower_id]
    assert restarted is not None and restarted.engine.applied_index >= applied_index
    record = cluster.stores[follower_id].event_record(applied_index)
    assert record is not None and (record.chain_hash, record.event_bytes) == (
        head, deferred[0].event_bytes)
    assert counters(restarted) == {7: 5}


def test_a_leader_crash_loses_no_acknowledged_command_and_applies_none_twice(
        tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    old = cluster.leader()
    for seq in range(1, 6):
        old.submit(session, seq, _encoder.encode(Increment(1)))
    cluster.run(20)
    old_id = old.settings.node_id
    cluster.crash(old_id)
    new = cluster.leader()
    assert new.settings.node_id != old_id
    # the client did not hear about 4 and 5, so it resends them, then goes on
    for seq in range(4, 9):
        new.submit(session, seq, _encoder.encode(Increment(1)))
    cluster.run(20)
    cluster.start(old_id)
    cluster.run(60)
    for node in cluster.nodes.values():
        assert node is not None
        assert counters(node) == {1: 8}
        assert node.engine.sessions.last_client_seq(session) == 8
    assert len({node.engine.chain.head for node in cluster.nodes.values() if node}) == 1


def test_a_snapshot_is_taken_by_bytes_applied_as_well_as_by_entries(tmp_path: Path) -> None:
    """``snapshot_interval_bytes``: big commands in few entries still get snapshots; with
    the default (256 MiB) the same load, far under 50,000 entries, takes none."""
    for name, interval_bytes in (("bytes", 2_000), ("default", None)):
        options = {} if interval_bytes is None else {"snapshot_interval_bytes": interval_bytes}
        cluster = Cluster(tmp_path / name, snapshot_interval_entries=50_000, **options)
        session = cluster.open_session("alice", 1)
        for seq in range(1, 201):  # ~6,000 bytes of commands in ~50 entries
            cluster.leader().submit(session, seq, _encoder.encode(Increment(2)))
            cluster.run(1)
        cluster.run(20)
        node = cluster.nodes[2]
        assert node is not None
        node.finish_snapshot()
        taken = node.storage.snapshot_metadata().index > 1  # past the bootstrap snapshot
        assert taken is (interval_bytes is not None), name


def test_snapshots_compact_the_log_and_a_restart_loads_the_newest(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, snapshot_interval_entries=5, log_retained_entries=3,
                      events_retained_entries=4)
    session = cluster.open_session("alice", 1)
    for seq in range(1, 41):
        cluster.leader().submit(session, seq, _encoder.encode(Increment(2)))
        cluster.run(2)
    cluster.run(20)
    node_id = 2
    store = cluster.stores[node_id]
    node = cluster.nodes[node_id]
    assert node is not None
    node.finish_snapshot()  # the last background snapshot is written and recorded
    assert not node.snapshot_running and store.latest_snapshot_index() is not None
    # retention follows the newest *recorded* snapshot: a forked child may have written
    # a newer file that the node has not polled yet
    snapshot_index = node.storage.snapshot_metadata().index
    assert snapshot_index >= 5
    # retention: the log keeps 3 entries behind the snapshot, the event store 4
    assert store.first_index() == snapshot_index - 3 + 1
    assert next(store.events()).index == snapshot_index - 4
    cluster.crash(node_id)
    cluster.start(node_id)
    restarted = cluster.nodes[node_id]
    assert restarted is not None
    assert restarted.engine.applied_index >= store.latest_snapshot_index()
    cluster.run(30)
    assert counters(restarted) == {2: 40}


def test_timer_entries_are_appended_by_the_leader_when_a_deadline_passes(
        tmp_path: Path) -> None:
    """The counter schedules no timers, so the test puts one in every node's queue."""
    cluster = Cluster(tmp_path)
    leader = cluster.leader()
    for node in cluster.nodes.values():  # the same pending timer everywhere, as if applied
        assert node is not None
        node.engine.timers.schedule("counter", 1, cluster.now_ns + 5 * TICK_NS)
    deadline = cluster.now_ns + 5 * TICK_NS
    cluster.run(20)
    assert leader.engine.next_timer_deadline() is None
    for node_id, store in cluster.stores.items():
        timers = [entry for entry in store.entries() if entry.kind == EntryKind.TIMER]
        assert len(timers) == 1, f"node {node_id}: {timers}"
        assert timers[0].timestamp_ns >= deadline


def test_closing_a_session_is_replicated(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    cluster.leader().close_session(session, SessionCloseReason.CLIENT, cluster.now_ns)
    cluster.run(20)
    for node in cluster.nodes.values():
        assert node is not None and not node.engine.sessions.is_open(session)


def test_replies_name_the_session_and_sequence_of_each_command(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    cluster.leader().submit(session, 1, _encoder.encode(Increment(3, 2)))
    cluster.run(20)
    leader_id = cluster.leader().settings.node_id
    replies = [(o.session_id, o.client_seq, o.events) for a in cluster.applied[leader_id]
               for o in a.outcomes if o.client_seq]
    assert replies == [(session, 1, [Incremented(3, 2)])]


def test_a_background_snapshot_is_recorded_only_once_its_child_has_written_it(
        tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    session = cluster.open_session("alice", 1)
    cluster.leader().submit(session, 1, _encoder.encode(Increment(4)))
    cluster.run(20)
    node = cluster.nodes[1]
    assert node is not None
    index = node.take_snapshot(background=True)
    assert index == node.engine.applied_index
    assert node.storage.snapshot_metadata().index < index  # the child is still at work
    assert node.take_snapshot(background=True) == 0  # one at a time
    for _ in range(500):
        cluster.step()
        if node.storage.snapshot_metadata().index == index:
            break
    assert node.storage.snapshot_metadata().index == index
    assert cluster.stores[1].latest_snapshot_index() == index
    restored = node.storage.snapshot()  # read back from the file for a follower
    assert restored.index == index and restored.data == cluster.stores[1].read_snapshot(index)
