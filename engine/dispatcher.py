"""The engine: applies log entries to modules and chains what they emit.

For each entry, in log order: decode the payload, run the session check, route each command
to the module that handles its type, collect the events it emits in order, encode them
canonically, and advance the hash chain. An entry is all or nothing: if a module (or the
engine itself) raises, the engine halts (``EngineHalted``) before anything the entry produced
is hashed or returned, and refuses all further work, including snapshots.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from typing import NamedTuple

import msgspec

from venue.codecs import EntryKind, LogEntry, Outcome, RejectReason, Schema
from venue.codecs.events import CommandRejected
from venue.codecs.log import CommandBatch, SessionClose, SessionOpen, TimerFire

from .context import ApplyContext
from .errors import EngineError, EngineHalted
from .hashing import HashChain
from .modules.sessions import APPLY, DUPLICATE, SESSIONS_MAX_DEFAULT, ClientSessions
from .service import Module, ModuleDirectory
from .timers import TIMERS_MAX_DEFAULT, TimerQueue

UNDECODABLE_COMMAND_TEXT = "command does not decode with this node's schema"


class Applied(NamedTuple):
    """What applying one entry produced."""

    index: int
    event_bytes: bytes  # canonical encoding of ``outcomes``
    chain_hash: bytes
    outcomes: list[Outcome]


def schema_for(modules: Sequence[Module]) -> Schema:
    """The schema of a node running ``modules``: venue's types plus the ones they declare."""
    commands = [t for m in modules for t in m.handles]
    events = [t for m in modules for t in m.emits]
    return Schema(commands=commands, events=events)


def _observers_of(modules: Sequence[Module]) -> dict[type, list[tuple[str, Module]]]:
    """Event type -> the modules that observe it, in registration order."""
    observers: dict[type, list[tuple[str, Module]]] = {}
    for module in modules:
        for event_type in module.observes:
            observers.setdefault(event_type, []).append((module.name, module))
    return observers


class Engine:
    """Deterministic state machine over the log. Single-threaded; no I/O; no clock."""

    def __init__(self, modules: Sequence[Module], *, snapshot: bytes | None = None,
                 sessions_max: int = SESSIONS_MAX_DEFAULT,
                 timers_max: int = TIMERS_MAX_DEFAULT) -> None:
        self.modules: dict[str, Module] = {}
        self._handlers: dict[type, tuple[Module, str]] = {}
        for module in modules:
            self._register(module)
        self.schema = schema_for(modules)
        self.sessions = ClientSessions(sessions_max)
        self.timers = TimerQueue(timers_max)
        self.chain = HashChain()
        self.applied_index = 0
        self.last_timestamp_ns = 0
        self.ctx = ApplyContext(self.timers, self.schema.events.values(), self.sessions,
                                _observers_of(modules))
        self._halt: EngineHalted | None = None
        self._batch_decoder = msgspec.msgpack.Decoder(CommandBatch)
        self._entry_handlers: dict[EntryKind, Callable[[LogEntry, list[Outcome]], None]] = {
            EntryKind.COMMAND_BATCH: self._apply_batch,
            EntryKind.SESSION_OPEN: self._apply_session_open,
            EntryKind.SESSION_CLOSE: self._apply_session_close,
            EntryKind.TIMER: self._apply_timer,
        }
        directory = ModuleDirectory(self.modules)
        module_states = None
        if snapshot is not None:
            from .snapshot import restore_engine_state

            module_states = restore_engine_state(self, snapshot)
        for module in self.modules.values():
            module.directory = directory
            module.on_start(None if module_states is None else module_states[module.name])

    def _register(self, module: Module) -> None:
        name = module.name
        if not name or not isinstance(name, str):
            raise EngineError(f"module {type(module).__qualname__} needs a non-empty name")
        if name in self.modules:
            raise EngineError(f"two modules are named {name!r}")
        self.modules[name] = module
        for command_type in module.handles:
            other = self._handlers.get(command_type)
            if other is not None:
                raise EngineError(f"{command_type.__qualname__} is handled by both "
                                  f"{other[1]!r} and {name!r}")
            self._handlers[command_type] = (module, name)

    # -- queries -------------------------------------------------------------------------

    @property
    def halted(self) -> EngineHalted | None:
        return self._halt

    def module(self, name: str) -> Module:
        """The module named ``name``, for queries. Refused once the engine has halted."""
        self._refuse_if_halted()
        return self.modules[name]

    def next_timer_deadline(self) -> int | None:
        """When the leader should append the next TIMER entry."""
        self._refuse_if_halted()
        return self.timers.next_deadline()

    def _refuse_if_halted(self) -> None:
        if self._halt is not None:
            raise self._halt

    # -- applying ------------------------------------------------------------------------

    def apply(self, entry: LogEntry) -> Applied:
        """Apply the next entry; all or nothing. Raises ``EngineHalted`` on a module bug."""
        self._refuse_if_halted()
        index = entry.index
        if index != self.applied_index + 1:
            raise EngineError(f"entry {index} applied out of order: "
                              f"engine is at {self.applied_index}")
        ctx = self.ctx
        ctx.log_index = index
        ctx.fault_module = ""
        ctx.now_ns = entry.timestamp_ns
        outcomes: list[Outcome] = []
        handler = self._entry_handlers.get(entry.kind)
        try:
            if handler is not None:
                handler(entry, outcomes)
        except EngineHalted:
            raise
        except Exception:  # a bug in the engine itself: state may already have changed
            raise self._halt_with(entry, "engine", entry.kind.name) from None
        try:
            event_bytes = self.schema.encoder.encode(outcomes)
        except Exception:  # modules have already changed state: never carry on
            raise self._halt_with(entry, *self._unencodable(outcomes)) from None
        chain_hash = self.chain.advance(index, event_bytes)
        self.applied_index = index
        self.last_timestamp_ns = entry.timestamp_ns
        return Applied(index, event_bytes, chain_hash, outcomes)

    def _unencodable(self, outcomes: list[Outcome]) -> tuple[str, str]:
        """Name the module and event that would not encode (say, an int past 64 bits)."""
        encode = self.schema.encoder.encode
        for outcome in outcomes:
            for event in outcome.events:
                try:
                    encode(event)
                except Exception as exc:
                    owner = next((name for name, module in self.modules.items()
                                  if type(event) in module.emits), "engine")
                    return owner, (f"encoding {event!r} for session {outcome.session_id} "
                                   f"seq {outcome.client_seq}: {exc}")
        return "engine", "encoding the entry's events"

    def _halt_with(self, entry: LogEntry, module: str, what: object) -> EngineHalted:
        observer = self.ctx.fault_module  # an observer that raised inside ``module``'s emit
        if observer and observer != module:
            module = f"{observer} (observing {module})"
        self._halt = EngineHalted(entry.index, module, what, traceback.format_exc())
        return self._halt

    def _apply_batch(self, entry: LogEntry, outcomes: list[Outcome]) -> None:
        try:
            batch = self._batch_decoder.decode(entry.payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise self._halt_with(entry, "engine", "COMMAND_BATCH payload") from None
        check = self.sessions.check
        decode = self.schema.command_decoder.decode  # every error it raises is a reject
        handlers = self._handlers
        ctx = self.ctx
        add_outcome = outcomes.append
        for client_command in batch.commands:
            session_id = client_command.session_id
            client_seq = client_command.client_seq
            verdict, refusal = check(session_id, client_seq)
            if verdict != APPLY:
                if verdict != DUPLICATE:
                    outcomes.append(Outcome(session_id, client_seq, [refusal]))
                continue
            try:
                command = decode(client_command.command)
            except Exception:  # client bytes: a reject, never a halt (whatever decoding
                # raises, or any client could halt every node at once). The text is fixed:
                # the decoder's own message could differ between library versions, and
                # event bytes are hashed.
                rejected = CommandRejected(0, RejectReason.INVALID_FIELD,
                                           text=UNDECODABLE_COMMAND_TEXT)
                outcomes.append(Outcome(session_id, client_seq, [rejected]))
                continue
            route = handlers.get(type(command))
            if route is None:
                rejected = CommandRejected(command.__struct_config__.tag,
                                           RejectReason.NO_HANDLER)
                outcomes.append(Outcome(session_id, client_seq, [rejected]))
                continue
            module, name = route
            events: list = []
            ctx._events = events
            ctx._module = name
            ctx.session_id = session_id
            ctx.client_seq = client_seq
            try:
                module.on_command(ctx, command)
            except Exception:
                raise self._halt_with(entry, name, command) from None
            add_outcome(Outcome(session_id, client_seq, events))

    def _each_module(self, entry: LogEntry, events: list, session_id: int,
                     call: Callable[[Module], None]) -> None:
        ctx = self.ctx
        ctx._events = events
        ctx.session_id = session_id
        ctx.client_seq = 0
        for name, module in self.modules.items():
            ctx._module = name
            try:
                call(module)
            except Exception:
                raise self._halt_with(entry, name, entry.kind.name) from None

    def _apply_session_open(self, entry: LogEntry, outcomes: list[Outcome]) -> None:
        payload = self._decode_payload(entry, SessionOpen)
        opened = self.sessions.open(entry.index, payload.principal)
        events: list = [opened]
        if self.sessions.is_open(entry.index):
            ctx = self.ctx
            self._each_module(entry, events, entry.index,
                              lambda module: module.on_session_open(ctx, entry.index))
        outcomes.append(Outcome(entry.index, 0, events))

    def _apply_session_close(self, entry: LogEntry, outcomes: list[Outcome]) -> None:
        payload = self._decode_payload(entry, SessionClose)
        session_id = payload.session_id
        was_open = self.sessions.is_open(session_id)
        events: list = [self.sessions.close(session_id, payload.reason)]
        if was_open:
            ctx = self.ctx
            self._each_module(entry, events, session_id,
                              lambda module: module.on_session_close(ctx, session_id))
        outcomes.append(Outcome(session_id, 0, events))

    def _apply_timer(self, entry: LogEntry, outcomes: list[Outcome]) -> None:
        payload = self._decode_payload(entry, TimerFire)
        timers = self.timers
        ctx = self.ctx
        events: list = []
        ctx._events = events
        ctx.session_id = 0
        ctx.client_seq = 0
        item = None
        try:
            for item in timers.pop_due(payload.deadline_ns):
                if timers.claim(item):
                    ctx._module = item[1]
                    self.modules[item[1]].on_timer(ctx, item[2])
        except Exception:
            module = item[1] if item else "engine"
            raise self._halt_with(entry, module, f"timer {item}") from None
        if events:
            outcomes.append(Outcome(0, 0, events))

    def _decode_payload(self, entry: LogEntry, payload_type: type):
        try:
            return msgspec.msgpack.decode(entry.payload, type=payload_type)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise self._halt_with(entry, "engine", f"{entry.kind.name} payload") from None

    # -- snapshots -----------------------------------------------------------------------

    def take_snapshot(self) -> bytes:
        """Every module's state, the sessions, the timers and the chain head, versioned.

        Refused once the engine has halted, so a half-applied state is never saved.
        """
        self._refuse_if_halted()
        from .snapshot import encode_engine_state

        return encode_engine_state(self)

    def summary(self) -> dict[str, dict[str, int | str]]:
        self._refuse_if_halted()
        engine: dict[str, int | str] = {
            "applied_index": self.applied_index,
            "chain_head": self.chain.head.hex(),
            "sessions": len(self.sessions),
            "timers": len(self.timers),
        }
        result = {"engine": engine}
        for name, module in self.modules.items():
            result[name] = module.summary()
        return result
