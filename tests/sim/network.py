"""A seeded network: every message is delayed, and while faults are on it may be dropped,
duplicated, reordered (by unequal delays) or cut by a partition (symmetric or one-way).

Whether a message arrives is decided when it is due: it is lost if it was dropped on the
wire, if a partition cuts its direction then, or if its receiver is down. A lost SNAPSHOT is
reported to its sender as failed; a message lost to a partition or a dead receiver is
reported as unreachable (the transport's connection broke, which a sender notices).
In ``replicated`` mode a message sent to a node before it crashed is lost even if the node
has restarted by the time it is due, as over TCP (the connection dies with the process):
the recovering rule relies on it (cluster/raft/recovery.py). In ``fsync`` mode such
messages are still delivered, a harsher network than TCP that Raft tolerates.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from random import Random

from venue.cluster.raft import Message

DELAY_STEPS_MAX = 4  # while healed: delivery within this many steps


@dataclass(frozen=True)
class Faults:
    """How unkind the network is while faults are on (percentages per message)."""

    drop_percent: int = 5
    duplicate_percent: int = 3
    delay_steps_max: int = 12


@dataclass(order=True)
class InFlight:
    """A message on the wire; ``sender_incarnation`` tells whether its sender has restarted
    since (a transport report goes only to the incarnation that sent it)."""

    due_step: int
    sequence: int
    message: Message = field(compare=False)
    lost: bool = field(compare=False, default=False)
    sender_incarnation: int = field(compare=False, default=0)
    to_incarnation: int = field(compare=False, default=0)


class Network:
    """Messages in flight, ordered by due step then by send order. All choices from ``rng``."""

    def __init__(self, rng: Random, faults: Faults) -> None:
        self.rng = rng
        self.faults = faults
        self.faulty = True
        self.blocked: dict[tuple[int, int], bool] = {}  # (sender, to) cut off
        self._heap: list[InFlight] = []
        self._sequence = 0
        self.sent_count = 0
        self.lost_count = 0
        self.incarnations: dict[int, int] = {}  # node -> how many times it crashed

    def __len__(self) -> int:
        return len(self._heap)

    def send(self, message: Message, now: int, incarnation: int) -> None:
        """Put ``message`` on the wire (and, sometimes, a duplicate of it)."""
        self.sent_count += 1
        copies = 1
        if self.faulty and self.rng.randrange(100) < self.faults.duplicate_percent:
            copies = 2
        for _ in range(copies):
            delay_max = self.faults.delay_steps_max if self.faulty else DELAY_STEPS_MAX
            lost = self.faulty and self.rng.randrange(100) < self.faults.drop_percent
            self._sequence += 1
            heapq.heappush(self._heap, InFlight(
                now + 1 + self.rng.randrange(delay_max), self._sequence, message, lost,
                incarnation, self.incarnations.get(message.to, 0)))

    def due(self, now: int) -> list[InFlight]:
        """Pop every message due by ``now``, in due order."""
        out = []
        while self._heap and self._heap[0].due_step <= now:
            out.append(heapq.heappop(self._heap))
        return out

    def connected(self, sender: int, to: int) -> bool:
        return (sender, to) not in self.blocked

    def partition(self, node_ids: list[int]) -> str:
        """Cut the cluster: either two groups apart, or one direction between two nodes."""
        if self.rng.randrange(3) == 0:
            sender, to = self.rng.sample(node_ids, 2)
            self.blocked[(sender, to)] = True
            return f"one-way cut {sender}->{to}"
        shuffled = list(node_ids)
        self.rng.shuffle(shuffled)
        cut = self.rng.randrange(1, len(shuffled))
        return self.partition_off(sorted(shuffled[:cut]), node_ids)

    def partition_off(self, left: list[int], node_ids: list[int]) -> str:
        """Cut ``left`` off from the other nodes, both ways."""
        right = [i for i in node_ids if i not in left]
        for a in left:
            for b in right:
                self.blocked[(a, b)] = True
                self.blocked[(b, a)] = True
        return f"partition {left}|{right}"

    def heal_partitions(self) -> None:
        self.blocked = {}

    def heal(self) -> None:
        """No more faults: no partitions, drops or duplicates; short delays."""
        self.heal_partitions()
        self.faulty = False
