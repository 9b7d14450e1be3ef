"""Round trips and bad input: what the schema decodes is exactly what was encoded, and bytes
that are not a known message raise ``venue.codecs.DecodeError``, never anything else."""

from __future__ import annotations

import enum
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from venue.codecs import (
    BUILTIN_COMMANDS,
    BUILTIN_EVENTS,
    PAYLOAD_TYPES,
    ClientCommand,
    Command,
    CommandBatch,
    DecodeError,
    EntryKind,
    Event,
    LogEntry,
    Outcome,
    Schema,
)
from venue.engine.modules.counter import Increment, Incremented

ENCODER = msgspec.msgpack.Encoder(order="deterministic")
SCHEMA = Schema(commands=[Increment], events=[Incremented])
COMMAND_TYPES = [*BUILTIN_COMMANDS, Increment]
EVENT_TYPES = [*BUILTIN_EVENTS, Incremented]

# -- strategies built from the struct fields -----------------------------------------------

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # no lone surrogates


def strategy_for(field_type: Any) -> st.SearchStrategy[Any]:
    if isinstance(field_type, type) and issubclass(field_type, enum.IntEnum):
        return st.sampled_from(field_type)
    simple = {bool: st.booleans(), int: INT64, str: TEXT, bytes: st.binary(max_size=64)}
    if field_type in simple:
        return simple[field_type]
    raise TypeError(f"no strategy for field type {field_type!r}: add one here")


def structs(cls: type) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` with every field drawn from its type."""
    return st.builds(cls, **{field.name: strategy_for(field.type)
                             for field in msgspec.structs.fields(cls)})


ANY_COMMAND = st.one_of([structs(cls) for cls in COMMAND_TYPES])
ANY_EVENT = st.one_of([structs(cls) for cls in EVENT_TYPES])
CLIENT_COMMANDS = st.builds(
    ClientCommand, session_id=INT64, client_seq=INT64,
    command=ANY_COMMAND.map(ENCODER.encode),
)
PAYLOADS: dict[EntryKind, st.SearchStrategy[Any]] = {
    kind: structs(cls) for kind, cls in PAYLOAD_TYPES.items() if cls is not CommandBatch
}
PAYLOADS[EntryKind.COMMAND_BATCH] = st.builds(
    CommandBatch, commands=st.lists(CLIENT_COMMANDS, max_size=5)
)
OUTCOMES = st.builds(Outcome, session_id=INT64, client_seq=INT64,
                     events=st.lists(ANY_EVENT, max_size=5))


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", COMMAND_TYPES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_command_type_round_trips(cls: type, data: st.DataObject) -> None:
    command = data.draw(structs(cls))
    encoded = ENCODER.encode(command)
    decoded = SCHEMA.decode_command(encoded)
    assert type(decoded) is cls
    assert decoded == command
    assert ENCODER.encode(decoded) == encoded  # canonical: the bytes survive too


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_event_type_round_trips(cls: type, data: st.DataObject) -> None:
    event = data.draw(structs(cls))
    encoded = ENCODER.encode(event)
    decoded = SCHEMA.decode_event(encoded)
    assert type(decoded) is cls
    assert decoded == event
    assert ENCODER.encode(decoded) == encoded


@given(st.lists(OUTCOMES, max_size=5))
def test_outcome_lists_round_trip(outcomes: list[Outcome]) -> None:
    encoded = ENCODER.encode(outcomes)
    assert SCHEMA.decode_outcomes(encoded) == outcomes
    assert ENCODER.encode(SCHEMA.decode_outcomes(encoded)) == encoded


@given(data=st.data(), kind=st.sampled_from(EntryKind))
def test_log_entry_and_its_payload_round_trip(data: st.DataObject, kind: EntryKind) -> None:
    payload = data.draw(PAYLOADS[kind])
    entry = LogEntry(index=data.draw(INT64), term=data.draw(INT64),
                     timestamp_ns=data.draw(INT64), kind=kind, payload=ENCODER.encode(payload))
    decoded = msgspec.msgpack.Decoder(LogEntry).decode(ENCODER.encode(entry))
    assert decoded == entry
    assert msgspec.msgpack.decode(decoded.payload, type=PAYLOAD_TYPES[decoded.kind]) == payload


@given(st.lists(st.tuples(ANY_COMMAND, INT64, INT64), max_size=5))
def test_commands_inside_a_batch_decode_to_the_originals(
        rows: list[tuple[Command, int, int]]) -> None:
    batch = CommandBatch([ClientCommand(session_id, client_seq,
                                        ENCODER.encode(command))
                          for command, session_id, client_seq in rows])
    decoded = msgspec.msgpack.decode(ENCODER.encode(batch), type=CommandBatch)
    assert [(SCHEMA.decode_command(c.command), c.session_id, c.client_seq)
            for c in decoded.commands] == rows


# -- bad input -----------------------------------------------------------------------------

GARBAGE = [b"", b"\xc1", b"\xff\xff\xff", b"\x92", b"hello", b"\x90", b"\x80", b"\xc0",
           b"\x01", b"\xa3abc"]


@pytest.mark.parametrize("data", GARBAGE, ids=lambda data: data.hex() or "empty")
def test_garbage_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="bad command"):
        SCHEMA.decode_command(data)
    with pytest.raises(DecodeError, match="bad event"):
        SCHEMA.decode_event(data)


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x92", b"\x80", b"\x91\x90", b"\x91\x93\x01"])
def test_garbage_event_record_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="bad event record"):
        SCHEMA.decode_outcomes(data)


@pytest.mark.parametrize("array", [[999, 1, 2], [5000], [1000, 5], [0], [-1], [2**64 - 1],
                                   ["SubmitOrder", 1], [None, 1], [True, 5]])
def test_unknown_or_malformed_tag_is_a_decode_error(array: list[Any]) -> None:
    with pytest.raises(DecodeError):
        SCHEMA.decode_command(ENCODER.encode(array))
    with pytest.raises(DecodeError):
        SCHEMA.decode_event(ENCODER.encode(array))


def test_unknown_tag_error_names_the_tag() -> None:
    with pytest.raises(DecodeError, match="999"):
        SCHEMA.decode_command(ENCODER.encode([999, 1]))


def test_diagnostic_command_is_unknown_to_a_schema_without_its_module() -> None:
    data = ENCODER.encode(Increment(key=1, amount=2))
    assert SCHEMA.decode_command(data) == Increment(key=1, amount=2)
    with pytest.raises(DecodeError):
        Schema().decode_command(data)


SUBMIT = [1, 7001, 42, "ord-1", 1, 1, 1, 100, 5]  # a valid SubmitOrder, positions 1..8
WRONG_FIELDS = {
    "price as text": {7: "100"},
    "price as float": {7: 100.5},  # no floats in the log
    "quantity missing (nil)": {8: None},
    "side out of range": {4: 9},
    "order type as text": {5: "LIMIT"},
    "client order id as int": {3: 17},
    "account as bool": {1: True},
    "account as binary": {1: b"\x01"},
    "account as array": {1: [7001]},
}


@pytest.mark.parametrize("changes", WRONG_FIELDS.values(), ids=list(WRONG_FIELDS))
def test_wrong_field_type_is_a_decode_error(changes: dict[int, Any]) -> None:
    assert SCHEMA.decode_command(ENCODER.encode(SUBMIT)).price == 100  # the base is valid
    array = [changes.get(position, value) for position, value in enumerate(SUBMIT)]
    with pytest.raises(DecodeError):
        SCHEMA.decode_command(ENCODER.encode(array))


def test_text_that_is_not_utf8_is_a_decode_error() -> None:
    """msgspec raises UnicodeDecodeError here; the schema must still say DecodeError."""
    halt_with_bad_reason = b"\x93\x0b\x2a\xa2\xff\xfe"  # HaltInstrument(42, <bad utf-8>)
    assert SCHEMA.decode_command(b"\x93\x0b\x2a\xa2ok").reason == "ok"  # the base is valid
    with pytest.raises(DecodeError):
        SCHEMA.decode_command(halt_with_bad_reason)
    opened_with_bad_principal = b"\x93\x28\x05\xa1\x80"  # SessionOpened(5, <bad utf-8>)
    with pytest.raises(DecodeError):
        SCHEMA.decode_event(opened_with_bad_principal)
    with pytest.raises(DecodeError):
        SCHEMA.decode_outcomes(b"\x91\x93\x01\x02\x91" + opened_with_bad_principal)


def test_struct_sent_as_a_map_is_a_decode_error() -> None:
    as_map = {"type": 21, "account": 1, "asset": 2, "amount": 3}
    with pytest.raises(DecodeError):
        SCHEMA.decode_command(ENCODER.encode(as_map))


@given(data=st.data())
def test_truncated_command_or_event_is_a_decode_error(data: st.DataObject) -> None:
    message = data.draw(st.one_of(ANY_COMMAND, ANY_EVENT))
    encoded = ENCODER.encode(message)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    decode = SCHEMA.decode_command if isinstance(message, Command) else SCHEMA.decode_event
    with pytest.raises(DecodeError):
        decode(encoded[:cut])


@given(data=st.data())
def test_truncated_event_record_is_a_decode_error(data: st.DataObject) -> None:
    encoded = ENCODER.encode(data.draw(st.lists(OUTCOMES, min_size=1, max_size=3)))
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(DecodeError):
        SCHEMA.decode_outcomes(encoded[:cut])


@given(ANY_COMMAND, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_after_a_command_are_a_decode_error(command: Command,
                                                          extra: bytes) -> None:
    with pytest.raises(DecodeError):
        SCHEMA.decode_command(ENCODER.encode(command) + extra)


def decodes_or_raises_decode_error(data: bytes) -> None:
    """Every decoder either returns its type or raises DecodeError (anything else fails)."""
    for decode, expected in ((SCHEMA.decode_command, Command), (SCHEMA.decode_event, Event)):
        try:
            result = decode(data)
        except DecodeError:
            continue
        assert isinstance(result, expected)
    try:
        outcomes = SCHEMA.decode_outcomes(data)
    except DecodeError:
        return
    assert all(isinstance(outcome, Outcome) for outcome in outcomes)


@given(st.binary(max_size=256))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    decodes_or_raises_decode_error(data)


@given(data=st.data())
def test_corrupted_valid_bytes_decode_or_raise_decode_error(data: st.DataObject) -> None:
    """Flipping one byte of a real message reaches deeper into the decoders than noise."""
    message = data.draw(st.one_of(ANY_COMMAND, ANY_EVENT, st.lists(OUTCOMES, max_size=2)))
    encoded = bytearray(ENCODER.encode(message))
    position = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[position] = data.draw(st.integers(min_value=0, max_value=255))
    decodes_or_raises_decode_error(bytes(encoded))
