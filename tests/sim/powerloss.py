"""A power loss of the whole cluster in ``replicated`` mode: every node crashes in the same
step (so a majority crashes within one flush interval), then all restart recovering.

This is the one case in which ``replicated`` mode may lose committed entries (DESIGN §3,
cluster/raft/recovery.py), and the checker is told exactly what it may lose: the committed
entries that no node had synced. It forgets those (with their effects and the client
acknowledgements of their commands) and goes on checking everything else as strictly as
ever: entries some node had synced must survive the fallback (the fallen-back nodes vote
only for the best log their polls saw), and every chain, effect and convergence check
applies to the history that follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from venue.cluster.raft import MemoryStorage, StorageError

from .clients import SimClient

if TYPE_CHECKING:
    from .simulation import Simulation

CLIENT_ID_OFFSET = 100  # the clients after the loss are new ones (their sessions may be lost)


def synced_prefix(sim: Simulation) -> int:
    """The longest prefix of the canonical committed log that some node has synced."""
    entries = sim.checker.entries
    index = min(entries, default=1) - 1  # the bootstrap snapshot's index 1 is everywhere
    while index + 1 in entries and any(_holds(node.storage.durable, index + 1, entries)
                                       for node in sim.nodes.values()):
        index += 1
    return index


def _holds(durable: MemoryStorage, index: int, entries: dict) -> bool:
    if index <= durable.snapshot().index:
        return True
    if index > durable.last_index():
        return False
    try:
        stored = durable.entries(index, index + 1, 1 << 62)[0]
    except StorageError:
        return False
    return stored == entries[index]


def power_loss(sim: Simulation) -> int:
    """Crash every live node at once; return the index the checker keeps up to."""
    kept = synced_prefix(sim)
    for node_id, node in sorted(sim.nodes.items()):
        if node.up:
            sim._crash(node_id)
    sim.checker.forget_after(kept)
    sim.clients = [SimClient(CLIENT_ID_OFFSET + client.id, sim.rng, sim.checker,
                             sim.commands, sim.workload) for client in sim.clients]
    sim.note(f"power loss: every node crashed; committed entries after {kept} were synced "
             f"nowhere and may be lost")
    return kept
