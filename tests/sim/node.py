"""One full node: the real Raft core (``RawNode``) and the real engine, driven by the node
loop of ``cluster/raft/node.py``: persist, send, apply, advance.

Each node keeps its own clock, which runs at its own rate (drift) and drives its ticks; as
leader it stamps entries from that clock, never before its log's last timestamp.
A restarted node rebuilds its RawNode from its durable storage and its engine from the
storage's snapshot (engine snapshot bytes; empty bytes mean a fresh engine), then replays
the committed entries Raft hands it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from random import Random

from venue.cluster.raft import Config, ConfState, RawNode, Ready, Role, Snapshot
from venue.cluster.recovery import GENESIS_ENTRY  # the bootstrap snapshot's index
from venue.codecs import EntryKind, LogEntry
from venue.engine import Engine, Module

from ..raft.harness import conf_state_at
from .checker import Checker, has_effect
from .network import Network
from .storage import SimStorage

STEP_NS = 1_000_000  # one simulation step is 1 ms of true time
TICK_NS = 2_000_000  # a node ticks every 2 ms of its own clock
RAFT_SETTINGS = {"election_timeout_ticks": 10, "heartbeat_interval_ticks": 2,
                 "inflight_messages_max": 8, "message_size_bytes_max": 8192}

ModuleFactory = Callable[[int], Sequence[Module]]  # node id -> its modules


class SimNode:
    """A node that can crash and restart. ``raw`` and ``engine`` are None while it is down."""

    def __init__(self, node_id: int, conf_state: ConfState | None, rng: Random, rate_ppm: int,
                 make_modules: ModuleFactory, checker: Checker,
                 raft_settings: dict[str, int] | None = None,
                 durability: str = "fsync") -> None:
        self.id = node_id
        self.raft_settings = {**RAFT_SETTINGS, **(raft_settings or {})}
        self.rng = rng
        self.rate_ppm = rate_ppm
        self.make_modules = make_modules
        self.checker = checker
        self.storage = SimStorage(conf_state, durability)
        self.clock_ns = 1_000_000_000 + rng.randrange(50) * STEP_NS  # skewed start
        self.next_tick_ns = self.clock_ns + TICK_NS
        self.incarnation = 0
        self.installs = 0  # snapshots received from a leader
        self.raw: RawNode | None = None
        self.engine: Engine | None = None
        self.in_flight: tuple[Ready, tuple] | None = None  # a leader's write, sent early
        self.outcomes: dict[tuple[int, int], tuple[int, bool]] = {}  # -> (index, effect?)
        self.opened: dict[int, int] = {}  # SESSION_OPEN index -> term, as applied here
        self.boot()

    @property
    def up(self) -> bool:
        return self.raw is not None

    def boot(self) -> None:
        """Start from durable storage (a fresh start or a restart)."""
        live = self.storage.live
        self.engine = self._engine_from(live.snapshot())
        # In replicated mode a crash may have lost entries this node acknowledged: it
        # restarts recovering (cluster/raft/recovery.py). Every restart here follows a crash.
        recovering = self.storage.durability == "replicated" and self.incarnation > 0
        config = Config(id=self.id, recovering=recovering,
                        **self.raft_settings)  # type: ignore[arg-type]
        self.raw = RawNode(config, live, Random(self.rng.randrange(1 << 32)))
        self.outcomes = {}
        self.opened = {}
        self.stamp_floor_ns = self.engine.last_timestamp_ns
        first, last = live.first_index(), live.last_index()
        for entry in live.entries(first, last + 1, 1 << 62) if last >= first else ():
            self.stamp_floor_ns = max(self.stamp_floor_ns, entry.timestamp_ns)

    def crash(self) -> int:
        """Stop dead; returns how many unsynced writes were lost."""
        self.raw = None
        self.engine = None
        self.in_flight = None
        self.incarnation += 1
        return self.storage.crash(self.rng)

    def _engine_from(self, snapshot: Snapshot) -> Engine:
        if snapshot.index == 0:  # an empty node: it will be sent a snapshot first
            return Engine(self.make_modules(self.id))
        if not snapshot.data:
            engine = Engine(self.make_modules(self.id))
            self.checker.on_chain(self.id, 1, engine.apply(GENESIS_ENTRY).chain_hash)
            return engine
        engine = Engine(self.make_modules(self.id), snapshot=snapshot.data)
        if engine.applied_index != snapshot.index:
            raise AssertionError(f"node {self.id}: snapshot at {snapshot.index} holds an "
                                 f"engine at {engine.applied_index}")
        self.checker.on_chain(self.id, engine.applied_index, engine.chain.head)
        return engine

    # -- time ------------------------------------------------------------------------------

    def advance_clock(self) -> None:
        """One step of true time passes; tick Raft as often as this node's clock says."""
        self.clock_ns += STEP_NS * self.rate_ppm // 1_000_000
        while self.clock_ns >= self.next_tick_ns:
            self.next_tick_ns += TICK_NS
            if self.raw is not None:
                self.raw.tick()

    def stamp_ns(self) -> int:
        """The timestamp for a new entry: this node's clock, never before its last entry."""
        assert self.raw is not None
        self.stamp_floor_ns = max(self.clock_ns, self.raw._raft.last_timestamp_ns(),
                                  self.stamp_floor_ns)
        return self.stamp_floor_ns

    # -- the node loop -----------------------------------------------------------------------

    def handle_ready(self, network: Network, now: int) -> bool:
        """Honour one Ready in order; False if there was nothing to do (or a leader's
        write is in flight until the next step).

        As the real node does, a leader sends its appends and heartbeats before its own
        write (``RawNode.sendable_before_persist``); here that write stays unsynced until
        this node's next step, so a crash in between loses it after it was sent."""
        assert self.raw is not None
        if self.in_flight is not None:
            ready, early = self.in_flight
            if ready.must_sync and self.storage.durability == "fsync":
                self.storage.sync()
            self._finish(ready, early, network, now)
            return True
        ready = self.raw.ready()
        if ready is None:
            return False
        early = self.raw.sendable_before_persist(ready)
        if early:
            for message in early:
                network.send(message, now, self.incarnation)
            self.storage.persist(ready, sync=False)
            self.in_flight = (ready, early)
            return False
        self.storage.persist(ready)
        self._finish(ready, (), network, now)
        return True

    def _finish(self, ready: Ready, early: tuple, network: Network, now: int) -> None:
        assert self.raw is not None
        self.in_flight = None
        for entry in ready.entries:
            self.stamp_floor_ns = max(self.stamp_floor_ns, entry.timestamp_ns)
        sent = {id(message) for message in early}
        for message in ready.messages:
            if id(message) not in sent:
                network.send(message, now, self.incarnation)
        self.apply_ready(ready)
        self.raw.advance(ready)

    def apply_ready(self, ready: Ready) -> None:
        """Step 3: restore from the snapshot, if any, then apply the committed entries."""
        if ready.snapshot is not None:
            self.installs += 1
            self.engine = self._engine_from(ready.snapshot)
        for entry in ready.committed_entries:
            self.apply(entry)

    def apply(self, entry: LogEntry) -> None:
        assert self.engine is not None
        applied = self.engine.apply(entry)
        self.checker.on_apply(self.id, entry, applied)
        if entry.kind == EntryKind.SESSION_OPEN:
            self.opened[entry.index] = entry.term
        for outcome in applied.outcomes:
            if outcome.client_seq:
                effect = has_effect(outcome)
                self.outcomes[(outcome.session_id, outcome.client_seq)] = (entry.index, effect)
        risk = self.engine.modules.get("risk")
        if risk is not None:
            self.checker.check_conservation(self.id, entry.index, risk)

    def check_leadership(self) -> None:
        """Election Safety every time; Leader Completeness once per term."""
        if self.raw is None:
            return
        raft = self.raw._raft
        if raft.role == Role.LEADER and self.checker.note_leader(raft.term, self.id):
            self.checker.check_leader_completeness(self.id, raft.term, raft.log.first_index(),
                                                   raft.log.term_or_zero)

    # -- snapshots ---------------------------------------------------------------------------

    def take_snapshot(self) -> int:
        """Snapshot the engine at its applied index and compact the log up to it (0 if
        there is nothing new to snapshot)."""
        assert self.engine is not None
        index = self.engine.applied_index
        live = self.storage.live
        if index <= live.snapshot().index:
            return 0
        self.storage.save_snapshot(index, conf_state_at(live, index),
                                   self.engine.take_snapshot())
        return index

    def members(self) -> tuple[int, ...]:
        """Voters and learners, as this node's Raft sees them now."""
        assert self.raw is not None
        conf_state = self.raw._raft.tracker.conf_state()
        return (*conf_state.voters, *conf_state.learners)

    def recovering(self) -> bool:
        return self.raw is not None and self.raw.status().recovering

    def is_leader(self) -> bool:
        return self.raw is not None and self.raw._raft.role == Role.LEADER

    def term(self) -> int:
        return self.raw._raft.term if self.raw is not None else 0

    def lead(self) -> int:
        return self.raw._raft.lead if self.raw is not None else 0
