"""One seeded history of a whole cluster: faults on for ``fault_steps``, then healing (the
network mends, crashed nodes restart) and convergence within ``heal_steps_max``.

Every random choice comes from ``Random(seed)``, so ``run_history(seed)`` replays exactly.
The :class:`Checker` checks safety during the run; :meth:`Simulation.check_converged` checks
that all nodes end with the same chain and the same counters, and that the counters equal
the sum of the applied increments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from venue.cluster.raft import (
    ConfChangeType,
    ConfState,
    MessageType,
    ProposalDropped,
    next_conf_state,
)
from venue.codecs import ConfigChange

from .checker import Checker, Violation
from .clients import SimClient
from .network import Faults, InFlight, Network
from .node import ModuleFactory, SimNode
from .powerloss import power_loss
from .workload import WORKLOADS

READY_ROUNDS_MAX = 3  # Readies a node handles per step
SNAPSHOT_GAP_MIN = 6  # entries applied since the last snapshot before another is taken


@dataclass(frozen=True)
class Options:
    """What a history looks like. ``node_count`` 0 lets the seed choose 3 or 5 voters, and
    ``learner`` None lets it choose whether to add a learner, ``spare_count`` None whether
    to start a node outside the cluster (then membership changes are proposed too)."""

    node_count: int = 0
    learner: bool | None = None
    client_count: int = 4
    fault_steps: int = 1500
    heal_steps_max: int = 3000
    crash_per_mille: int = 4
    restart_percent: int = 3
    partition_per_mille: int = 6
    # Adversarial timing for Figure 8 of the Raft paper (§5.4.2): cut the leader off, alone
    # or with one follower, as soon as it is elected (in this share of elections) or right
    # after its commit index moved (in this share of the steps where it did); a new cut
    # heals the previous one, and cuts heal at ``partition_per_mille``. Entries then reach
    # minorities only and leaders change with logs of different terms; with small messages
    # (one or two entries each) a leader replicates an old-term entry without its own.
    cut_new_leader_percent: int = 0
    cut_after_commit_percent: int = 0
    power_loss: bool = False  # replicated mode: every node crashes before healing
    snapshot_percent: int = 2
    durability: str = "fsync"  # or "replicated" (see storage.py)
    flush_interval_steps: int = 20  # replicated mode: background flush period
    raft_settings: dict[str, int] = field(default_factory=dict)  # over node.RAFT_SETTINGS
    spare_count: int | None = None
    membership_per_mille: int = 4
    faults: Faults = field(default_factory=Faults)
    node_type: type[SimNode] = SimNode
    make_modules: ModuleFactory | None = None  # None: the workload's modules
    workload: str = "counter"  # or "trading" (see workload.py)


# Five voters, messages of one or two entries, and leaders cut off as soon as they are
# elected or have committed something: the histories of Figure 8 of the Raft paper, in which
# counting replicas of an old-term entry commits it too early (broken.figure8_commit).
FIGURE8_SCHEDULE = Options(node_count=5, learner=False, spare_count=0, fault_steps=1000,
                           partition_per_mille=10, cut_new_leader_percent=85,
                           cut_after_commit_percent=50,
                           raft_settings={"message_size_bytes_max": 250})

# Replicated mode with frequent crashes (each may lose acknowledged entries) and leaders cut
# off after their election or a commit: a recovering node that voted would soon elect a
# leader without a committed entry (broken.recovering_votes).
CRASH_SCHEDULE = Options(node_count=3, learner=False, spare_count=0, durability="replicated",
                         crash_per_mille=40, partition_per_mille=10,
                         cut_new_leader_percent=30, cut_after_commit_percent=50)


@dataclass
class Result:
    seed: int
    summary: str = ""
    trace: list[str] = field(default_factory=list)
    violation: str = ""
    error: bool = False  # the violation is an exception from the code under test
    head: str = ""


class Simulation:
    """A cluster of :class:`SimNode`, its network and its clients, stepped one simulated
    millisecond at a time."""

    def __init__(self, seed: int, options: Options) -> None:
        self.seed = seed
        self.options = options
        self.rng = Random(seed)
        self.now = 0
        self.trace: list[str] = []
        self.checker = Checker()
        self.network = Network(self.rng, options.faults)
        self.workload = WORKLOADS[options.workload]
        make_modules = options.make_modules or self.workload.make_modules
        self.commands: dict[tuple[int, int], tuple[int, int]] = {}
        voter_count = options.node_count or self.rng.choice((3, 5))
        learner = options.learner if options.learner is not None else self.rng.randrange(3) == 0
        voters = tuple(range(1, voter_count + 1))
        learners = (voter_count + 1,) if learner else ()
        spare_count = options.spare_count
        if spare_count is None:
            spare_count = self.rng.randrange(2)
        conf_state = ConfState(voters, learners)
        self.nodes: dict[int, SimNode] = {}
        founders = (*voters, *learners)
        for node_id in range(1, len(founders) + spare_count + 1):
            rate_ppm = 800_000 + self.rng.randrange(400_001)  # clocks drift by up to 20%
            self.nodes[node_id] = options.node_type(
                node_id, conf_state if node_id in founders else None, self.rng, rate_ppm,
                make_modules, self.checker, options.raft_settings, options.durability)
        self.clients = [SimClient(i, self.rng, self.checker, self.commands, self.workload)
                        for i in range(1, options.client_count + 1)]
        self.members: tuple[int, ...] = ()
        self.shape = (f"{voter_count} voters" + (" + 1 learner" if learner else "")
                      + (f" + {spare_count} spare" if spare_count else ""))
        self.spare_count = spare_count
        self.cut_term = self.cut_commit = 0  # the newest leader's, seen by _maybe_cut_leader
        self.counts = {"crashes": 0, "lost_writes": 0, "partitions": 0, "snapshots": 0,
                       "conf_changes": 0}

    def note(self, text: str) -> None:
        self.trace.append(f"{self.now:5d} {text}")

    # -- one step --------------------------------------------------------------------------

    def step(self, faulty: bool) -> None:
        """Faults (if on), snapshots, ticks, deliveries, clients, then each live node
        handles its Readies (in a shuffled order, sometimes skipping a turn)."""
        self.now += 1
        if faulty:
            self._inject_faults()
        self._maybe_snapshot()
        if self.options.durability == "replicated":
            self._background_flush()
        for node in self.nodes.values():
            node.advance_clock()
            node.check_leadership()
        for flight in self.network.due(self.now):
            self._deliver(flight)
        for client in self.clients:
            client.act(self.nodes, self.now, submit=faulty)
        order = sorted(self.nodes)
        self.rng.shuffle(order)
        for node_id in order:
            node = self.nodes[node_id]
            if node.up and self.rng.randrange(100) < 85:
                for _ in range(READY_ROUNDS_MAX):
                    if not node.handle_ready(self.network, self.now):
                        break
                node.check_leadership()
        if faulty and (self.options.cut_new_leader_percent
                       or self.options.cut_after_commit_percent):
            self._maybe_cut_leader()

    def _background_flush(self) -> None:
        """``replicated`` mode: every live node syncs every ``flush_interval_steps``."""
        if self.now % self.options.flush_interval_steps == 0:
            for node in self.nodes.values():
                if node.up:
                    node.storage.sync()

    def _deliver(self, flight: InFlight) -> None:
        message = flight.message
        sender, target = self.nodes[message.sender], self.nodes[message.to]
        reachable = target.up and self.network.connected(message.sender, message.to)
        if self.options.durability == "replicated":  # sent to an earlier incarnation: lost
            reachable = reachable and flight.to_incarnation == target.incarnation
        same_sender = sender.raw is not None and sender.incarnation == flight.sender_incarnation
        if flight.lost or not reachable:
            self.network.lost_count += 1
            if same_sender:
                if message.type == MessageType.SNAPSHOT:
                    sender.raw.report_snapshot(message.to, False)
                if not reachable:
                    sender.raw.report_unreachable(message.to)
            return
        assert target.raw is not None
        target.raw.step(message)
        target.check_leadership()
        if message.type == MessageType.SNAPSHOT and same_sender:
            sender.raw.report_snapshot(message.to, True)

    # -- faults ------------------------------------------------------------------------------

    def _inject_faults(self) -> None:
        options, rng = self.options, self.rng
        down = [i for i, node in sorted(self.nodes.items()) if not node.up]
        for node_id in down:
            if rng.randrange(100) < options.restart_percent:
                self.nodes[node_id].boot()
                self.note(f"restart {node_id}")
        if rng.randrange(1000) < options.crash_per_mille and len(down) < len(self.nodes) - 1:
            node_id = rng.choice([i for i in sorted(self.nodes) if i not in down])
            if self._may_crash(node_id):
                self._crash(node_id)
        if self.spare_count and rng.randrange(1000) < options.membership_per_mille:
            self._change_membership()
        if rng.randrange(1000) < options.partition_per_mille:
            if self.network.blocked:
                self.network.heal_partitions()
                self.note("partitions healed")
            else:
                self.counts["partitions"] += 1
                self.note(self.network.partition(sorted(self.nodes)))

    def _crash(self, node_id: int) -> None:
        lost = self.nodes[node_id].crash()
        self.network.incarnations[node_id] = self.nodes[node_id].incarnation
        self.counts["crashes"] += 1
        self.counts["lost_writes"] += lost
        self.note(f"crash {node_id} (lost {lost} unsynced writes)")

    def _may_crash(self, node_id: int) -> bool:
        """In ``replicated`` mode a crash may lose acknowledged entries, which Raft survives
        only while fewer than a majority of voters are impaired (down after a crash, or
        recovering): the faults stay within that (a power loss is tested on its own)."""
        if self.options.durability != "replicated":
            return True
        return all(self._available(voters, crashing=node_id)
                   for voters in self._voter_sets())

    def _available(self, voters: tuple[int, ...], crashing: int = 0) -> bool:
        """Whether the voters neither down nor recovering would form a majority."""
        healthy = [i for i in voters if i != crashing and self.nodes[i].up
                   and not self.nodes[i].recovering()]
        return len(healthy) >= len(voters) // 2 + 1

    def _voter_sets(self) -> list[tuple[int, ...]]:
        """Every voter set a live node sees now (they differ while a change spreads)."""
        views = {node.raw._raft.tracker.conf_state().voters  # type: ignore[union-attr]
                 for node in self.nodes.values() if node.up}
        return sorted(voters for voters in views if voters)

    def _maybe_cut_leader(self) -> None:
        """``cut_new_leader_percent``, ``cut_after_commit_percent``: cut the leader off."""
        terms = [(node.term(), node.id) for node in self.nodes.values() if node.is_leader()]
        if not terms:
            return
        term, leader = max(terms)
        commit = self.nodes[leader].raw._raft.log.committed  # type: ignore[union-attr]
        if term > self.cut_term:
            self.cut_term, self.cut_commit = term, commit
            percent = self.options.cut_new_leader_percent
        elif commit > self.cut_commit:
            self.cut_commit = commit
            percent = self.options.cut_after_commit_percent
        else:
            return
        if self.rng.randrange(100) >= percent:
            return
        others = [i for i in sorted(self.nodes) if i != leader]
        partner = [self.rng.choice(others)] if self.rng.randrange(2) else []
        self.network.heal_partitions()
        self.counts["partitions"] += 1
        self.note(self.network.partition_off(sorted([leader, *partner]), sorted(self.nodes)))

    def _change_membership(self) -> None:
        """Propose one membership change on a leader: add, promote, demote or remove a node
        other than the leader, keeping at least three voters."""
        leaders = [node for node in self.nodes.values() if node.is_leader()]
        if not leaders:
            return
        leader = max(leaders, key=lambda node: node.term())
        conf_state = leader.raw._raft.tracker.conf_state()  # type: ignore[union-attr]
        target = self.rng.choice([i for i in sorted(self.nodes) if i != leader.id])
        if target in conf_state.voters:
            choices = (ConfChangeType.ADD_LEARNER, ConfChangeType.REMOVE)
            if len(conf_state.voters) <= 3:
                return
        elif target in conf_state.learners:
            choices = (ConfChangeType.ADD_VOTER, ConfChangeType.REMOVE)
        else:
            choices = (ConfChangeType.ADD_VOTER, ConfChangeType.ADD_LEARNER)
        change = ConfigChange(int(self.rng.choice(choices)), target)
        if self.options.durability == "replicated" and not self._available(
                next_conf_state(conf_state, change).voters):
            return  # the new voters could not elect a leader (see _may_crash)
        try:
            leader.raw.propose_config_change(  # type: ignore[union-attr]
                change, timestamp_ns=leader.stamp_ns())
        except ProposalDropped:
            return
        self.counts["conf_changes"] += 1
        self.note(f"leader {leader.id} proposes {ConfChangeType(change.change).name} {target}")

    def _maybe_snapshot(self) -> None:
        for node_id, node in sorted(self.nodes.items()):
            if node.up and self.rng.randrange(100) < self.options.snapshot_percent:
                assert node.engine is not None
                if node.engine.applied_index - node.storage.live.first_index() >= \
                        SNAPSHOT_GAP_MIN:
                    self.note(f"snapshot {node_id} at {node.take_snapshot()}")
                    self.counts["snapshots"] += 1

    # -- healing -----------------------------------------------------------------------------

    def heal(self) -> int:
        """Mend everything, then run until converged; returns the steps it took."""
        self.network.heal()
        for node_id, node in sorted(self.nodes.items()):
            if not node.up:
                node.boot()
                self.note(f"restart {node_id}")
        self.note("healed")
        for steps in range(1, self.options.heal_steps_max + 1):
            self.step(faulty=False)
            if steps % 5 == 0 and self.converged():
                self.note("converged")
                return steps
        raise Violation(f"no convergence within {self.options.heal_steps_max} steps of healing")

    def converged(self) -> bool:
        leaders = [node for node in self.nodes.values() if node.is_leader()]
        if len(leaders) != 1 or any(client.pending for client in self.clients):
            return False
        log = leaders[0].raw._raft.log  # type: ignore[union-attr]
        last = log.last_index()
        if log.committed != last or log.term_or_zero(last) != leaders[0].term():
            return False
        self.members = leaders[0].members()
        return all(self.nodes[i].engine is not None
                   and self.nodes[i].engine.applied_index == last  # type: ignore[union-attr]
                   for i in self.members)

    def check_converged(self) -> str:
        """All members hold the same state, and the counters add up; returns the chain
        head. (A node removed from the cluster stops where it was removed.)"""
        engines = {node_id: self.nodes[node_id].engine for node_id in sorted(self.members)}
        states = {engine.take_snapshot() for engine in engines.values()}  # type: ignore
        if len(states) != 1:
            raise Violation("nodes converged on the same index but hold different states")
        self.workload.check_final(engines, [self.commands[key]  # type: ignore[arg-type]
                                            for key in sorted(self.checker.effects)])
        self.checker.check_acknowledged()
        return next(iter(engines.values())).chain.head.hex()  # type: ignore[union-attr]


def run_history(seed: int, options: Options | None = None) -> Result:
    """Run one history; a violation is reported in the result, never raised."""
    sim = Simulation(seed, options or Options())
    result = Result(seed)
    heal_steps = -1
    try:
        for _ in range(sim.options.fault_steps):
            sim.step(faulty=True)
        if sim.options.power_loss:
            power_loss(sim)
        heal_steps = sim.heal()
        result.head = sim.check_converged()
    except Violation as violation:
        result.violation = f"step {sim.now}: {violation}"
    except Exception as error:  # a crash of the core or the engine is a failure too
        result.violation = f"step {sim.now}: {type(error).__name__}: {error}"
        result.error = True
    result.trace = sim.trace
    result.summary = _summary(sim, heal_steps, result.head)
    return result


def _summary(sim: Simulation, heal_steps: int, head: str) -> str:
    checker = sim.checker
    sim.counts["installs"] = sum(node.installs for node in sim.nodes.values())
    counts = " ".join(f"{name}={value}" for name, value in sim.counts.items())
    return (f"seed={sim.seed} {sim.shape} steps={sim.now} healed_in={heal_steps} "
            f"committed={checker.last_index} terms={max(checker.leaders, default=0)} {counts} "
            f"sent={sim.network.sent_count} lost={sim.network.lost_count} "
            f"sessions={sum(1 for c in sim.clients if c.session_id)} "
            f"acked={len(checker.acknowledged)} members={list(sim.members)} "
            f"head={head[:16] or '-'}")
