"""Event observers: ``Module.observes`` and ``on_event``.

An observer sees another module's event inside that emit, so its own events follow the one
that caused them; it never sees its own events; it runs as itself (its timers are its own);
an exception in an observer halts the engine naming the observer; and the entry stays all
or nothing.
"""

from __future__ import annotations

import pytest

from venue.codecs import Command, Event
from venue.engine import ApplyContext, Engine, EngineHalted, Module
from venue.engine.context import OBSERVER_DEPTH_MAX
from venue.engine.modules.counter import CounterModule, Increment, Incremented

from .helpers import LogBuilder, apply_all, events_of


class Echoed(Event, tag=1951):
    """What the echo module emits on observing ``Incremented``."""

    key: int
    value: int


class Ping(Command, tag=1952):
    depth: int


class Pinged(Event, tag=1952):
    depth: int


class EchoModule(Module):
    """Observes the counter; echoes each value; optionally raises on one value or schedules
    a timer in its own name."""

    name = "echo"
    observes = (Incremented, Echoed)
    emits = (Echoed,)

    def __init__(self, fail_on_value: int = 0, timer_on_value: int = 0) -> None:
        self.fail_on_value = fail_on_value
        self.timer_on_value = timer_on_value
        self.seen: list[tuple[str, int]] = []

    def on_event(self, ctx: ApplyContext, event: Event) -> None:
        self.seen.append((type(event).__name__, ctx.client_seq))
        if type(event) is Incremented:
            if event.value == self.fail_on_value:
                raise RuntimeError("echo bug")
            if event.value == self.timer_on_value:
                ctx.schedule_timer(ctx.now_ns + 10, 77)
            ctx.emit(Echoed(event.key, event.value))

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        ctx.emit(Echoed(0, timer_id))


class PingPong(Module):
    """Two instances observe each other's ``Pinged`` and answer while depth > 0: a cycle
    bounded only by the engine's depth limit when the depth is large."""

    emits = (Pinged,)
    observes = (Pinged,)

    def __init__(self, name: str, handles: bool) -> None:
        self.name = name  # type: ignore[misc]
        self.handles = (Ping,) if handles else ()  # type: ignore[misc]

    def on_command(self, ctx: ApplyContext, command: Ping) -> None:
        ctx.emit(Pinged(command.depth))

    def on_event(self, ctx: ApplyContext, event: Pinged) -> None:
        if event.depth > 0:
            ctx.emit(Pinged(event.depth - 1))


def run(modules: list[Module], *rows) -> tuple[Engine, list]:
    log = LogBuilder()
    session = log.open()
    log.batch(*[(session, seq, command) for seq, command in enumerate(rows, start=1)])
    engine = Engine(modules)
    applied = [engine.apply(entry) for entry in log.entries]
    return engine, events_of(applied[-1].outcomes)


def test_an_observer_event_follows_the_event_that_caused_it_in_the_same_outcome():
    _, events = run([CounterModule(), EchoModule()], Increment(5), Increment(5, 2))
    assert events == [Incremented(5, 1), Echoed(5, 1), Incremented(5, 3), Echoed(5, 3)]


def test_a_module_does_not_observe_its_own_events():
    echo = EchoModule()
    run([CounterModule(), echo], Increment(1))
    # it observes Echoed too, but only Incremented reached it: Echoed is its own
    assert echo.seen == [("Incremented", 1)]


def test_observer_timers_are_its_own():
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Increment(4)))
    log.timer(log.now_ns + 1_000_000)
    engine = Engine([CounterModule(), EchoModule(timer_on_value=1)])
    apply_all(engine, log.entries[:2])
    assert engine.timers.next_deadline() is not None
    applied = engine.apply(log.entries[2])
    assert events_of(applied.outcomes) == [Echoed(0, 77)]


def test_an_exception_in_an_observer_halts_naming_it_and_discards_the_entry():
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Increment(9)))
    log.batch((session, 2, Increment(9)), (session, 3, Increment(9)))
    engine = Engine([CounterModule(), EchoModule(fail_on_value=3)])
    heads = apply_all(engine, log.entries[:2])
    before = engine.take_snapshot()
    with pytest.raises(EngineHalted) as caught:
        engine.apply(log.entries[2])
    assert caught.value.module == "echo (observing counter)"
    assert caught.value.log_index == 3
    assert "echo bug" in caught.value.traceback_text
    assert engine.chain.head == heads[-1]  # nothing of the failed entry was hashed
    with pytest.raises(EngineHalted):
        engine.take_snapshot()
    # a fresh engine replaying up to the entry before reaches the same state
    again = Engine([CounterModule(), EchoModule(fail_on_value=3)])
    apply_all(again, log.entries[:2])
    assert again.take_snapshot() == before


def test_an_event_cycle_halts_at_the_depth_limit_instead_of_recursing_for_ever():
    modules = [PingPong("ping", True), PingPong("pong", False)]
    _, events = run(modules, Ping(3))
    assert events == [Pinged(3), Pinged(2), Pinged(1), Pinged(0)]
    with pytest.raises(EngineHalted) as caught:
        run([PingPong("ping", True), PingPong("pong", False)], Ping(10 * OBSERVER_DEPTH_MAX))
    assert "an event cycle" in caught.value.traceback_text


def test_observers_are_called_in_registration_order():
    order: list[str] = []

    class Listener(Module):
        observes = (Incremented,)

        def __init__(self, name: str) -> None:
            self.name = name  # type: ignore[misc]

        def on_event(self, ctx: ApplyContext, event: Event) -> None:
            order.append(self.name)

    run([Listener("b"), CounterModule(), Listener("a")], Increment(1))
    assert order == ["b", "a"]
