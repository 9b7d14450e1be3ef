"""Drive modules through a real engine, and run golden scenario files against them.

A scenario file is a specification that runs. One file gets one fresh engine; state carries
from case to case. Cases are separated by blank lines; each is some ``#`` comment lines,
input lines, ``----``, and the expected output, one line per event or answer::

    # halting an open instrument
    HaltInstrument(1, reason='news')
    check_order(1, price=100, quantity=10, needs_price=True)
    ----
    InstrumentStatusChanged(instrument_id=1, status=HALTED, reason='news')
    INSTRUMENT_HALTED

An input line is a Python call with literal arguments. A command class name (any built-in
command, or one the module handles) submits that command as one log entry, and prints each
event it produced, ``Name(field=value, ...)`` with fields at their default left out and enums
by name (as ``venue tail`` prints them). Any other name must be one of the module's query
methods the test allows; it prints the answer (a list prints one item per line).

While it runs, the harness checks what every scenario should hold: a rejected command and a
query leave the module's snapshot bytes unchanged, the module's ``_check()`` passes after every
step, events survive a canonical encode and decode, and at the end a fresh engine restored
from a snapshot holds the same state.

To write a case, add its input lines, then run the tests with ``VENUE_REWRITE=1`` in the
environment: the expected output is regenerated in place. Review the diff, never accept it
blindly.
"""

from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from venue.cluster.journal import format_value
from venue.codecs import (
    BUILTIN_COMMANDS,
    ClientCommand,
    Command,
    CommandBatch,
    CommandRejected,
    EntryKind,
    Event,
    LogEntry,
    OrderRejected,
    SessionOpen,
    TimerFire,
)
from venue.engine import Applied, Engine, Module

SEPARATOR = "----"
REWRITE = os.environ.get("VENUE_REWRITE") == "1"
TIMESTAMP_START_NS = 1_700_000_000_000_000_000
REJECTS = (CommandRejected, OrderRejected)


class EngineDriver:
    """An engine with one open client session; each command is one log entry.

    Given a ``snapshot``, the engine is restored from it and carries on the snapshot's
    session ``session_id`` where it stopped.
    """

    def __init__(self, modules: Sequence[Module], *, snapshot: bytes | None = None,
                 session_id: int = 0, start_ns: int = TIMESTAMP_START_NS) -> None:
        self.engine = Engine(modules, snapshot=snapshot)
        self.index = self.engine.applied_index
        #: the timestamp of the last entry; each entry is 1,000 ns after the one before
        self.now_ns = (start_ns if snapshot is None else self.engine.last_timestamp_ns)
        if snapshot is None:
            session_id = self.append(EntryKind.SESSION_OPEN, SessionOpen("operator")).index
        self.session_id = session_id
        self.client_seq = self.engine.sessions.last_client_seq(session_id)

    def append(self, kind: EntryKind, payload: msgspec.Struct, at_ns: int | None = None
               ) -> Applied:
        """Append one entry, 1,000 ns after the last (or at ``at_ns``, if that is later)."""
        self.index += 1
        self.now_ns = max(self.now_ns + 1_000, at_ns or 0)
        entry = LogEntry(self.index, 1, self.now_ns, kind, msgspec.msgpack.encode(payload))
        applied = self.engine.apply(entry)
        decoded = self.engine.schema.decode_outcomes(applied.event_bytes)
        assert decoded == applied.outcomes, "events do not survive encode and decode"
        return applied

    def submit(self, command: Command) -> list[Event]:
        """Apply ``command`` as the session's next command; the events it produced."""
        self.client_seq += 1
        raw = msgspec.msgpack.encode(command)
        batch = CommandBatch([ClientCommand(self.session_id, self.client_seq, raw)])
        [outcome] = self.append(EntryKind.COMMAND_BATCH, batch).outcomes
        assert (outcome.session_id, outcome.client_seq) == (self.session_id, self.client_seq)
        return outcome.events

    def fire_timers(self, deadline_ns: int) -> list[Event]:
        """Append a TIMER entry at ``deadline_ns`` (or 1,000 ns after the last entry, if
        that is later) firing every timer due by then; the events the timers produced."""
        applied = self.append(EntryKind.TIMER, TimerFire(deadline_ns), at_ns=deadline_ns)
        return [event for outcome in applied.outcomes for event in outcome.events]


def parse_call(line: str, names: dict[str, object] | None = None) -> tuple[str, list, dict]:
    """``Name(literal, key=literal, ...)`` -> name, args, kwargs. An argument may also be
    a bare name from ``names`` (say ``BUY`` for ``Side.BUY``)."""
    call = ast.parse(line, mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise ValueError(f"not a call: {line!r}")
    names = names or {}

    def value(node: ast.expr) -> object:
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        return ast.literal_eval(node)

    args = [value(arg) for arg in call.args]
    kwargs = {keyword.arg: value(keyword.value) for keyword in call.keywords}
    return call.func.id, args, kwargs


class ScenarioRunner:
    """Runs the input lines of one file against one module in a fresh engine."""

    def __init__(self, make_module: Callable[[], Module], queries: Sequence[str]) -> None:
        self.make_module = make_module
        self.module = make_module()
        self.driver = EngineDriver([self.module])
        self.queries = tuple(queries)
        commands = [*BUILTIN_COMMANDS, *self.module.handles]
        self.commands = {command.__name__: command for command in commands}

    def run_line(self, line: str) -> list[str]:
        name, args, kwargs = parse_call(line)
        before = self.module.take_snapshot()
        if name in self.commands:
            events = self.driver.submit(self.commands[name](*args, **kwargs))
            rejected = any(isinstance(event, CommandRejected) for event in events)
            output = [format_value(event) for event in events] or ["(no events)"]
        elif name in self.queries:
            answer = getattr(self.module, name)(*args, **kwargs)
            rejected = True  # a query never changes state
            items = answer if isinstance(answer, list) else [answer]
            output = [format_value(item) for item in items] or ["(empty)"]
        else:
            raise ValueError(f"{name} is neither a command nor an allowed query "
                             f"{self.queries}")
        if rejected:
            assert self.module.take_snapshot() == before, f"{line} changed the state"
        self.check_invariants(self.module)
        return output

    @staticmethod
    def check_invariants(module: Module) -> None:
        check = getattr(module, "_check", None)
        if check is not None:
            check()

    def check_restore(self) -> None:
        """A fresh engine restored from a snapshot holds exactly this state."""
        restored = self.make_module()
        Engine([restored], snapshot=self.driver.engine.take_snapshot())
        self.check_invariants(restored)
        assert restored.take_snapshot() == self.module.take_snapshot()
        assert restored.summary() == self.module.summary()


class EngineScenarioRunner:
    """Runs the input lines of one file against several modules in one fresh engine.

    As ``ScenarioRunner``, with three differences: ``queries`` maps a query name to a
    function of (modules by name, *args) whose answer is printed; arguments may name the
    members of ``names`` (enum members, say); ``Timer(deadline_ns)``
    appends a TIMER entry at that time and prints what the timers did; and ``check`` (a
    function of the modules by name) runs after every line, with each module's ``_check``.
    A line whose only event is a reject must leave every module's snapshot unchanged.
    """

    def __init__(self, make_modules: Callable[[], Sequence[Module]],
                 queries: dict[str, Callable[..., object]],
                 check: Callable[[dict[str, Module]], None] | None = None,
                 start_ns: int = TIMESTAMP_START_NS,
                 names: dict[str, object] | None = None) -> None:
        self.make_modules = make_modules
        self.names = names or {}
        self.modules = {module.name: module for module in make_modules()}
        self.driver = EngineDriver(list(self.modules.values()), start_ns=start_ns)
        self.queries = queries
        self.check = check
        commands = [*BUILTIN_COMMANDS,
                    *(command for module in self.modules.values() for command in module.handles)]
        self.commands = {command.__name__: command for command in commands}

    def snapshots(self) -> list[bytes]:
        return [module.take_snapshot() for module in self.modules.values()]

    def run_line(self, line: str) -> list[str]:
        name, args, kwargs = parse_call(line, self.names)
        before = self.snapshots()
        rejected = False
        if name in self.commands:
            events = self.driver.submit(self.commands[name](*args, **kwargs))
            rejected = len(events) == 1 and isinstance(events[0], REJECTS)
            output = [format_value(event) for event in events] or ["(no events)"]
        elif name == "Timer":
            events = self.driver.fire_timers(*args, **kwargs)
            output = [format_value(event) for event in events] or ["(no events)"]
        elif name in self.queries:
            answer = self.queries[name](self.modules, *args, **kwargs)
            rejected = True  # a query never changes state
            items = answer if isinstance(answer, list) else [answer]
            output = [format_value(item) for item in items] or ["(empty)"]
        else:
            raise ValueError(f"{name} is neither a command nor an allowed query "
                             f"{tuple(self.queries)}")
        if rejected:
            assert self.snapshots() == before, f"{line} changed the state"
        for module in self.modules.values():
            ScenarioRunner.check_invariants(module)
        if self.check is not None:
            self.check(self.modules)
        return output

    def check_restore(self) -> None:
        """Fresh modules restored from a snapshot hold exactly this state."""
        restored = list(self.make_modules())
        Engine(restored, snapshot=self.driver.engine.take_snapshot())
        for module in restored:
            ScenarioRunner.check_invariants(module)
            assert module.take_snapshot() == self.modules[module.name].take_snapshot()
            assert module.summary() == self.modules[module.name].summary()


def split_cases(text: str) -> list[list[str]]:
    cases: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            cases[-1].append(line.rstrip())
        elif cases[-1]:
            cases.append([])
    return [case for case in cases if case]


def render(path: Path, runner: ScenarioRunner | EngineScenarioRunner) -> str:
    """The file's text with each case's output replaced by what the module produced."""
    rendered = []
    for number, case in enumerate(split_cases(path.read_text()), 1):
        given = case[:case.index(SEPARATOR)] if SEPARATOR in case else case
        inputs = [line for line in given if not line.startswith("#")]
        lines = list(given)
        if inputs:
            lines.append(SEPARATOR)
            for line in inputs:
                try:
                    lines.extend(runner.run_line(line))
                except Exception as exc:
                    raise AssertionError(f"{path.name} case {number}: {line}: "
                                         f"{type(exc).__name__}: {exc}") from exc
        rendered.append("\n".join(lines))
    runner.check_restore()
    return "\n\n".join(rendered) + "\n"


def check_scenario(path: Path, runner: ScenarioRunner | EngineScenarioRunner) -> None:
    """Compare the file with what the module produces (or rewrite it, see above)."""
    expected = path.read_text()
    actual = render(path, runner)
    if REWRITE:
        path.write_text(actual)
        return
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                    f"{path.name} (expected)", f"{path.name} (actual)",
                                    lineterm="")
        raise AssertionError("\n".join([*diff, "VENUE_REWRITE=1 regenerates the file"]))
