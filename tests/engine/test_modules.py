"""The module contract: routing, rejects at the dispatcher, context, directory, callbacks."""

from __future__ import annotations

import pytest

from venue.codecs import (
    CommandRejected,
    RejectReason,
    SessionClosed,
    SessionOpened,
    SubmitOrder,
)
from venue.codecs.commands import Deposit
from venue.engine import Engine, EngineError, Module
from venue.engine.modules.counter import CounterModule, Increment, Incremented

from .helpers import (
    AlarmModule,
    CounterRead,
    LogBuilder,
    ReadCounter,
    ReaderModule,
    Record,
    Recorded,
    RecorderModule,
    SilentRecorderModule,
    events_of,
)


def test_commands_are_routed_to_the_module_that_handles_their_type() -> None:
    engine = Engine([RecorderModule(), CounterModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Increment(7, 5)), (session, 2, Record()), (session, 3, Increment(7)))
    engine.apply(log.entries[0])
    outcomes = engine.apply(log.entries[1]).outcomes
    assert [type(event) for event in events_of(outcomes)] == [Incremented, Recorded,
                                                              Incremented]
    assert outcomes[2].events == [Incremented(7, 6)]
    assert engine.module("counter").value(7) == 6


def test_a_command_type_without_handler_is_rejected_with_no_handler() -> None:
    engine = Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    order = SubmitOrder(1, 1, "c1", 1, 1, 1, 100, 10)
    log.batch((session, 1, order), (session, 2, Increment(1)))
    engine.apply(log.entries[0])
    outcomes = engine.apply(log.entries[1]).outcomes
    assert outcomes[0].events == [CommandRejected(SubmitOrder.__struct_config__.tag,
                                                  RejectReason.NO_HANDLER)]
    assert outcomes[1].events == [Incremented(1, 1)], "the rest of the batch still applies"


NOT_COMMANDS = {
    "a string": b"\xa3abc",
    "an unknown tag": b"\x91\xcd\x30\x39",
    "an empty array": b"\x90",
    "a missing field": b"\x91\xcd\x03\x84",
}


@pytest.mark.parametrize("bad", NOT_COMMANDS.values(), ids=NOT_COMMANDS.keys())
def test_undecodable_command_bytes_are_rejected_and_consume_the_sequence_number(
        bad: bytes) -> None:
    """Well-formed msgpack (the batch itself decodes) that is not a command of the schema."""
    engine = Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, bad), (session, 2, Increment(3)))
    log.batch((session, 1, Increment(3)), (session, 3, Increment(3)))
    engine.apply(log.entries[0])
    first = engine.apply(log.entries[1]).outcomes
    (rejected,) = first[0].events
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == RejectReason.INVALID_FIELD
    assert rejected.text != ""
    assert first[1].events == [Incremented(3, 1)]
    assert engine.sessions.last_client_seq(session) == 2
    second = engine.apply(log.entries[2]).outcomes
    assert [(o.client_seq, o.events) for o in second] == [(3, [Incremented(3, 2)])], (
        "seq 1 was consumed by the bad bytes: its resend is a duplicate")


def test_a_command_of_a_wrong_shape_is_rejected_as_invalid_field() -> None:
    engine = Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Deposit(1, 2, 3)), (session, 2, b"\x92\xcd\x03\x84\xa1x"))
    engine.apply(log.entries[0])
    outcomes = engine.apply(log.entries[1]).outcomes
    assert outcomes[0].events[0].reason == RejectReason.NO_HANDLER
    assert outcomes[1].events[0].reason == RejectReason.INVALID_FIELD


class OtherCounter(Module):
    name = "other_counter"
    handles = (Increment,)


class SecondCounter(CounterModule):
    handles = ()


def test_two_modules_handling_the_same_command_type_is_a_construction_error() -> None:
    with pytest.raises(EngineError, match=r"Increment is handled by both 'counter' and "
                                          r"'other_counter'"):
        Engine([CounterModule(), OtherCounter()])


def test_two_modules_with_the_same_name_is_a_construction_error() -> None:
    with pytest.raises(EngineError, match="two modules are named 'counter'"):
        Engine([CounterModule(), SecondCounter()])


def test_a_module_without_a_name_is_a_construction_error() -> None:
    class Nameless(Module):
        pass

    with pytest.raises(EngineError, match="Nameless needs a non-empty name"):
        Engine([Nameless()])


def test_context_carries_the_entry_index_timestamp_and_command_origin() -> None:
    engine = Engine([RecorderModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Record()), (session, 2, Record()), at_ns=123_456_789)
    opened = engine.apply(log.entries[0]).outcomes[0].events
    assert opened[1] == Recorded("open", 1, log.entries[0].timestamp_ns, session, 0)
    recorded = events_of(engine.apply(log.entries[1]).outcomes)
    assert recorded == [Recorded("command", 2, 123_456_789, session, 1),
                        Recorded("command", 2, 123_456_789, session, 2)]


def test_a_module_queries_another_synchronously_through_the_directory() -> None:
    engine = Engine([ReaderModule(), CounterModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, ReadCounter(4)), (session, 2, Increment(4, 9)),
              (session, 3, ReadCounter(4)))
    engine.apply(log.entries[0])
    events = events_of(engine.apply(log.entries[1]).outcomes)
    assert events == [CounterRead(4, 0), Incremented(4, 9), CounterRead(4, 9)], (
        "the query sees the state left by the previous command of the same batch")
    directory = engine.module("reader").directory
    assert directory.names() == ["reader", "counter"]
    assert directory.find("missing") is None
    with pytest.raises(KeyError, match=r"no module named 'missing' \(loaded: reader, counter\)"):
        directory.get("missing")


def test_session_open_and_close_are_told_to_every_module_in_order() -> None:
    first, second = RecorderModule(), SilentRecorderModule()
    engine = Engine([first, CounterModule(), second, AlarmModule()])
    log = LogBuilder()
    one = log.open("alice")
    two = log.open("bob")
    log.close(one)
    log.close(one)  # already closed: refused, no module callback
    outcomes = [engine.apply(entry).outcomes for entry in log.entries]
    assert first.calls == second.calls == [("open", one), ("open", two), ("close", one)]
    assert outcomes[0][0].events[0] == SessionOpened(one, "alice")
    assert outcomes[2][0].events[0] == SessionClosed(one, 1)
    assert outcomes[2][0].events[1] == Recorded("close", 3, log.entries[2].timestamp_ns, one,
                                                0)
    assert outcomes[3][0].events[0].reason == RejectReason.UNKNOWN_SESSION
    assert len(outcomes[3][0].events) == 1


def test_module_lookup_names_the_module() -> None:
    engine = Engine([CounterModule()])
    assert isinstance(engine.module("counter"), CounterModule)
    with pytest.raises(KeyError):
        engine.module("nope")
