"""Reject vs halt: an exception escaping a module halts the engine, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from venue.codecs import EntryKind, LogEntry
from venue.engine import Engine, EngineError, EngineHalted, Module, replay
from venue.engine.modules.counter import CounterModule, Increment

from .helpers import (
    AlarmModule,
    ArmBomb,
    EmitUndeclared,
    Explode,
    ExplodingModule,
    LogBuilder,
    Poke,
    ScheduleTimer,
    SloppyModule,
)


class StartsWith(str):
    """Equal to any string that starts with it (for messages holding an object's address)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(str(self))

    __hash__ = str.__hash__


class Scenario(NamedTuple):
    modules: Callable[[], list[Module]]
    entries: list[LogEntry]  # the last one makes a module raise
    module: str
    command: object
    traceback_says: str


def _prefix(log: LogBuilder) -> int:
    session = log.open("alice")
    log.batch((session, 1, Poke()), (session, 2, Increment(1, 5)),
              (session, 3, ScheduleTimer(7, 10**9)))
    log.timer()
    return session


def in_a_command_in_the_middle_of_a_batch() -> Scenario:
    log = LogBuilder()
    session = _prefix(log)
    log.batch((session, 4, Increment(1)), (session, 5, Poke()), (session, 6, Explode()),
              (session, 7, Increment(2)))
    return Scenario(lambda: [CounterModule(), ExplodingModule(), AlarmModule()], log.entries,
                    "exploder", Explode(), "RuntimeError: boom in on_command")


def in_a_timer() -> Scenario:
    log = LogBuilder()
    session = _prefix(log)
    deadline_ns = log.now_ns + 5
    log.batch((session, 4, ArmBomb(deadline_ns)), (session, 5, Increment(1)))
    log.timer()
    return Scenario(lambda: [CounterModule(), ExplodingModule(), AlarmModule()], log.entries,
                    "exploder", f"timer {(deadline_ns, 'exploder', 1)}",
                    "RuntimeError: boom in on_timer")


def in_a_session_open() -> Scenario:
    log = LogBuilder()
    _prefix(log)
    bad = log.open("bob")
    return Scenario(lambda: [CounterModule(), ExplodingModule(fail_on_session=bad),
                             AlarmModule()],
                    log.entries, "exploder", "SESSION_OPEN", "boom in on_session_open")


def emitting_an_undeclared_event_type() -> Scenario:
    log = LogBuilder()
    session = _prefix(log)
    log.batch((session, 4, Increment(1)), (session, 5, EmitUndeclared(1)))
    return Scenario(lambda: [CounterModule(), ExplodingModule(), SloppyModule()], log.entries,
                    "sloppy", EmitUndeclared(1), "emitted Undeclared, which is not an event "
                    "type of this node's schema")


def emitting_something_that_is_not_an_event() -> Scenario:
    log = LogBuilder()
    session = _prefix(log)
    log.batch((session, 4, Increment(1)), (session, 5, EmitUndeclared(2)))
    return Scenario(lambda: [CounterModule(), ExplodingModule(), SloppyModule()], log.entries,
                    "sloppy", EmitUndeclared(2), "emitted dict")


def emitting_an_event_that_does_not_encode() -> Scenario:
    log = LogBuilder()
    session = _prefix(log)
    log.batch((session, 4, Increment(1)), (session, 5, EmitUndeclared(3)))
    return Scenario(lambda: [CounterModule(), ExplodingModule(), SloppyModule()], log.entries,
                    "sloppy", StartsWith("encoding Jumbled(value=<object object at "),
                    "TypeError")


SCENARIOS = [in_a_command_in_the_middle_of_a_batch, in_a_timer, in_a_session_open,
             emitting_an_undeclared_event_type, emitting_something_that_is_not_an_event,
             emitting_an_event_that_does_not_encode]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_a_module_exception_halts_the_engine_and_nothing_of_the_entry_survives(
        scenario: Callable[[], Scenario]) -> None:
    case = scenario()
    *good, bad = case.entries
    engine = Engine(case.modules())
    for entry in good:
        engine.apply(entry)
    snapshot_before = engine.take_snapshot()
    head, index = engine.chain.head, engine.applied_index

    with pytest.raises(EngineHalted) as caught:
        engine.apply(bad)  # returns no Applied
    halt = caught.value
    assert (halt.log_index, halt.module, halt.command) == (bad.index, case.module, case.command)
    assert case.traceback_says in halt.traceback_text
    assert "Traceback (most recent call last)" in halt.traceback_text
    assert str(halt).startswith(f"engine halted at log index {bad.index}: module "
                                f"{case.module!r} raised while applying")
    assert (engine.chain.head, engine.chain.index, engine.applied_index) == (head, index,
                                                                             index)
    assert engine.halted is halt

    later = LogEntry(bad.index + 1, 1, bad.timestamp_ns + 1, EntryKind.NOOP, b"\x90")
    for call in (lambda: engine.apply(bad), lambda: engine.apply(later), engine.take_snapshot,
                 lambda: engine.module("counter"), engine.next_timer_deadline,
                 engine.summary):
        with pytest.raises(EngineHalted) as again:
            call()
        assert again.value is halt

    restarted = replay(case.entries, case.modules(), to_index=bad.index - 1)
    assert restarted.take_snapshot() == snapshot_before, (
        "a restart replays up to the entry before and gets exactly the state before it")


def test_the_module_really_had_changed_its_state_before_raising() -> None:
    """So the all-or-nothing test above is not vacuous: the halted engine hides a dirty
    module (and a consumed sequence number) that must never be observed or saved."""
    case = in_a_command_in_the_middle_of_a_batch()
    *good, bad = case.entries
    engine = Engine(case.modules())
    for entry in good:
        engine.apply(entry)
    exploder = engine.module("exploder")
    pokes_before = exploder.pokes
    with pytest.raises(EngineHalted):
        engine.apply(bad)
    assert exploder.pokes == pokes_before + 2
    assert engine.modules["counter"].value(1) == 6


def test_an_undecodable_log_payload_halts_with_the_engine_named() -> None:
    engine = Engine([CounterModule()])
    bad = LogEntry(1, 1, 5, EntryKind.COMMAND_BATCH, b"\x93\x01")
    with pytest.raises(EngineHalted) as caught:
        engine.apply(bad)
    assert (caught.value.log_index, caught.value.module) == (1, "engine")
    assert engine.applied_index == 0


def test_an_entry_out_of_order_is_refused_without_halting() -> None:
    engine = Engine([CounterModule()])
    log = LogBuilder()
    log.open()
    log.noop()
    with pytest.raises(EngineError, match="entry 2 applied out of order: engine is at 0"):
        engine.apply(log.entries[1])
    assert engine.halted is None
    engine.apply(log.entries[0])
    assert engine.apply(log.entries[1]).index == 2


def test_an_exception_in_the_engine_itself_also_halts_all_or_nothing(monkeypatch) -> None:
    """A bug in engine code after a module applied (here: the session check of the second
    command) must halt too, not leave a half-applied entry behind a usable engine."""
    engine = Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    engine.apply(log.entries[0])
    head = engine.chain.head
    real_check = engine.sessions.check
    calls = []

    def check_that_breaks(session_id: int, client_seq: int):
        calls.append(client_seq)
        if len(calls) == 2:
            raise ZeroDivisionError("bug in the session table")
        return real_check(session_id, client_seq)

    monkeypatch.setattr(engine.sessions, "check", check_that_breaks)
    with pytest.raises(EngineHalted) as caught:
        engine.apply(log.batch((session, 1, Increment(1)), (session, 2, Increment(1))))
    assert (caught.value.module, caught.value.command) == ("engine", "COMMAND_BATCH")
    assert "ZeroDivisionError: bug in the session table" in caught.value.traceback_text
    assert engine.modules["counter"].value(1) == 1, "the first command had applied"
    assert (engine.chain.head, engine.applied_index) == (head, 1)
    with pytest.raises(EngineHalted):
        engine.take_snapshot()
