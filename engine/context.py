"""What a module sees while applying one command, session change or timer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .timers import TimerQueue

if TYPE_CHECKING:
    from venue.codecs import Event

    from .modules.sessions import ClientSessions
    from .service import Module

#: how deeply observers may nest (an observer's event observed by another, and so on)
OBSERVER_DEPTH_MAX = 8


class ApplyContext:
    """One per engine, reused for every callback (the engine sets the fields).

    ``log_index``: index of the entry being applied. ``now_ns``: the leader's timestamp
    stamped into that entry, the only clock a module may read. ``session_id`` and
    ``client_seq`` name the command's origin (0 for timers).

    ``event_types``: the event types of the node's schema. When given, ``emit`` refuses any
    other type (a module that forgot to list a type in ``emits``, or emitted something that is
    not an event): such events would be hashed and stored but no tool could decode them.

    ``observers``: event type -> the modules (name, module) that observe it, in registration
    order (``Module.observes``). ``emit`` hands each event to them at once, depth first, so an
    observer's own events follow the event that caused them.
    """

    __slots__ = ("_depth", "_event_types", "_events", "_module", "_observers", "_routes",
                 "_sessions", "_timers", "client_seq", "fault_module", "log_index", "now_ns",
                 "session_id")

    def __init__(self, timers: TimerQueue, event_types: Iterable[type] | None = None,
                 sessions: ClientSessions | None = None,
                 observers: dict[type, list[tuple[str, Module]]] | None = None) -> None:
        self._timers = timers
        self._sessions = sessions
        self._observers = observers or {}
        self._depth = 0
        #: the module whose callback raised, when that was an observer (for the halt report)
        self.fault_module = ""
        # a dict used as an ordered set (the engine uses no sets); None: accept any event
        self._event_types = None if event_types is None else dict.fromkeys(event_types)
        # event type -> its observers (empty for none), for every type ``emit`` accepts
        # without asking further: one dict lookup both checks the type and finds observers
        routed = self._observers if self._event_types is None else self._event_types
        self._routes: dict[type, tuple[tuple[str, Module], ...]] = {
            event_type: tuple(self._observers.get(event_type, ())) for event_type in routed}
        self._events: list[Event] = []
        self._module = ""
        self.log_index = 0
        self.now_ns = 0
        self.session_id = 0
        self.client_seq = 0

    @property
    def principal(self) -> str:
        """Who opened the session this command came from (authenticated at the gateway),
        or "" for timers and unknown sessions. Use it to check that a command's self-declared
        account belongs to its sender."""
        if self._sessions is None:
            return ""
        return self._sessions.principal(self.session_id)

    def emit(self, event: Event) -> None:
        """Report that something happened. Events are kept in emit order.

        Raises ``TypeError`` (a module bug: the engine halts) for a type not in the schema.
        """
        observers = self._routes.get(type(event))
        if observers is None:
            observers = self._unrouted(event)
        self._events.append(event)
        if observers:
            self._notify(observers, event)

    def _unrouted(self, event: Event) -> tuple[tuple[str, Module], ...]:
        """The observers of an event whose type is not in ``_routes``: none when the context
        has no schema (it accepts any event); otherwise the event is refused."""
        if self._event_types is None:
            return ()
        raise TypeError(
            f"module {self._module!r} emitted {type(event).__qualname__}, which is not an "
            f"event type of this node's schema: list it in the module's `emits`")

    def emit_all(self, events: Iterable[Event]) -> None:
        """``emit`` each of ``events``, in order."""
        emit = self.emit
        for event in events:
            emit(event)

    def _notify(self, observers: tuple[tuple[str, Module], ...], event: Event) -> None:
        """Run every other module's ``on_event`` for ``event``, as that module."""
        emitter = self._module
        if self._depth >= OBSERVER_DEPTH_MAX:
            raise RecursionError(f"observers nest deeper than {OBSERVER_DEPTH_MAX} while "
                                 f"module {emitter!r} emitted {event!r}: an event cycle")
        self._depth += 1
        try:
            for name, module in observers:
                if name == emitter:  # a module never observes its own events
                    continue
                self._module = name
                try:
                    module.on_event(self, event)
                except Exception:
                    if not self.fault_module:
                        self.fault_module = name
                    raise
        finally:
            self._module = emitter
            self._depth -= 1

    def schedule_timer(self, deadline_ns: int, timer_id: int) -> None:
        """Ask for ``on_timer(ctx, timer_id)`` once the log reaches ``deadline_ns``.

        Scheduling an id that is already set moves it. Ids are per module.
        """
        self._timers.schedule(self._module, timer_id, deadline_ns)

    def timer_capacity(self) -> int:
        """How many more timers the engine can hold (across all modules). Scheduling past
        ``timers_max`` is a bug that halts the engine: a module that schedules per client
        request should check this and reject the request instead."""
        return self._timers.timers_max - len(self._timers)

    def cancel_timer(self, timer_id: int) -> bool:
        """Cancel a timer of this module; True if it was pending."""
        return self._timers.cancel(self._module, timer_id)
