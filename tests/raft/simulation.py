"""A seeded random walk over a cluster: ticks, deliveries, drops, duplicates, reordering,
partitions, proposals, compactions and restarts, then healing and convergence.

The :class:`Env` checks Election Safety, Leader Completeness and State Machine Safety on
every step; :func:`check_log_matching` checks the Log Matching Property at the end. A
failing seed replays exactly: ``run_simulation(seed)``.
"""

from __future__ import annotations

from random import Random

from venue.cluster.raft import CompactedError, ConfChangeType, Role

from .harness import Env

CONVERGENCE_ROUNDS_MAX = 200


def run_simulation(seed: int, node_count: int = 3, steps: int = 600,
                   pre_vote: bool = True, check_quorum: bool = True,
                   spare_count: int = 0) -> Env:
    """``spare_count`` extra nodes start outside the cluster; with them, the walk also
    proposes membership changes and leadership transfers."""
    rng = Random(seed)
    env = Env(seed)
    env.record = False
    voters = tuple(range(1, node_count + 1))
    settings = {"pre_vote": pre_vote, "check_quorum": check_quorum,
                "election_timeout_ticks": 5, "inflight_messages_max": 4}
    env.add_nodes(node_count, voters=voters, **settings)  # type: ignore[arg-type]
    if spare_count:
        env.add_nodes(spare_count, **settings)  # type: ignore[arg-type]
    everyone = tuple(sorted(env.nodes))
    proposals = 0
    for _ in range(steps):
        roll = rng.randrange(100)
        node_id = rng.choice(everyone)
        if roll < 30:
            env.node(node_id).tick()
            env._note_leader(node_id)
        elif roll < 60 and env.network:
            _deliver_random(env, rng)
        elif roll < 85:
            env.process_ready(node_id)
        elif roll < 93:
            leader = _leader(env)
            if leader:
                proposals += 1
                env.propose(leader, f"p{proposals}".encode())
        elif roll < 95:
            _repartition(env, rng, everyone)
        elif roll < 96 and spare_count:
            _change_membership(env, rng, everyone)
        elif roll < 98:
            _compact(env, node_id, rng)
        else:
            env.restart(node_id)
    converge(env)
    check_log_matching(env)
    return env


def _deliver_random(env: Env, rng: Random) -> None:
    position = rng.randrange(len(env.network))  # reordering
    message = env.network[position]
    fate = rng.randrange(10)
    if fate == 0:
        del env.network[position]
        env.drop_message(message)
    elif fate == 1:
        env.deliver_message(message)  # duplicated: stays queued
    else:
        del env.network[position]
        env.deliver_message(message)


def _repartition(env: Env, rng: Random, voters: tuple[int, ...]) -> None:
    if env.groups or rng.randrange(2):
        env.groups = []
        return
    cut = rng.randrange(1, len(voters))
    shuffled = list(voters)
    rng.shuffle(shuffled)
    env.groups = [shuffled[:cut], shuffled[cut:]]


def _change_membership(env: Env, rng: Random, everyone: tuple[int, ...]) -> None:
    leader = _leader(env)
    if not leader:
        return
    target = rng.choice(everyone)
    if rng.randrange(4) == 0:
        env.transfer_leader(leader, target)
    else:
        env.propose_conf_change(leader, ConfChangeType(rng.randrange(1, 4)), target)


def _compact(env: Env, node_id: int, rng: Random) -> None:
    nut = env.nodes[node_id]
    applied = nut.node.status().applied
    first = nut.storage.first_index()
    if applied >= first:
        index = rng.randrange(first, applied + 1)
        try:
            env.compact(node_id, index)
        except CompactedError:
            pass


def _leader(env: Env) -> int:
    """The leader of the highest term (a deposed or removed leader may not know yet)."""
    leaders = [(env.node(i).status().term, i) for i in sorted(env.nodes)
               if env.node(i).status().role == Role.LEADER]
    return max(leaders)[1] if leaders else 0


def converge(env: Env) -> None:
    """Heal the network and run until one leader has every node applied to its commit."""
    env.groups = []
    for _ in range(CONVERGENCE_ROUNDS_MAX):
        env.stabilize()
        leader = _leader(env)
        if leader:
            env.propose(leader, b"final")  # commits any earlier-term tail
            env.stabilize()
            status = env.node(leader).status()
            members = [*status.conf_state.voters, *status.conf_state.learners]
            if all(env.node(i).status().applied == status.commit for i in members):
                return
        for node_id in sorted(env.nodes):
            env.node(node_id).tick()
    raise AssertionError(f"seed {env.seed}: cluster did not converge")


def check_log_matching(env: Env) -> None:
    """If two logs hold an entry with the same index and term, they are identical up to
    and including it (Raft §5.3); here: every pair agrees wherever both hold an entry."""
    logs = {}
    for node_id, nut in sorted(env.nodes.items()):
        storage = nut.storage
        entries = storage.entries(storage.first_index(), storage.last_index() + 1, 1 << 62)
        logs[node_id] = {entry.index: entry for entry in entries}
    ids = sorted(logs)
    for position, a in enumerate(ids):
        for b in ids[position + 1:]:
            shared = sorted(set(logs[a]) & set(logs[b]))
            matched = [i for i in shared if logs[a][i].term == logs[b][i].term]
            if matched:
                last = matched[-1]
                for index in shared:
                    if index <= last and logs[a][index] != logs[b][index]:
                        raise AssertionError(f"seed {env.seed}: logs of {a} and {b} match at "
                                             f"{last} but differ at {index}")
