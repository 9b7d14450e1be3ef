"""Human-readable, one-line-per-item rendering of log entries and their events."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator

import msgspec

from venue.codecs import EntryKind, LogEntry, Outcome, Schema
from venue.codecs.errors import DecodeError
from venue.codecs.log import PAYLOAD_TYPES, CommandBatch


def format_value(value: object) -> str:
    """Readable one-line form: structs as ``Name(field=value, ...)`` omitting fields at
    their default (nested structs likewise), enums by name, bytes in hex, dicts as
    ``key=value`` pairs, anything else by ``repr``.

    >>> from venue.codecs import CancelOrder
    >>> format_value(CancelOrder(7, 1, "c-1", order_id=42))
    "CancelOrder(account=7, instrument_id=1, client_order_id='c-1', order_id=42)"
    """
    if isinstance(value, msgspec.Struct):
        parts = []
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            if field.default is not msgspec.NODEFAULT and item == field.default:
                continue
            parts.append(f"{field.name}={format_value(item)}")
        return f"{type(value).__name__}({', '.join(parts)})"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return " ".join(f"{key}={format_value(item)}" for key, item in value.items())
    return repr(value)


def format_timestamp(timestamp_ns: int) -> str:
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def entry_lines(entry: LogEntry, outcomes: list[Outcome] | None, schema: Schema
                ) -> Iterator[str]:
    """The entry, then each command (``s<session>#<seq>``), then each event (``->``)."""
    prefix = f"#{entry.index:<8}"
    by_seq: dict[tuple[int, int], list] = {}
    for outcome in outcomes or []:
        by_seq.setdefault((outcome.session_id, outcome.client_seq), []).extend(outcome.events)
    head = f"{prefix} {format_timestamp(entry.timestamp_ns)} term={entry.term} {entry.kind.name}"
    if entry.kind != EntryKind.COMMAND_BATCH:
        payload = msgspec.msgpack.decode(entry.payload, type=PAYLOAD_TYPES[entry.kind])
        yield f"{head} {format_value(payload)}"
        for events in by_seq.values():
            for event in events:
                yield f"{prefix}   -> {format_value(event)}"
        return
    batch = msgspec.msgpack.decode(entry.payload, type=CommandBatch)
    yield f"{head} ({len(batch.commands)} commands)"
    for client_command in batch.commands:
        try:
            shown = format_value(schema.decode_command(client_command.command))
        except DecodeError as exc:
            shown = f"<undecodable command: {exc}>"
        key = (client_command.session_id, client_command.client_seq)
        yield f"{prefix} s{key[0]}#{key[1]} {shown}"
        for event in by_seq.pop(key, []):
            yield f"{prefix}   -> {format_value(event)}"
