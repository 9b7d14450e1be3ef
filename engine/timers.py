"""Deterministic timers: part of the engine's replicated state.

A module asks for a timer with ``ctx.schedule_timer(deadline_ns, timer_id)``. Timers fire
only through a TIMER log entry, in (deadline, module name, timer id) order, so every node
fires the same timers at the same log position.
"""

from __future__ import annotations

import heapq

TIMERS_MAX_DEFAULT = 1_000_000


class TimerLimitReached(Exception):
    """More live timers than ``timers_max``: a module bug or a missing limit upstream."""


class TimerQueue:
    """Timers keyed by (module, timer_id); one live deadline per key.

    A heap with lazy deletion: rescheduling or cancelling leaves a stale heap item that is
    skipped when popped, and the heap is rebuilt when stale items outnumber live ones.
    """

    def __init__(self, timers_max: int = TIMERS_MAX_DEFAULT) -> None:
        self.timers_max = timers_max
        self._deadlines: dict[tuple[str, int], int] = {}
        self._heap: list[tuple[int, str, int]] = []

    def __len__(self) -> int:
        return len(self._deadlines)

    def schedule(self, module: str, timer_id: int, deadline_ns: int) -> None:
        """Set (or move) a timer. O(log n).

        ``timer_id`` and ``deadline_ns`` must be integers: a float deadline would put a float
        in the replicated state and a snapshot that no longer restores.
        """
        if (not (isinstance(timer_id, int) and isinstance(deadline_ns, int))
                or isinstance(timer_id, bool) or isinstance(deadline_ns, bool)):
            raise TypeError(f"timer_id and deadline_ns must be ints, got {timer_id!r} and "
                            f"{deadline_ns!r} from {module!r}")
        key = (module, timer_id)
        if key not in self._deadlines and len(self._deadlines) >= self.timers_max:
            raise TimerLimitReached(f"timers_max={self.timers_max} reached by {module!r}")
        self._deadlines[key] = deadline_ns
        heapq.heappush(self._heap, (deadline_ns, module, timer_id))
        self._compact_if_stale()

    def cancel(self, module: str, timer_id: int) -> bool:
        """Cancel a timer; True if it was live. O(1)."""
        return self._deadlines.pop((module, timer_id), None) is not None

    def is_live(self, module: str, timer_id: int, deadline_ns: int) -> bool:
        return self._deadlines.get((module, timer_id)) == deadline_ns

    def next_deadline(self) -> int | None:
        """The earliest live deadline, or None. Amortised O(log n)."""
        self._drop_stale_head()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, deadline_ns: int) -> list[tuple[int, str, int]]:
        """Take every live timer due at or before ``deadline_ns`` off the heap, in order.

        Each must then be ``claim``ed before it fires, so that a timer cancelled or moved by
        an earlier callback of the same entry does not fire. Timers scheduled while these
        fire wait for the next TIMER entry, which bounds the work of one entry.
        """
        due: list[tuple[int, str, int]] = []
        heap = self._heap
        while True:
            self._drop_stale_head()
            if not heap or heap[0][0] > deadline_ns:
                return due
            item = heapq.heappop(heap)
            # A timer moved away and back leaves equal copies in the heap, which pop one
            # after the other; keep one, or a callback that sets the timer again at the same
            # deadline would see it fire a second time in this entry.
            if not due or due[-1] != item:
                due.append(item)

    def claim(self, item: tuple[int, str, int]) -> bool:
        """Remove a popped timer if it is still live with that deadline; True if so."""
        deadline, module, timer_id = item
        key = (module, timer_id)
        if self._deadlines.get(key) != deadline:
            return False
        del self._deadlines[key]
        return True

    def items(self) -> list[tuple[int, str, int]]:
        """Every live timer in firing order (for snapshots)."""
        return sorted((deadline, module, timer_id)
                      for (module, timer_id), deadline in self._deadlines.items())

    def restore(self, items: list[tuple[int, str, int]]) -> None:
        self._deadlines = {(module, timer_id): deadline for deadline, module, timer_id in items}
        self._heap = sorted(items)

    def _drop_stale_head(self) -> None:
        heap = self._heap
        while heap:
            deadline, module, timer_id = heap[0]
            if self._deadlines.get((module, timer_id)) == deadline:
                return
            heapq.heappop(heap)

    def _compact_if_stale(self) -> None:
        if len(self._heap) > 2 * len(self._deadlines) + 64:
            self._heap = self.items()

    def _check(self) -> None:
        """Assert the invariants (for tests), outside ``pop_due``/``claim`` pairs."""
        heap = self._heap
        for child in range(1, len(heap)):
            assert heap[(child - 1) // 2] <= heap[child], f"heap order broken at {child}"
        live = [item for item in heap if self.is_live(item[1], item[2], item[0])]
        assert sorted(dict.fromkeys(live)) == self.items(), "heap and deadlines disagree"
        assert len(self._deadlines) <= self.timers_max, "more live timers than timers_max"
        # only ``schedule`` grows the heap, and it compacts past 2 * live + 64
        assert len(heap) <= 2 * self.timers_max + 65, "stale heap items grow without bound"
