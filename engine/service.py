"""The module (plugin) contract, in the spirit of Aeron's ClusteredService.

A module is deterministic business logic. It changes state only inside the callbacks below
and reports what happened only through ``ctx.emit``. It may not do I/O, read a clock, draw
unseeded randomness, iterate a set, use ``hash()``/``id()`` or keep floats in state: every
node applies the same log to the same modules and must produce the same events.

Rule-breaking input (an unknown instrument, a price off tick) is answered with a typed reject
event and changes nothing else. An exception escaping a callback is a bug: the engine halts
at that log index (``EngineHalted``) and the entry's effects are discarded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from venue.codecs import Command, Event

    from .context import ApplyContext


class ModuleDirectory:
    """Lets a module find the others, to call their query methods synchronously.

    Only documented query methods may be called: a module must never change another's
    state.
    """

    def __init__(self, modules: dict[str, Module]) -> None:
        self._modules = modules

    def get(self, name: str) -> Module:
        """The module registered under ``name``; ``KeyError`` names the known ones."""
        try:
            return self._modules[name]
        except KeyError:
            known = ", ".join(self._modules)
            raise KeyError(f"no module named {name!r} (loaded: {known})") from None

    def find(self, name: str) -> Module | None:
        return self._modules.get(name)

    def names(self) -> list[str]:
        return list(self._modules)


class Module:
    """Base class of every module. Subclasses set the class attributes and override the
    callbacks they need; the defaults do nothing.

    ``name``: unique and stable, it keys snapshots and timers.
    ``handles``: the command types this module applies (each type has one handler).
    ``emits``: the plugin event types it emits (built-in event types need not be listed);
    they join the node's schema so tools can decode them.
    ``observes``: event types this module wants to see when *another* module emits them:
    ``on_event(ctx, event)`` runs at once, inside that emit, so the observer's own events
    follow the one that caused them and the whole entry stays all or nothing. This is how
    modules react to each other without touching each other's state (risk settles balances
    on ``OrderFilled``; matching cancels resting orders on an instrument's close).
    ``snapshot_version``: bump when ``take_snapshot``'s format changes incompatibly.
    """

    name: ClassVar[str] = ""
    handles: ClassVar[tuple[type[Command], ...]] = ()
    emits: ClassVar[tuple[type[Event], ...]] = ()
    observes: ClassVar[tuple[type[Event], ...]] = ()
    snapshot_version: ClassVar[int] = 1

    #: set by the engine before ``on_start``
    directory: ModuleDirectory

    def on_start(self, snapshot: bytes | None) -> None:
        """Called once, before any entry: restore from ``snapshot`` if given."""

    def on_session_open(self, ctx: ApplyContext, session_id: int) -> None:
        """A client session opened."""

    def on_session_close(self, ctx: ApplyContext, session_id: int) -> None:
        """A client session closed (by the client, a timeout or an operator)."""

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        """Apply one command of a type in ``handles``."""
        raise NotImplementedError(f"{type(self).__name__} handles no commands")

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        """A timer this module scheduled has fired."""

    def on_event(self, ctx: ApplyContext, event: Event) -> None:
        """Another module emitted ``event``, of a type in ``observes``. ``ctx`` names the
        same command (session, seq, time) as the emitter's; events emitted here, and timers
        scheduled here, are this module's."""

    def take_snapshot(self) -> bytes:
        """All of this module's state, as bytes that ``on_start`` can restore.

        Iteration order is state too: a dict rebuilt in ``on_start`` must iterate in the
        order the live one did (encode lists of pairs, not dicts: a deterministic encoder
        sorts dict keys).
        """
        return b""

    def summary(self) -> dict[str, int | str]:
        """A few figures describing the state, for ``venue replay``."""
        return {}
