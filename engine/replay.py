"""Fold a log, or part of it, into fresh modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from venue.codecs import LogEntry

from .dispatcher import Applied, Engine
from .modules.sessions import SESSIONS_MAX_DEFAULT
from .service import Module
from .timers import TIMERS_MAX_DEFAULT


def replay(entries: Iterable[LogEntry], modules: Sequence[Module], *,
           snapshot: bytes | None = None, to_index: int | None = None,
           on_applied: Callable[[LogEntry, Applied], None] | None = None,
           sessions_max: int = SESSIONS_MAX_DEFAULT,
           timers_max: int = TIMERS_MAX_DEFAULT) -> Engine:
    """Build an engine (from ``snapshot`` if given) and apply ``entries`` in order.

    Entries at or below the snapshot's index are skipped; application stops after
    ``to_index``. Returns the engine; raises ``EngineHalted`` if a module fails.
    ``sessions_max`` and ``timers_max`` change what entries do, so a replay must use the
    values the log was first applied with.
    """
    engine = Engine(modules, snapshot=snapshot, sessions_max=sessions_max,
                    timers_max=timers_max)
    for entry in entries:
        if entry.index <= engine.applied_index:
            continue
        if to_index is not None and entry.index > to_index:
            break
        applied = engine.apply(entry)
        if on_applied is not None:
            on_applied(entry, applied)
    return engine
