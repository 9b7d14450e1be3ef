"""Divergence checking between nodes, sans-I/O.

Every node records its chain hash at each checkpoint index (a multiple of
``checkpoint_interval_entries``). Followers report theirs to the leader; the leader compares
each report with its own hash at that index, now or once it has applied that far. A
mismatch is a ``Divergence``: the index range since the last checkpoint the two agreed on,
and both hashes. The leader logs it and tells the follower, which stops applying. The chain
covers every event since the first entry, so equal hashes at a checkpoint mean equal event
histories up to it.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

CHECKPOINT_INTERVAL_ENTRIES_DEFAULT = 100
CHECKPOINTS_KEPT = 1024  # per node: older ones are forgotten (bounded memory)


class Checkpoint(msgspec.Struct, frozen=True, array_like=True, tag=1):
    """A follower's chain hash after applying ``index`` (peer payload)."""

    node_id: int
    index: int
    chain_hash: bytes


class Diverged(msgspec.Struct, frozen=True, array_like=True, tag=2):
    """The leader's verdict to a follower: your chain differs from mine (peer payload)."""

    index: int
    agreed_index: int
    leader_hash: bytes
    follower_hash: bytes


CheckPayload = Checkpoint | Diverged


class Divergence(NamedTuple):
    node_id: int
    index: int
    agreed_index: int  # the last checkpoint both hold the same hash for (0: none)
    leader_hash: bytes
    follower_hash: bytes

    def describe(self) -> str:
        return (f"node {self.node_id} diverged from the leader between log index "
                f"{self.agreed_index + 1} and {self.index}: leader chain "
                f"{self.leader_hash.hex()}, node chain {self.follower_hash.hex()}")


class DivergenceChecker:
    def __init__(self, interval_entries: int = CHECKPOINT_INTERVAL_ENTRIES_DEFAULT) -> None:
        if interval_entries < 1:
            raise ValueError("the checkpoint interval must be at least 1 entry")
        self.interval_entries = interval_entries
        self._local: dict[int, bytes] = {}
        self._pending: dict[int, dict[int, bytes]] = {}  # node -> index -> hash (ahead of us)
        self.agreed: dict[int, int] = {}  # node -> last agreed checkpoint index
        self.divergences: list[Divergence] = []
        self.diverged: dict[int, None] = {}  # nodes already found divergent: reported once

    def is_checkpoint(self, index: int) -> bool:
        return index % self.interval_entries == 0

    def local(self, index: int, chain_hash: bytes) -> list[Divergence]:
        """This node applied a checkpoint index; check reports that were waiting for it."""
        self._local[index] = chain_hash
        _trim(self._local)
        found = []
        for node_id, waiting in self._pending.items():
            reported = waiting.pop(index, None)
            if reported is not None:
                found.extend(self._compare(node_id, index, reported))
        return found

    def remote(self, node_id: int, index: int, chain_hash: bytes) -> list[Divergence]:
        """A follower reported its hash at ``index``."""
        if (not self.is_checkpoint(index) or index <= self.agreed.get(node_id, 0)
                or node_id in self.diverged):
            return []
        if index not in self._local:
            waiting = self._pending.setdefault(node_id, {})
            waiting[index] = chain_hash
            _trim(waiting)
            return []
        return self._compare(node_id, index, chain_hash)

    def _compare(self, node_id: int, index: int, chain_hash: bytes) -> list[Divergence]:
        mine = self._local.get(index)
        if mine is None:
            return []
        if mine == chain_hash:
            self.agreed[node_id] = max(self.agreed.get(node_id, 0), index)
            return []
        if node_id in self.diverged:
            return []
        self.diverged[node_id] = None
        divergence = Divergence(node_id, index, self.agreed.get(node_id, 0), mine, chain_hash)
        self.divergences = [*self.divergences[-63:], divergence]
        return [divergence]


def _trim(table: dict[int, bytes]) -> None:
    while len(table) > CHECKPOINTS_KEPT:
        del table[next(iter(table))]
