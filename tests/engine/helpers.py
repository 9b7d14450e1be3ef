"""Log builders and small test-only modules for the engine tests.

Test command and event tags live in 1900-1999 (plugin range, clear of real plugins).
"""

from __future__ import annotations

import msgspec

from venue.codecs import (
    Command,
    Event,
)
from venue.engine import ApplyContext, Module
from venue.engine.modules.counter import CounterModule
from venue.engine.testing import LogBuilder, apply_all, client_command  # noqa: F401

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def encode(obj: object) -> bytes:
    return _encoder.encode(obj)


def events_of(applied_outcomes: list) -> list:
    return [event for outcome in applied_outcomes for event in outcome.events]


# -- timers ----------------------------------------------------------------------------------


class ScheduleTimer(Command, tag=1901):
    """Schedule (or move) ``timer_id``. When it fires: cancel ``cancel_on_fire`` and schedule
    ``then_id`` at ``then_deadline_ns`` (0: nothing)."""

    timer_id: int
    deadline_ns: int
    cancel_on_fire: int = 0
    then_id: int = 0
    then_deadline_ns: int = 0


class CancelTimer(Command, tag=1902):
    timer_id: int


class ScheduleBeeTimer(ScheduleTimer, tag=1903):
    """The same, for the second timer module ("bee")."""


class CancelBeeTimer(CancelTimer, tag=1904):
    pass


class TimerFired(Event, tag=1901):
    module: str
    timer_id: int
    log_index: int


class TimerCancelled(Event, tag=1902):
    timer_id: int
    was_pending: bool


_plans_decoder = msgspec.msgpack.Decoder(list[ScheduleTimer | ScheduleBeeTimer])


class AlarmModule(Module):
    """Schedules, cancels and fires timers on command; remembers each timer's plan."""

    name = "alarm"
    handles = (ScheduleTimer, CancelTimer)
    emits = (TimerFired, TimerCancelled)

    def __init__(self) -> None:
        self.plans: dict[int, ScheduleTimer] = {}
        self.fired = 0

    def on_start(self, snapshot: bytes | None) -> None:
        if snapshot:
            fired, plans = msgspec.msgpack.decode(snapshot)
            self.fired = fired
            self.plans = {plan.timer_id: plan for plan in _plans_decoder.decode(plans)}

    def on_command(self, ctx: ApplyContext, command: ScheduleTimer | CancelTimer) -> None:
        if isinstance(command, ScheduleTimer):
            self.plans[command.timer_id] = command
            ctx.schedule_timer(command.deadline_ns, command.timer_id)
        else:
            self.plans.pop(command.timer_id, None)
            ctx.emit(TimerCancelled(command.timer_id, ctx.cancel_timer(command.timer_id)))

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        self.fired += 1
        ctx.emit(TimerFired(self.name, timer_id, ctx.log_index))
        plan = self.plans.pop(timer_id)
        if plan.cancel_on_fire:
            self.plans.pop(plan.cancel_on_fire, None)
            ctx.cancel_timer(plan.cancel_on_fire)
        if plan.then_id:
            then = ScheduleTimer(plan.then_id, plan.then_deadline_ns)
            self.plans[plan.then_id] = then
            ctx.schedule_timer(then.deadline_ns, then.timer_id)

    def take_snapshot(self) -> bytes:
        plans = encode([self.plans[timer_id] for timer_id in sorted(self.plans)])
        return encode([self.fired, plans])


class BeeModule(AlarmModule):
    """A second timer module whose name sorts after "alarm"."""

    name = "bee"
    handles = (ScheduleBeeTimer, CancelBeeTimer)


# -- failures ----------------------------------------------------------------------------------


class Poke(Command, tag=1920):
    pass


class Explode(Command, tag=1921):
    pass


class ArmBomb(Command, tag=1922):
    deadline_ns: int


class Poked(Event, tag=1920):
    pokes: int


class ExplodingModule(Module):
    """Changes its state and then raises: in ``Explode``, in a timer armed by ``ArmBomb``,
    and in ``on_session_open`` of session ``fail_on_session`` (0: never)."""

    name = "exploder"
    handles = (Poke, Explode, ArmBomb)
    emits = (Poked,)

    def __init__(self, fail_on_session: int = 0) -> None:
        self.fail_on_session = fail_on_session
        self.pokes = 0

    def on_start(self, snapshot: bytes | None) -> None:
        if snapshot:
            self.pokes = msgspec.msgpack.decode(snapshot, type=int)

    def _poke(self, ctx: ApplyContext) -> None:
        self.pokes += 1
        ctx.emit(Poked(self.pokes))

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        self._poke(ctx)
        if isinstance(command, ArmBomb):
            ctx.schedule_timer(command.deadline_ns, 1)
        elif isinstance(command, Explode):
            raise RuntimeError("boom in on_command")

    def on_session_open(self, ctx: ApplyContext, session_id: int) -> None:
        self._poke(ctx)
        if session_id == self.fail_on_session:
            raise RuntimeError("boom in on_session_open")

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        self._poke(ctx)
        raise RuntimeError("boom in on_timer")

    def take_snapshot(self) -> bytes:
        return encode(self.pokes)


class Undeclared(Event, tag=1929):
    """An event type that no module lists in ``emits``."""


class Jumbled(Event, tag=1928):
    """Declared, but emitted with a field that does not encode."""

    value: int


class EmitUndeclared(Command, tag=1929):
    what: int  # 1: an undeclared event type, 2: not an event, 3: an event that won't encode


class SloppyModule(Module):
    name = "sloppy"
    handles = (EmitUndeclared,)
    emits = (Jumbled,)

    def on_command(self, ctx: ApplyContext, command: EmitUndeclared) -> None:
        if command.what == 1:
            ctx.emit(Undeclared())
        elif command.what == 2:
            ctx.emit({"not": "an event"})  # type: ignore[arg-type]
        else:
            ctx.emit(Jumbled(object()))  # type: ignore[arg-type]


# -- queries and recording -----------------------------------------------------------------


class ReadCounter(Command, tag=1930):
    key: int


class CounterRead(Event, tag=1930):
    key: int
    value: int


class ReaderModule(Module):
    """Answers ``ReadCounter`` by querying the counter module synchronously."""

    name = "reader"
    handles = (ReadCounter,)
    emits = (CounterRead,)

    def on_command(self, ctx: ApplyContext, command: ReadCounter) -> None:
        counter = self.directory.get("counter")
        assert isinstance(counter, CounterModule)
        ctx.emit(CounterRead(command.key, counter.value(command.key)))


class Record(Command, tag=1940):
    pass


class Recorded(Event, tag=1940):
    """What the context said during a callback."""

    callback: str
    log_index: int
    now_ns: int
    session_id: int
    client_seq: int


class RecorderModule(Module):
    """Emits what ``ctx`` holds in each callback and remembers session callbacks."""

    name = "recorder"
    handles = (Record,)
    emits = (Recorded,)

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def _record(self, ctx: ApplyContext, callback: str) -> None:
        ctx.emit(Recorded(callback, ctx.log_index, ctx.now_ns, ctx.session_id, ctx.client_seq))

    def on_command(self, ctx: ApplyContext, command: Record) -> None:
        self._record(ctx, "command")

    def on_session_open(self, ctx: ApplyContext, session_id: int) -> None:
        self.calls.append(("open", session_id))
        self._record(ctx, "open")

    def on_session_close(self, ctx: ApplyContext, session_id: int) -> None:
        self.calls.append(("close", session_id))
        self._record(ctx, "close")


class SilentRecorderModule(RecorderModule):
    """Handles nothing; only remembers session callbacks."""

    name = "silent"
    handles = ()
    emits = ()

    def _record(self, ctx: ApplyContext, callback: str) -> None:
        pass


# -- loader ----------------------------------------------------------------------------------


class NotAModule:
    name = "impostor"


class BrokenConstructorModule(Module):
    name = "broken"

    def __init__(self) -> None:
        raise ValueError("no config for broken")


not_a_class = 42
