"""Client sessions: each (session, client_seq) applies at most once, in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from venue.codecs import RejectReason, SessionOpened, SessionRejected
from venue.engine import Engine
from venue.engine.modules.counter import CounterModule, Increment, Incremented
from venue.engine.modules.sessions import ClientSessions
from venue.engine.snapshot import read_snapshot

from .helpers import LogBuilder, Record, Recorded, RecorderModule


def _engine_with_session(**limits: int) -> tuple[Engine, LogBuilder, int]:
    engine = Engine([CounterModule()], **limits)
    log = LogBuilder()
    session = log.open()
    engine.apply(log.entries[-1])
    return engine, log, session


def test_a_duplicate_is_dropped_without_events_or_state_change() -> None:
    engine, log, session = _engine_with_session()
    engine.apply(log.batch((session, 1, Increment(1)), (session, 2, Increment(1))))
    before = read_snapshot(engine.take_snapshot())
    applied = engine.apply(log.batch((session, 2, Increment(1)), (session, 1, Increment(1))))
    assert applied.outcomes == []
    after = read_snapshot(engine.take_snapshot())
    assert (after.sessions, after.timers, after.modules) == (
        before.sessions, before.timers, before.modules)
    assert engine.module("counter").value(1) == 2
    assert applied.chain_hash != before.chain_head, "the entry is still chained (no events)"


def test_a_sequence_number_below_one_is_refused_as_invalid() -> None:
    engine, log, session = _engine_with_session()
    engine.apply(log.batch((session, 1, Increment(1))))
    applied = engine.apply(log.batch((session, 0, Increment(1)), (session, -4, Increment(1))))
    assert [outcome.events for outcome in applied.outcomes] == [
        [SessionRejected(session, 0, RejectReason.INVALID_FIELD, 2)],
        [SessionRejected(session, -4, RejectReason.INVALID_FIELD, 2)],
    ]
    assert engine.module("counter").value(1) == 1
    assert engine.sessions.last_client_seq(session) == 1


def test_a_gap_is_refused_with_the_expected_sequence_and_not_applied() -> None:
    engine, log, session = _engine_with_session()
    engine.apply(log.batch((session, 1, Increment(1))))
    applied = engine.apply(log.batch((session, 3, Increment(1)), (session, 5, Increment(1))))
    assert [outcome.events for outcome in applied.outcomes] == [
        [SessionRejected(session, 3, RejectReason.SESSION_SEQUENCE_GAP, 2)],
        [SessionRejected(session, 5, RejectReason.SESSION_SEQUENCE_GAP, 2)],
    ]
    assert engine.module("counter").value(1) == 1
    assert engine.sessions.last_client_seq(session) == 1
    resent = engine.apply(log.batch((session, 2, Increment(1)), (session, 3, Increment(1))))
    assert [outcome.events for outcome in resent.outcomes] == [[Incremented(1, 2)],
                                                               [Incremented(1, 3)]]


def test_a_command_from_an_unknown_or_closed_session_is_refused() -> None:
    engine, log, session = _engine_with_session()
    applied = engine.apply(log.batch((session + 100, 1, Increment(1))))
    assert applied.outcomes[0].events == [
        SessionRejected(session + 100, 1, RejectReason.UNKNOWN_SESSION)]
    engine.apply(log.close(session))
    applied = engine.apply(log.batch((session, 1, Increment(1))))
    assert applied.outcomes[0].events == [
        SessionRejected(session, 1, RejectReason.UNKNOWN_SESSION)]
    assert engine.module("counter").value(1) == 0


def test_sessions_max_refuses_further_opens_with_limit_reached() -> None:
    engine = Engine([RecorderModule()], sessions_max=2)
    log = LogBuilder()
    ids = [log.open(f"client-{n}") for n in range(3)]
    outcomes = [engine.apply(entry).outcomes for entry in log.entries]
    assert outcomes[0][0].events[0] == SessionOpened(ids[0], "client-0")
    assert outcomes[2][0].events == [SessionRejected(ids[2], 0, RejectReason.LIMIT_REACHED)], (
        "no module hears of a refused session")
    assert engine.module("recorder").calls == [("open", ids[0]), ("open", ids[1])]
    assert engine.sessions.session_ids() == ids[:2]
    engine.apply(log.close(ids[0]))
    fourth = log.open("client-3")
    assert engine.apply(log.entries[-1]).outcomes[0].events[0] == SessionOpened(fourth,
                                                                                "client-3")


def test_session_table_round_trips_through_rows() -> None:
    sessions = ClientSessions(sessions_max=4)
    sessions.open(3, "a")
    sessions.open(1, "b")
    sessions.check(3, 1)
    copy = ClientSessions(sessions_max=4)
    copy.restore(sessions.to_rows())
    assert copy.session_ids() == [1, 3]
    assert copy.last_client_seq(3) == 1
    assert copy.last_client_seq(99) == 0


# -- property: at most once, in order, against a simple model ----------------------------------

SESSION_COUNT = 3
UNKNOWN = 0  # stands for a session id that was never opened

streams = st.lists(
    st.lists(st.tuples(st.integers(0, SESSION_COUNT), st.integers(0, 6)), max_size=6),
    max_size=12,
)


def _model(batches: list[list[tuple[int, int]]], session_ids: list[int], closed_after: int
           ) -> list[tuple[int, int, str]]:
    """What should happen to each command, written as plainly as possible."""
    last = dict.fromkeys(session_ids, 0)
    happened = []
    for number, batch in enumerate(batches):
        for choice, seq in batch:
            session = session_ids[choice - 1] if choice else 999_999
            is_open = session in last and not (choice == 1 and number > closed_after)
            if not is_open:
                happened.append((session, seq, "unknown"))
            elif seq < 1:
                happened.append((session, seq, f"invalid:{last[session] + 1}"))
            elif seq == last[session] + 1:
                last[session] = seq
                happened.append((session, seq, "applied"))
            elif seq > last[session] + 1:
                happened.append((session, seq, f"gap:{last[session] + 1}"))
    return happened


@settings(max_examples=150, deadline=None)
@given(streams, st.integers(0, 12))
def test_random_streams_apply_each_command_at_most_once_and_in_order(
        batches: list[list[tuple[int, int]]], closed_after: int) -> None:
    """Resends, duplicates, gaps, reordering and an unknown session, across batches; the
    first session closes after batch ``closed_after``."""
    engine = Engine([RecorderModule()])
    log = LogBuilder()
    session_ids = [log.open(f"c{n}") for n in range(SESSION_COUNT)]
    for entry in log.entries:
        engine.apply(entry)
    happened = []
    for number, batch in enumerate(batches):
        rows = [(session_ids[choice - 1] if choice else 999_999, seq, Record())
                for choice, seq in batch]
        for outcome in engine.apply(log.batch(*rows)).outcomes:
            (event,) = outcome.events
            if isinstance(event, Recorded):
                assert (event.session_id, event.client_seq) == (outcome.session_id,
                                                                 outcome.client_seq)
                happened.append((outcome.session_id, outcome.client_seq, "applied"))
            elif event.reason == RejectReason.UNKNOWN_SESSION:
                happened.append((outcome.session_id, outcome.client_seq, "unknown"))
            elif event.reason == RejectReason.INVALID_FIELD:
                happened.append((outcome.session_id, outcome.client_seq,
                                 f"invalid:{event.expected_client_seq}"))
            else:
                assert event.reason == RejectReason.SESSION_SEQUENCE_GAP
                happened.append((outcome.session_id, outcome.client_seq,
                                 f"gap:{event.expected_client_seq}"))
        if number == closed_after:
            engine.apply(log.close(session_ids[0]))
    assert happened == _model(batches, session_ids, closed_after)
    applied = [(session, seq) for session, seq, what in happened if what == "applied"]
    for session in session_ids:
        seqs = [seq for applied_session, seq in applied if applied_session == session]
        assert seqs == list(range(1, len(seqs) + 1)), "each session applies 1, 2, 3, ..."
