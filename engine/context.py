"""What a module sees while applying one command, session change or timer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .timers import TimerQueue

if TYPE_CHECKING:
    from venue.codecs import Event


class ApplyContext:
    """One per engine, reused for every callback (the engine sets the fields).

    ``log_index``: index of the entry being applied. ``now_ns``: the leader's timestamp
    stamped into that entry, the only clock a module may read. ``session_id`` and
    ``client_seq`` name the command's origin (0 for timers).
    """

    __slots__ = ("_events", "_module", "_timers", "client_seq", "log_index", "now_ns",
                 "session_id")

    def __init__(self, timers: TimerQueue) -> None:
        self._timers = timers
        self._events: list[Event] = []
        self._module = ""
        self.log_index = 0
        self.now_ns = 0
        self.session_id = 0
        self.client_seq = 0

    def emit(self, event: Event) -> None:
        """Report that something happened. Events are kept in emit order."""
        self._events.append(event)

    def schedule_timer(self, deadline_ns: int, timer_id: int) -> None:
        """Ask for ``on_timer(ctx, timer_id)`` once the log reaches ``deadline_ns``.

        Scheduling an id that is already set moves it. Ids are per module.
        """
        self._timers.schedule(self._module, timer_id, deadline_ns)

    def cancel_timer(self, timer_id: int) -> bool:
        """Cancel a timer of this module; True if it was pending."""
        return self._timers.cancel(self._module, timer_id)
