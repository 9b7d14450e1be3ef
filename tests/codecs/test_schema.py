"""Schema rules: which plugin types may join the schema, and the permanent tag ranges.

Tags 1-899 are venue's, 900-999 venue's diagnostic modules', 1000 and above plugins'. A type
that breaks a rule is refused with ``SchemaError`` when the schema is built (start-up), never
silently accepted or overridden.
"""

from __future__ import annotations

import msgspec
import pytest

from venue.codecs import (
    BUILTIN_COMMANDS,
    BUILTIN_EVENTS,
    CodecError,
    Command,
    DecodeError,
    Event,
    OrderType,
    Outcome,
    Schema,
    SchemaError,
    Side,
    SubmitOrder,
    TimeInForce,
)
from venue.codecs.schema import DIAGNOSTIC_TAG_MIN, PLUGIN_TAG_MIN
from venue.engine.modules.counter import Increment, Incremented

ENCODER = msgspec.msgpack.Encoder(order="deterministic")


class RequestQuote(Command, tag=1000):
    """A valid plugin command."""

    account: int
    instrument_id: int
    quantity: int
    note: str = ""


class QuoteProvided(Event, tag=1000):
    """A valid plugin event; commands and events have separate tag spaces."""

    quote_id: int
    price: int


class ClashingQuote(Command, tag=1000):
    account: int


class BelowPluginRange(Command, tag=999):
    account: int


class InDiagnosticRange(Event, tag=950):
    value: int


class ReusesBuiltinTag(Command, tag=1):
    account: int


class NotFrozen(Command, tag=1001, frozen=False):
    account: int


class NotArrayLike(Command, tag=1002, array_like=False):
    account: int


class NamedTag(Command, tag="named"):
    account: int


class ClassNameTag(Command, tag=True):  # msgspec uses the class name: a string
    account: int


class Untagged(Command):
    account: int


class OwnTagField(Command, tag=1003, tag_field="kind"):
    account: int


class NotACommand(msgspec.Struct, frozen=True, array_like=True, tag=1004):
    account: int


# -- built-in ranges -----------------------------------------------------------------------


@pytest.mark.parametrize("builtin", [BUILTIN_COMMANDS, BUILTIN_EVENTS],
                         ids=["commands", "events"])
def test_builtin_tags_are_unique_and_below_the_diagnostic_range(builtin: tuple[type, ...]
                                                                 ) -> None:
    tags = [cls.__struct_config__.tag for cls in builtin]
    assert len(set(tags)) == len(tags)
    assert all(isinstance(tag, int) and 1 <= tag < DIAGNOSTIC_TAG_MIN for tag in tags)


def test_default_schema_holds_exactly_the_builtin_types() -> None:
    schema = Schema()
    assert sorted(schema.commands.values(), key=str) == sorted(BUILTIN_COMMANDS, key=str)
    assert sorted(schema.events.values(), key=str) == sorted(BUILTIN_EVENTS, key=str)


def test_venue_diagnostic_types_join_in_the_900_range() -> None:
    schema = Schema(commands=[Increment], events=[Incremented])
    assert schema.commands[900] is Increment
    assert schema.events[900] is Incremented


class VenueDiagnostic(Event, tag=950):
    __module__ = "venue.engine.modules.diagnostic"  # as if shipped inside venue's engine
    value: int


class PluginInVenueNamespace(Event, tag=950):
    __module__ = "venue.contrib.quotes"  # not one of venue's own packages
    value: int


def test_diagnostic_range_is_open_only_to_venues_own_packages() -> None:
    assert Schema(events=[VenueDiagnostic]).events[950] is VenueDiagnostic
    refused = r"venue\.contrib\.quotes\.PluginInVenueNamespace has tag 950"
    with pytest.raises(SchemaError, match=refused):
        Schema(events=[PluginInVenueNamespace])


# -- refused plugin types ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [BelowPluginRange, ReusesBuiltinTag],
                         ids=lambda cls: cls.__name__)
def test_plugin_command_below_tag_1000_is_refused(cls: type) -> None:
    with pytest.raises(SchemaError, match=f"{cls.__name__} has tag .*start at 1000"):
        Schema(commands=[cls])


def test_plugin_event_in_the_diagnostic_range_is_refused() -> None:
    """900-999 belongs to venue's own diagnostic modules, not to plugins."""
    assert PLUGIN_TAG_MIN == 1000
    with pytest.raises(SchemaError, match="InDiagnosticRange has tag 950"):
        Schema(events=[InDiagnosticRange])


def test_two_types_with_one_tag_are_refused_naming_both() -> None:
    with pytest.raises(SchemaError) as refused:
        Schema(commands=[RequestQuote, ClashingQuote])
    message = str(refused.value)
    assert "tag 1000" in message
    assert f"{__name__}.RequestQuote" in message
    assert f"{__name__}.ClashingQuote" in message


@pytest.mark.parametrize("cls", [NotFrozen, NotArrayLike], ids=lambda cls: cls.__name__)
def test_type_that_is_not_frozen_and_array_like_is_refused(cls: type) -> None:
    with pytest.raises(SchemaError, match=f"{cls.__name__} must be frozen and array_like"):
        Schema(commands=[cls])


@pytest.mark.parametrize("cls", [NamedTag, ClassNameTag, Untagged], ids=lambda cls: cls.__name__)
def test_type_without_an_integer_tag_is_refused(cls: type) -> None:
    with pytest.raises(SchemaError, match=f"{cls.__name__} needs a permanent integer tag"):
        Schema(commands=[cls])


def test_type_with_its_own_tag_field_is_refused() -> None:
    """msgspec cannot put it in the tagged union; it must say so as a SchemaError."""
    with pytest.raises(SchemaError, match="OwnTagField must keep the tag_field 'type'"):
        Schema(commands=[OwnTagField])


@pytest.mark.parametrize("cls", [NotACommand, QuoteProvided, 5], ids=str)
def test_command_that_does_not_subclass_command_is_refused(cls: object) -> None:
    with pytest.raises(SchemaError, match=r"must subclass venue\.codecs\.Command"):
        Schema(commands=[cls])  # type: ignore[list-item]


def test_event_that_does_not_subclass_event_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"must subclass venue\.codecs\.Event"):
        Schema(events=[RequestQuote])


def test_schema_error_is_a_configuration_error_not_bad_input() -> None:
    assert not issubclass(SchemaError, CodecError)
    assert issubclass(DecodeError, CodecError)


# -- accepted plugin types -----------------------------------------------------------------


def test_valid_plugin_types_decode() -> None:
    schema = Schema(commands=[RequestQuote], events=[QuoteProvided])
    command = RequestQuote(account=7, instrument_id=42, quantity=300, note="rfq")
    event = QuoteProvided(quote_id=1, price=1_234_500)
    assert schema.decode_command(ENCODER.encode(command)) == command
    assert schema.decode_event(ENCODER.encode(event)) == event
    record = [Outcome(session_id=3, client_seq=9, events=[event])]
    assert schema.decode_outcomes(ENCODER.encode(record)) == record


def test_builtin_types_still_decode_next_to_plugin_types() -> None:
    schema = Schema(commands=[RequestQuote], events=[QuoteProvided])
    submit = SubmitOrder(account=7, instrument_id=42, client_order_id="a", side=Side.BUY,
                         order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC,
                         price=100, quantity=5)
    assert schema.decode_command(ENCODER.encode(submit)) == submit


def test_plugin_types_are_unknown_to_a_schema_without_them() -> None:
    with pytest.raises(DecodeError):
        Schema().decode_command(ENCODER.encode(RequestQuote(account=1, instrument_id=2,
                                                            quantity=3)))


def test_builtin_type_or_repeated_plugin_type_in_extras_is_accepted_once() -> None:
    schema = Schema(commands=[SubmitOrder, RequestQuote, RequestQuote])
    assert schema.commands[1] is SubmitOrder
    assert schema.commands[1000] is RequestQuote
    assert len(schema.commands) == len(BUILTIN_COMMANDS) + 1


def test_command_and_event_may_share_a_tag() -> None:
    schema = Schema(commands=[RequestQuote], events=[QuoteProvided])
    assert schema.commands[1000] is RequestQuote
    assert schema.events[1000] is QuoteProvided
