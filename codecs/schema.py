"""The schema: which command and event types a node knows, and their decoders.

venue's built-in types are always present; each loaded module adds the types it declares.
Tags are permanent integers: 1-899 venue, 900-999 venue's diagnostic modules, 1000 and above
plugins. A clash is a start-up error, never a silent override.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import msgspec

from .commands import BUILTIN_COMMANDS, Command
from .errors import DecodeError, SchemaError
from .events import BUILTIN_EVENTS, Event

PLUGIN_TAG_MIN = 1000
DIAGNOSTIC_TAG_MIN = 900
VENUE_PACKAGES = ("venue.engine.", "venue.codecs.", "venue.cluster.", "venue.gateways.")


class Outcome(msgspec.Struct, frozen=True, array_like=True):
    """What one command (or one session/timer entry) produced: its events in order.

    Session and timer entries have ``client_seq`` 0; timer entries have ``session_id`` 0.
    """

    session_id: int
    client_seq: int
    events: list[Any]


def _check_type(kind: str, base: type, cls: type) -> int:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise SchemaError(f"{kind} type {cls!r} must subclass venue.codecs.{base.__name__}")
    config = cls.__struct_config__
    tag = config.tag
    if not isinstance(tag, int) or isinstance(tag, bool):
        raise SchemaError(f"{kind} type {cls.__qualname__} needs a permanent integer tag")
    if not (config.frozen and config.array_like):
        raise SchemaError(f"{kind} type {cls.__qualname__} must be frozen and array_like")
    if config.tag_field != base.__struct_config__.tag_field:
        raise SchemaError(f"{kind} type {cls.__qualname__} must keep the tag_field "
                          f"{base.__struct_config__.tag_field!r} of {base.__name__}")
    return tag


def _tag_table(kind: str, base: type, builtin: tuple[type, ...], extra: Iterable[type]
               ) -> dict[int, type]:
    """Tag -> type for the built-in types plus ``extra``; built-in types in ``extra`` are
    skipped, venue's own extras may use 900-999, everyone else 1000 and above."""
    table: dict[int, type] = {}
    for cls in builtin:
        table[_check_type(kind, base, cls)] = cls
    for cls in extra:
        if cls in builtin:
            continue
        tag = _check_type(kind, base, cls)
        floor = DIAGNOSTIC_TAG_MIN if cls.__module__.startswith(VENUE_PACKAGES) else PLUGIN_TAG_MIN
        if tag < floor:
            raise SchemaError(
                f"{kind} type {cls.__module__}.{cls.__qualname__} has tag {tag}; plugin tags "
                f"start at {PLUGIN_TAG_MIN} (lower tags belong to venue)"
            )
        other = table.get(tag)
        if other is not None and other is not cls:
            raise SchemaError(
                f"{kind} tag {tag} is claimed by both {other.__module__}."
                f"{other.__qualname__} and {cls.__module__}.{cls.__qualname__}"
            )
        table[tag] = cls
    return table


class Schema:
    """Command and event types with one reusable decoder each (and the shared encoder)."""

    def __init__(self, commands: Iterable[type] = (), events: Iterable[type] = ()) -> None:
        self.commands = _tag_table("command", Command, BUILTIN_COMMANDS, commands)
        self.events = _tag_table("event", Event, BUILTIN_EVENTS, events)
        command_union = typing.Union[tuple(self.commands.values())]  # noqa: UP007
        event_union = typing.Union[tuple(self.events.values())]  # noqa: UP007
        self.encoder = msgspec.msgpack.Encoder(order="deterministic")
        #: raises msgspec errors; ``decode_command`` wraps them as ``DecodeError``
        self.command_decoder = msgspec.msgpack.Decoder(command_union)
        self._event_decoder = msgspec.msgpack.Decoder(event_union)
        self._events_decoder = msgspec.msgpack.Decoder(list[event_union])
        self._outcomes_decoder = msgspec.msgpack.Decoder(
            list[tuple[int, int, list[event_union]]]
        )

    def decode_command(self, data: bytes) -> Command:
        """Decode one command; raise ``DecodeError`` naming the problem on bad bytes."""
        try:
            return self.command_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise DecodeError(f"bad command: {exc}") from None

    def decode_event(self, data: bytes) -> Event:
        try:
            return self._event_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise DecodeError(f"bad event: {exc}") from None

    def decode_events(self, data: bytes) -> list[Event]:
        """Decode a msgpack array of events (a client protocol ``Reply``)."""
        try:
            return self._events_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise DecodeError(f"bad events: {exc}") from None

    def decode_outcomes(self, data: bytes) -> list[Outcome]:
        """Decode the canonical event bytes of one applied entry."""
        try:
            rows = self._outcomes_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            raise DecodeError(f"bad event record: {exc}") from None
        return [Outcome(session_id, client_seq, events)
                for session_id, client_seq, events in rows]

    def encode(self, obj: Any) -> bytes:
        return self.encoder.encode(obj)
