"""What the leader knows about each follower's log (etcd's ``tracker.Progress``).

A follower is in one of three states:

- PROBE: the leader does not know where the follower's log ends; it sends one append at a
  time and waits for the answer (or a heartbeat response) before sending the next.
- REPLICATE: the follower is known to match up to ``match``; the leader streams appends
  optimistically (``next`` runs ahead of ``match``), at most ``inflight_messages_max``
  unacknowledged at once.
- SNAPSHOT: the follower needs entries the leader has compacted; a snapshot is on its way
  and nothing else is sent until the follower acknowledges it.
"""

from __future__ import annotations

import enum
from collections import deque


class ProgressState(enum.IntEnum):
    PROBE = 1
    REPLICATE = 2
    SNAPSHOT = 3


class Inflights:
    """Last indexes of the append messages sent but not yet acknowledged, oldest first."""

    def __init__(self, size_max: int) -> None:
        self.size_max = size_max
        self._indexes: deque[int] = deque()

    def __len__(self) -> int:
        return len(self._indexes)

    def add(self, index: int) -> None:
        if self.full():
            raise AssertionError("cannot add to full inflights")
        if self._indexes and index < self._indexes[-1]:
            raise AssertionError(f"inflight index {index} below {self._indexes[-1]}")
        self._indexes.append(index)

    def free_le(self, index: int) -> None:
        """Forget every message whose last index is ``<= index`` (acknowledged)."""
        while self._indexes and self._indexes[0] <= index:
            self._indexes.popleft()

    def free_first_one(self) -> None:
        if self._indexes:
            self._indexes.popleft()

    def full(self) -> bool:
        return len(self._indexes) >= self.size_max

    def reset(self) -> None:
        self._indexes.clear()


class Progress:
    """One follower's replication state, as tracked by the leader."""

    def __init__(self, next_index: int, inflight_messages_max: int,
                 is_learner: bool = False) -> None:
        self.match = 0
        self.next = next_index
        self.state = ProgressState.PROBE
        self.pending_snapshot = 0
        self.recent_active = False
        self.msg_app_flow_paused = False
        self.inflights = Inflights(inflight_messages_max)
        self.is_learner = is_learner

    def __repr__(self) -> str:
        return (f"Progress({self.state.name} match={self.match} next={self.next} "
                f"inflight={len(self.inflights)})")

    def reset(self, next_index: int) -> None:
        """Forget everything but learner-ness (a new term)."""
        self._reset_state(ProgressState.PROBE)
        self.match = 0
        self.next = next_index
        self.recent_active = False

    def _reset_state(self, state: ProgressState) -> None:
        self.msg_app_flow_paused = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    def become_probe(self) -> None:
        if self.state == ProgressState.SNAPSHOT:
            pending = self.pending_snapshot
            self._reset_state(ProgressState.PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self._reset_state(ProgressState.PROBE)
            self.next = self.match + 1

    def become_replicate(self) -> None:
        self._reset_state(ProgressState.REPLICATE)
        self.next = self.match + 1

    def become_snapshot(self, snapshot_index: int) -> None:
        self._reset_state(ProgressState.SNAPSHOT)
        self.pending_snapshot = snapshot_index

    def sent_entries(self, count: int, last_index: int) -> None:
        """An append with ``count`` entries ending at ``last_index`` was sent."""
        if self.state == ProgressState.REPLICATE:
            if count:
                self.next = last_index + 1
                self.inflights.add(last_index)
        elif self.state == ProgressState.PROBE:
            self.msg_app_flow_paused = True
        else:
            raise AssertionError("sending entries to a follower awaiting a snapshot")

    def maybe_update(self, index: int) -> bool:
        """The follower acknowledged ``index``; False if that is old news."""
        updated = False
        if self.match < index:
            self.match = index
            updated = True
            self.msg_app_flow_paused = False
        self.next = max(self.next, index + 1)
        return updated

    def maybe_decr_to(self, rejected: int, match_hint: int) -> bool:
        """The follower rejected the append at ``rejected``; move ``next`` back (to just past
        ``match_hint``, the fast back-off). False if the rejection is stale."""
        if self.state == ProgressState.REPLICATE:
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            return False
        if rejected <= self.match and match_hint < self.match:
            # The follower no longer holds entries it acknowledged: its disk was lost and it
            # rejoined empty. Forget what it had (lowering match can only delay commits,
            # never make one) and probe from what it has now.
            self.match = match_hint
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.msg_app_flow_paused = False
        return True

    def is_paused(self) -> bool:
        """Whether the leader must not send this follower an append now."""
        if self.state == ProgressState.PROBE:
            return self.msg_app_flow_paused
        if self.state == ProgressState.REPLICATE:
            return self.inflights.full()
        return True
