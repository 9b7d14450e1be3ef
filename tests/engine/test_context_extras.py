"""Smaller context guarantees: the sender's principal, timer capacity, and naming the module
whose event would not encode."""

from __future__ import annotations

import pytest

from venue.codecs import Command, Event
from venue.engine import ApplyContext, Engine, EngineHalted, Module

from .helpers import LogBuilder


class WhoAmI(Command, tag=9001):
    pass


class Seen(Event, tag=9001):
    principal: str
    timer_capacity: int
    value: int = 0


class PrincipalModule(Module):
    name = "who"
    handles = (WhoAmI,)
    emits = (Seen,)

    def __init__(self, emit_value: int = 0) -> None:
        self.emit_value = emit_value

    def on_command(self, ctx: ApplyContext, command: WhoAmI) -> None:
        ctx.schedule_timer(ctx.now_ns + 1, 1)
        ctx.emit(Seen(ctx.principal, ctx.timer_capacity(), self.emit_value))


def test_modules_see_the_principal_that_opened_the_session() -> None:
    engine = Engine([PrincipalModule()], timers_max=5)
    log = LogBuilder()
    alice = log.open("alice")
    bob = log.open("bob")
    for entry in log.entries:
        engine.apply(entry)
    applied = engine.apply(log.batch((alice, 1, WhoAmI()), (bob, 1, WhoAmI())))
    assert [o.events[0].principal for o in applied.outcomes] == ["alice", "bob"]
    assert [o.events[0].timer_capacity for o in applied.outcomes] == [4, 4]


def test_an_event_that_does_not_encode_halts_naming_its_module() -> None:
    engine = Engine([PrincipalModule(emit_value=2**70)])
    log = LogBuilder()
    session = log.open("alice")
    engine.apply(log.entries[0])
    with pytest.raises(EngineHalted) as halted:
        engine.apply(log.batch((session, 1, WhoAmI())))
    assert halted.value.module == "who"
    assert "seq 1" in str(halted.value.command)
