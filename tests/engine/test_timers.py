"""Timers fire only through TIMER entries, in (deadline, module name, timer id) order."""

from __future__ import annotations

import random

import pytest

from venue.engine import Engine, EngineHalted
from venue.engine.timers import TimerLimitReached, TimerQueue

from .helpers import (
    AlarmModule,
    BeeModule,
    CancelTimer,
    LogBuilder,
    ScheduleBeeTimer,
    ScheduleTimer,
    TimerCancelled,
    TimerFired,
)


def _engine(**limits: int) -> tuple[Engine, LogBuilder, int]:
    engine = Engine([BeeModule(), AlarmModule()], **limits)
    log = LogBuilder(start_ns=1_000, step_ns=10)
    session = log.open()
    engine.apply(log.entries[-1])
    return engine, log, session


def _fired(engine: Engine, entry) -> list[tuple[str, int]]:
    outcomes = engine.apply(entry).outcomes
    return [(event.module, event.timer_id) for outcome in outcomes for event in outcome.events
            if isinstance(event, TimerFired)]


def _schedule(engine: Engine, log: LogBuilder, session: int, *commands) -> None:
    seq = engine.sessions.last_client_seq(session)
    engine.apply(log.batch(*[(session, seq + n, command)
                             for n, command in enumerate(commands, 1)]))


def test_timers_fire_only_through_timer_entries() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 500))
    for _ in range(3):
        assert _fired(engine, log.noop()) == []
        assert _fired(engine, log.batch()) == []
    assert log.now_ns > 500, "the log's clock has passed the deadline"
    assert engine.next_timer_deadline() == 500
    assert _fired(engine, log.timer(499)) == []
    assert _fired(engine, log.timer(500)) == [("alarm", 1)]
    assert engine.next_timer_deadline() is None


def test_due_timers_fire_in_deadline_then_module_name_then_timer_id_order() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleBeeTimer(1, 200), ScheduleTimer(9, 200),
              ScheduleTimer(2, 200), ScheduleBeeTimer(0, 100), ScheduleTimer(5, 300),
              ScheduleTimer(4, 999))
    assert _fired(engine, log.timer(300)) == [("bee", 0), ("alarm", 2), ("alarm", 9),
                                              ("bee", 1), ("alarm", 5)]
    assert engine.next_timer_deadline() == 999


def test_rescheduling_moves_a_timer_and_cancel_prevents_it() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 100), ScheduleTimer(2, 100),
              ScheduleTimer(1, 400), CancelTimer(2), CancelTimer(77))
    outcomes = engine.apply(log.timer(300)).outcomes
    assert outcomes == [], "1 moved past 300, 2 cancelled"
    assert engine.next_timer_deadline() == 400
    assert _fired(engine, log.timer(400)) == [("alarm", 1)]
    assert len(engine.timers) == 0


def test_cancel_reports_whether_the_timer_was_pending() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 100))
    applied = engine.apply(log.batch((session, 2, CancelTimer(1)), (session, 3, CancelTimer(1))))
    assert [o.events for o in applied.outcomes] == [[TimerCancelled(1, True)],
                                                    [TimerCancelled(1, False)]]


def test_a_timer_cancelled_by_an_earlier_callback_of_the_same_entry_does_not_fire() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 100, cancel_on_fire=2),
              ScheduleTimer(2, 100), ScheduleTimer(3, 100))
    assert _fired(engine, log.timer(100)) == [("alarm", 1), ("alarm", 3)]
    assert engine.next_timer_deadline() is None


def test_a_timer_moved_by_an_earlier_callback_of_the_same_entry_waits_for_its_deadline() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 100, then_id=2, then_deadline_ns=250),
              ScheduleTimer(2, 150))
    assert _fired(engine, log.timer(200)) == [("alarm", 1)]
    assert _fired(engine, log.timer(249)) == []
    assert _fired(engine, log.timer(250)) == [("alarm", 2)]


def test_timers_scheduled_while_firing_wait_for_the_next_timer_entry() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleTimer(1, 100, then_id=2, then_deadline_ns=50),
              ScheduleTimer(3, 100, then_id=3, then_deadline_ns=100))
    assert _fired(engine, log.timer(100)) == [("alarm", 1), ("alarm", 3)]
    assert engine.next_timer_deadline() == 50
    assert _fired(engine, log.timer(100)) == [("alarm", 2), ("alarm", 3)]
    assert _fired(engine, log.timer(100)) == []


def test_pending_timers_survive_a_snapshot_and_restore() -> None:
    engine, log, session = _engine()
    _schedule(engine, log, session, ScheduleBeeTimer(1, 300), ScheduleTimer(2, 300),
              ScheduleTimer(3, 100), ScheduleTimer(4, 900), CancelTimer(4))
    snapshot = engine.take_snapshot()
    restored = Engine([BeeModule(), AlarmModule()], snapshot=snapshot)
    assert restored.next_timer_deadline() == engine.next_timer_deadline() == 100
    restored.timers._check()
    for entry in (log.timer(100), log.timer(300), log.timer(900)):
        assert _fired(restored, entry) == _fired(engine, entry)
    assert restored.chain.head == engine.chain.head
    assert restored.take_snapshot() == engine.take_snapshot()


def test_timers_max_is_enforced_and_a_module_that_exceeds_it_halts_the_engine() -> None:
    queue = TimerQueue(timers_max=2)
    queue.schedule("a", 1, 10)
    queue.schedule("a", 2, 10)
    queue.schedule("a", 2, 20)  # moving a live timer is not a new one
    with pytest.raises(TimerLimitReached, match="timers_max=2 reached by 'b'"):
        queue.schedule("b", 1, 10)
    queue.cancel("a", 1)
    queue.schedule("b", 1, 10)
    queue._check()

    engine, log, session = _engine(timers_max=2)
    _schedule(engine, log, session, ScheduleTimer(1, 100), ScheduleTimer(2, 100))
    with pytest.raises(EngineHalted, match="TimerLimitReached") as halted:
        _schedule(engine, log, session, ScheduleTimer(3, 100))
    assert halted.value.module == "alarm"


@pytest.mark.parametrize(("timer_id", "deadline_ns"), [(1, 10.5), (1.0, 10), (True, 10),
                                                       ("x", 10)])
def test_timer_ids_and_deadlines_must_be_integers(timer_id: object, deadline_ns: object
                                                  ) -> None:
    queue = TimerQueue()
    with pytest.raises(TypeError, match="timer_id and deadline_ns must be ints"):
        queue.schedule("a", timer_id, deadline_ns)  # type: ignore[arg-type]
    assert len(queue) == 0


def _callbacks(queue: TimerQueue, model: dict[tuple[str, int], int], rng: random.Random
               ) -> None:
    """What a firing callback may do: cancel, move and add timers (any module's)."""
    for _ in range(rng.randrange(3)):
        key = (rng.choice("ab"), rng.randrange(8))
        if rng.randrange(2) or (key not in model and len(model) >= queue.timers_max):
            queue.cancel(*key)
            model.pop(key, None)
        else:
            deadline = rng.randrange(0, 120)
            queue.schedule(*key, deadline)
            model[key] = deadline


def _fire(queue: TimerQueue, model: dict[tuple[str, int], int], rng: random.Random) -> None:
    """One TIMER entry, checked against the model: the due list is fixed when the entry
    starts; each due timer fires if, at its turn, it is still set for that deadline."""
    now = rng.randrange(0, 120)
    due = queue.pop_due(now)
    assert due == sorted((d, m, t) for (m, t), d in model.items() if d <= now)
    for deadline, module, timer_id in due:
        should_fire = model.get((module, timer_id)) == deadline
        assert queue.claim((deadline, module, timer_id)) == should_fire
        if should_fire:
            del model[(module, timer_id)]
            _callbacks(queue, model, rng)


@pytest.mark.parametrize("seed", range(6))
def test_timer_queue_invariants_hold_after_every_step_of_a_random_walk(seed: int) -> None:
    """Against a plain dict model; long enough to force heap compactions."""
    rng = random.Random(seed)
    queue = TimerQueue(timers_max=12)
    model: dict[tuple[str, int], int] = {}
    for _ in range(1500):
        roll = rng.randrange(100)
        key = (rng.choice("ab"), rng.randrange(8))
        if roll < 55:
            deadline = rng.randrange(0, 120)
            if key not in model and len(model) >= 12:
                with pytest.raises(TimerLimitReached):
                    queue.schedule(*key, deadline)
            else:
                queue.schedule(*key, deadline)
                model[key] = deadline
        elif roll < 80:
            assert queue.cancel(*key) == (model.pop(key, None) is not None)
        elif roll < 95:
            _fire(queue, model, rng)
        else:
            queue.restore(queue.items())
        assert queue.next_deadline() == (min(model.values()) if model else None)
        assert queue.items() == sorted((d, m, t) for (m, t), d in model.items())
        queue._check()


def test_stale_heap_items_are_compacted() -> None:
    queue = TimerQueue()
    for deadline in range(1_000):
        queue.schedule("a", 1, deadline)
        queue.schedule("b", deadline, 5)
        queue.cancel("b", deadline)
        assert len(queue._heap) <= 2 * 2 + 64, "at most two timers are ever live"
        queue._check()
    assert queue.items() == [(999, "a", 1)]


def test_a_timer_moved_away_and_back_fires_once_per_timer_entry() -> None:
    """Regression: equal stale copies in the heap made a timer that re-arms itself at the
    same deadline fire twice in one TIMER entry."""
    engine, log, session = _engine()
    again = ScheduleTimer(1, 100, then_id=1, then_deadline_ns=100)
    _schedule(engine, log, session, again, ScheduleTimer(1, 200), again)
    assert _fired(engine, log.timer(100)) == [("alarm", 1)]
    assert _fired(engine, log.timer(100)) == [("alarm", 1)]
