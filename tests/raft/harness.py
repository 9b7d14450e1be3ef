"""An in-process cluster of RawNodes with a scripted network (etcd's InteractionEnv).

Every node's Ready is handled synchronously: persisted to its MemoryStorage, messages queued
on the shared network, committed entries applied to a toy state machine (the list of
applied command payloads). The environment checks State Machine Safety on every apply: the
entry applied at an index must be the same on every node.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from random import Random

import msgspec

from venue.cluster.raft import (
    ConfChangeType,
    Config,
    ConfState,
    MemoryStorage,
    Message,
    MessageType,
    ProposalDropped,
    RawNode,
    Role,
    Snapshot,
    SnapshotMetadata,
)
from venue.cluster.raft.tracker import next_conf_state
from venue.codecs import ConfigChange, EntryKind, LogEntry

from . import render

ROUNDS_MAX = 1000


@dataclass
class NodeUnderTest:
    node: RawNode
    storage: MemoryStorage
    config: Config
    applied: list[tuple[int, bytes]] = field(default_factory=list)  # the state machine

    def state_at(self, index: int) -> bytes:
        return msgspec.msgpack.encode([(i, p) for i, p in self.applied if i <= index])


def conf_state_at(storage: MemoryStorage, index: int) -> ConfState:
    """The membership after entry ``index``: the snapshot's, folded with the stored
    CONFIG_CHANGE entries up to ``index`` (what a node loop does before a snapshot)."""
    snapshot = storage.snapshot()
    conf_state = snapshot.metadata.conf_state
    for entry in storage.entries(snapshot.index + 1, index + 1, 1 << 62):
        if entry.kind == EntryKind.CONFIG_CHANGE:
            change = msgspec.msgpack.decode(entry.payload, type=ConfigChange)
            conf_state = next_conf_state(conf_state, change)
    return conf_state


class Env:
    """A cluster under test. Methods append what happened to ``self.output``."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.nodes: dict[int, NodeUnderTest] = {}
        self.network: list[Message] = []
        self.groups: list[list[int]] = []  # partition; empty means fully connected
        self.output: list[str] = []
        self.canonical: dict[int, LogEntry] = {}  # index -> the entry applied there
        self.leaders: dict[int, int] = {}  # term -> leader id seen
        self.record = True  # False: skip rendering (the simulator's hot loop)
        self._checked_terms: dict[int, bool] = {}
        self._led_term: dict[int, int] = {}  # node -> term it led at its last Ready

    # -- building ------------------------------------------------------------------------

    def add_nodes(self, count: int, voters: tuple[int, ...] = (),
                  learners: tuple[int, ...] = (), index: int = 1,
                  **settings: int | bool) -> list[int]:
        """Add ``count`` nodes with the next ids. With ``voters``, each is a founding member
        starting from a snapshot at ``index`` (default: the bootstrap snapshot at 1) naming
        that membership; without, it starts empty (to be added by a membership change)."""
        new_ids = []
        for _ in range(count):
            node_id = max(self.nodes, default=0) + 1
            conf_state = ConfState(tuple(sorted(voters)), tuple(sorted(learners)))
            storage = MemoryStorage()
            if voters:
                storage = MemoryStorage(Snapshot(SnapshotMetadata(index, 1, conf_state),
                                                 msgspec.msgpack.encode([])))
            config = Config(id=node_id, **settings)  # type: ignore[arg-type]
            self.nodes[node_id] = NodeUnderTest(self._raw_node(config, storage), storage, config)
            new_ids.append(node_id)
        self.output += [render.state(self.nodes[i].node) for i in new_ids]
        return new_ids

    def _raw_node(self, config: Config, storage: MemoryStorage) -> RawNode:
        return RawNode(config, storage, Random(self.seed * 1000 + config.id))

    def restart(self, node_id: int, **settings: int | bool) -> None:
        """Crash and restart a node: it keeps only what it persisted. ``settings`` change
        its Config (``recovering`` applies to this start only)."""
        nut = self.nodes[node_id]
        config = dataclasses.replace(nut.config, **{"recovering": False, **settings})
        snapshot = nut.storage.snapshot()
        nut.node = self._raw_node(config, nut.storage)
        nut.config = config
        nut.applied = [tuple(item) for item in  # type: ignore[misc]
                       msgspec.msgpack.decode(snapshot.data or b"\x90")]
        for m in self.network:
            if m.to == node_id:
                self.drop_message(m)
        self.network = [m for m in self.network if m.to != node_id]
        self.output.append(render.state(nut.node))

    def lose_entries_after(self, node_id: int, index: int) -> None:
        """Cut a node's stored log back to ``index`` (a crash in ``replicated`` mode loses
        entries it acknowledged from memory); its term and vote survive. Restart it next."""
        nut = self.nodes[node_id]
        old = nut.storage
        storage = MemoryStorage(old.snapshot())
        if index > old.first_index() - 1:
            storage.append(old.entries(old.first_index(), index + 1, 1 << 62))
        hard_state = old.hard_state
        storage.set_hard_state(msgspec.structs.replace(
            hard_state, commit=min(hard_state.commit, storage.last_index())))
        nut.storage = storage

    def node(self, node_id: int) -> RawNode:
        return self.nodes[node_id].node

    # -- driving ---------------------------------------------------------------------------

    def tick(self, node_id: int, count: int = 1) -> None:
        for _ in range(count):
            self.node(node_id).tick()
        self._note_leader(node_id)
        self.output.append(render.state(self.node(node_id)))

    def tick_election(self, node_id: int) -> None:
        """Tick exactly until the node's election timeout fires (a follower campaigns, a
        leader runs its check-quorum)."""
        raft = self.node(node_id)._raft
        if raft.role == Role.LEADER:
            count = raft.config.election_timeout_ticks - raft.election_elapsed
        else:
            count = raft.randomized_election_timeout - raft.election_elapsed
        self.tick(node_id, max(1, count))

    def tick_heartbeat(self, node_id: int) -> None:
        raft = self.node(node_id)._raft
        self.tick(node_id, max(1, raft.config.heartbeat_interval_ticks - raft.heartbeat_elapsed))

    def campaign(self, node_id: int) -> None:
        self.node(node_id).campaign()
        self._note_leader(node_id)
        self.output.append(render.state(self.node(node_id)))

    def propose(self, node_id: int, data: bytes) -> LogEntry | None:
        return self._proposal(lambda: self.node(node_id).propose(data, timestamp_ns=0))

    def propose_conf_change(self, node_id: int, kind: ConfChangeType, target: int) -> None:
        change = ConfigChange(int(kind), target, f"node-{target}")
        self._proposal(lambda: self.node(node_id).propose_config_change(change))

    def _proposal(self, call: object) -> LogEntry | None:
        try:
            entry = call()  # type: ignore[operator]
        except ProposalDropped as error:
            self.output.append(f"dropped: {error}")
            return None
        self.output.append(f"proposed {entry.term}/{entry.index}")
        return entry

    def transfer_leader(self, node_id: int, to: int) -> None:
        self.node(node_id).transfer_leader(to)
        self.output.append("ok")

    def compact(self, node_id: int, index: int) -> None:
        """Take a snapshot of node ``node_id`` at ``index`` and discard the log up to it."""
        nut = self.nodes[node_id]
        nut.storage.create_snapshot(index, conf_state_at(nut.storage, index),
                                    nut.state_at(index))
        nut.storage.compact(index)
        self.raft_log(node_id)

    # -- the Ready loop and the network ------------------------------------------------------

    def process_ready(self, node_id: int) -> bool:
        nut = self.nodes[node_id]
        rd = nut.node.ready()
        if rd is None:
            return False
        if self.record:
            self.output += render.ready(node_id, rd)
        self._check_leader_append_only(nut, rd.entries)
        if rd.hard_state is not None:
            nut.storage.set_hard_state(rd.hard_state)
        if rd.snapshot is not None:
            nut.storage.apply_snapshot(rd.snapshot)
            nut.applied = [tuple(item) for item in  # type: ignore[misc]
                           msgspec.msgpack.decode(rd.snapshot.data)]
        nut.storage.append(rd.entries)
        self.network.extend(rd.messages)
        for entry in rd.committed_entries:
            self._apply(nut, entry)
        nut.node.advance(rd)
        self._note_leader(node_id)
        return True

    def _check_leader_append_only(self, nut: NodeUnderTest,
                                  entries: tuple[LogEntry, ...]) -> None:
        """A leader never overwrites or deletes entries in its log (Raft §5.3): while it
        leads one term, each Ready's entries start right after what it already stored."""
        raft = nut.node._raft
        led_term = raft.term if raft.role == Role.LEADER else 0
        if led_term and self._led_term.get(raft.id) == led_term and entries:
            if entries[0].index != nut.storage.last_index() + 1:
                raise AssertionError(f"leader append-only violated: leader {raft.id} writes "
                                     f"{entries[0].index} after {nut.storage.last_index()}")
        self._led_term[raft.id] = led_term

    def _apply(self, nut: NodeUnderTest, entry: LogEntry) -> None:
        seen = self.canonical.setdefault(entry.index, entry)
        if seen != entry:
            raise AssertionError(f"state machine safety violated at index {entry.index}: "
                                 f"{render.entry(seen)} vs {render.entry(entry)}")
        if entry.kind == EntryKind.COMMAND_BATCH:
            nut.applied.append((entry.index, entry.payload))

    def _note_leader(self, node_id: int) -> None:
        raft = self.node(node_id)._raft
        if raft.role != Role.LEADER:
            return
        seen = self.leaders.setdefault(raft.term, node_id)
        if seen != node_id:
            raise AssertionError(f"election safety violated: {seen} and {node_id} both "
                                 f"lead term {raft.term}")
        if seen == node_id and raft.term not in self._checked_terms:
            self._checked_terms[raft.term] = True
            self._check_leader_completeness(node_id)

    def _check_leader_completeness(self, node_id: int) -> None:
        """A new leader's log holds every entry applied anywhere so far (Raft §5.4)."""
        log = self.node(node_id)._raft.log
        for index, entry in self.canonical.items():
            if index >= log.first_index() and log.term_or_zero(index) != entry.term:
                raise AssertionError(f"leader completeness violated: leader {node_id} lacks "
                                     f"committed entry {render.entry(entry)}")

    def connected(self, sender: int, to: int) -> bool:
        if not self.groups:
            return True
        return any(sender in group and to in group for group in self.groups)

    def deliver(self, node_id: int, drop: bool = False) -> bool:
        """Deliver (or drop) every queued message addressed to ``node_id``."""
        inbox = [m for m in self.network if m.to == node_id]
        if not inbox:
            return False
        self.network = [m for m in self.network if m.to != node_id]
        self.output.append(f"> {node_id} {'dropping' if drop else 'receiving'} messages")
        for m in inbox:
            if drop:
                self.output.append(f"  {render.message(m)}")
                self.drop_message(m)
            else:
                self.deliver_message(m)
        return True

    def drop_message(self, m: Message) -> None:
        """Lose ``m``. Like a real transport, report a snapshot that failed to send."""
        if m.type == MessageType.SNAPSHOT and m.sender in self.nodes:
            self.node(m.sender).report_snapshot(m.to, succeeded=False)

    def deliver_message(self, m: Message) -> None:
        """Step one message into its node, unless the network partition drops it."""
        if m.to not in self.nodes or not self.connected(m.sender, m.to):
            if self.record:
                self.output.append(f"  {render.message(m)} DROPPED")
            self.drop_message(m)
            return
        if self.record:
            self.output.append(f"  {render.message(m)}")
        self.node(m.to).step(m)
        self._note_leader(m.to)
        if m.type == MessageType.SNAPSHOT and m.sender in self.nodes:
            self.node(m.sender).report_snapshot(m.to, succeeded=True)

    def stabilize(self, node_ids: list[int] | None = None) -> None:
        """Handle Readies and deliver messages until nothing is left to do."""
        node_ids = node_ids or sorted(self.nodes)
        for _ in range(ROUNDS_MAX):
            busy = False
            for node_id in node_ids:
                busy = self.process_ready(node_id) or busy
            for node_id in node_ids:
                busy = self.deliver(node_id) or busy
            if not busy:
                return
        raise AssertionError(f"no quiescence after {ROUNDS_MAX} rounds")

    # -- inspection --------------------------------------------------------------------------

    def raft_log(self, node_id: int) -> None:
        storage = self.nodes[node_id].storage
        first, last = storage.first_index(), storage.last_index()
        if last < first:
            self.output.append(f"log is empty: first index={first}, last index={last}")
            return
        self.output += [render.entry(e) for e in storage.entries(first, last + 1, 1 << 62)]

    def raft_state(self) -> None:
        self.output += [render.state(self.node(node_id)) for node_id in sorted(self.nodes)]

    def status(self, node_id: int) -> None:
        self.output += render.progress(self.node(node_id))

    def state_machine(self, node_id: int) -> None:
        applied = self.nodes[node_id].applied
        self.output.append(f"{node_id}: " + " ".join(
            f"{index}={payload.decode()}" for index, payload in applied))
