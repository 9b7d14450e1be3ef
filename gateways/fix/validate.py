"""Message validation the way QuickFIX's DataDictionary does it, reject for reject.

A message arrives as ``(tag, value)`` pairs in wire order. ``split_message`` first sorts
them the way QuickFIX's ``Message::setString`` does: header, body and trailer fields apart
(noting the first field out of its section's order), repeating-group entries pulled out of
the body (an entry starts at the group's delimiter, or at any group field already set in
the current entry; the group ends at the first field the group does not define).
``first_problem`` then runs QuickFIX's checks in its order:

1. SenderCompID(49), TargetCompID(56) present (Session::next, before the dictionary);
2. structure: no header field after the body, no body field after the trailer (14);
3. MsgType defined (11); required body fields, then required fields of group entries (1);
4. every field of the header, then the trailer, then the body, each section in QuickFIX's
   sorted order: repeated (13), empty (4), format (6), enum (5), known tag (0), and for body
   fields: defined for this message (2), group count equal to its entries (16).

Fields inside group entries get only the required check, as in QuickFIX C++ (its iterate
does not descend into groups).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from venue.gateways.fix.dictionary_load import (
    HEADER_KEY,
    MULTIPLE_VALUE_TYPES,
    TRAILER_KEY,
    GroupSpec,
    Tables,
)

#: SessionRejectReason(373) -> Text(58), QuickFIX's wording.
REJECT_TEXTS = {
    0: "Invalid tag number",
    1: "Required tag missing",
    2: "Tag not defined for this message type",
    3: "Undefined Tag",
    4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag",
    6: "Incorrect data format for value",
    7: "Decryption problem",
    8: "Signature problem",
    9: "CompID problem",
    10: "SendingTime accuracy problem",
    11: "Invalid MsgType",
    13: "Tag appears more than once",
    14: "Tag specified out of required order",
    15: "Repeating group fields out of order",
    16: "Incorrect NumInGroup count for repeating group",
    17: "Non Data value includes field delimiter",
}


@dataclass(frozen=True)
class SessionReject:
    """What a session-level Reject(35=3) carries: 373, 371 (None when absent) and 58."""

    reason: int
    ref_tag: int | None
    text: str


def reject(reason: int, ref_tag: int | None) -> SessionReject:
    """The reject QuickFIX sends for ``reason`` about ``ref_tag``.

    >>> reject(1, 56)
    SessionReject(reason=1, ref_tag=56, text='Required tag missing')
    """
    return SessionReject(reason, ref_tag, REJECT_TEXTS[reason])


@dataclass(slots=True)
class Entry:
    """One repeating-group entry: its fields in wire order, their tags, nested groups."""

    fields: list[tuple[int, bytes]] = field(default_factory=list)
    tags: set[int] = field(default_factory=set)
    groups: dict[int, list[Entry]] = field(default_factory=dict)


@dataclass
class SplitMessage:
    """A message divided as QuickFIX's parser divides it."""

    msg_type: str = ""
    header: list[tuple[int, bytes]] = field(default_factory=list)
    body: list[tuple[int, bytes]] = field(default_factory=list)
    trailer: list[tuple[int, bytes]] = field(default_factory=list)
    groups: dict[int, list[Entry]] = field(default_factory=dict)
    out_of_order_tag: int = 0


def read_group(fields: Sequence[tuple[int, bytes]], position: int, spec: GroupSpec,
               into: dict[int, list[Entry]]) -> int:
    """Reads the entries of ``spec`` starting at ``position``; returns the next position."""
    entries = into.setdefault(spec.count_tag, [])
    entry: Entry | None = None
    while position < len(fields):
        tag, value = fields[position]
        if tag == spec.delimiter or (tag in spec.fields
                                     and (entry is None or tag in entry.tags)):
            entry = Entry()
            entries.append(entry)
        elif tag not in spec.fields:
            return position
        position += 1
        entry.fields.append((tag, value))
        entry.tags.add(tag)
        nested = spec.groups.get(tag)
        if nested is not None:
            position = read_group(fields, position, nested, entry.groups)
    return position


def split_message(tables: Tables, fields: Sequence[tuple[int, bytes]]) -> SplitMessage:
    """Divides ``fields`` into header, body (with its groups) and trailer. O(len(fields))."""
    message = SplitMessage()
    for tag, value in fields[:3]:
        if tag == 35:
            message.msg_type = value.decode("latin-1")
    spec = tables.messages.get(message.msg_type)
    body_groups = spec.groups if spec is not None else {}
    header_groups = tables.non_body_groups[HEADER_KEY]
    trailer_groups = tables.non_body_groups[TRAILER_KEY]
    header_tags, trailer_tags = tables.header, tables.trailer
    section = 0  # 0 header, 1 body, 2 trailer
    position = 0
    while position < len(fields):
        tag, value = fields[position]
        position += 1
        if tag in header_tags:
            if section != 0 and not message.out_of_order_tag:
                message.out_of_order_tag = tag
            message.header.append((tag, value))
            groups, into = header_groups, {}
        elif tag in trailer_tags:
            section = 2
            message.trailer.append((tag, value))
            groups, into = trailer_groups, {}
        else:
            if section == 2 and not message.out_of_order_tag:
                message.out_of_order_tag = tag
            section = 1
            message.body.append((tag, value))
            groups, into = body_groups, message.groups
        group = groups.get(tag)
        if group is not None:
            position = read_group(fields, position, group, into)
    return message


# --- value formats, as QuickFIX's FieldConvertors accept them -------------------------------

_INT = re.compile(rb"-?[0-9]+")
_FLOAT = re.compile(rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_TIMESTAMP = re.compile(rb"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})"
                        rb"(?:\.([0-9]*))?")
_TIME = re.compile(rb"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?")
_DATE = re.compile(rb"[0-9]{4}([0-9]{2})([0-9]{2})")


def _is_int(value: bytes) -> bool:
    return _INT.fullmatch(value) is not None


def _is_float(value: bytes) -> bool:
    return _FLOAT.fullmatch(value) is not None


def _is_clock(hour: bytes, minute: bytes, second: bytes) -> bool:
    return int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60


def _is_date(month: bytes, day: bytes) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _is_timestamp(value: bytes) -> bool:
    """YYYYMMDD-HH:MM:SS, optionally '.' and up to 9 digits (17..27 characters).

    >>> _is_timestamp(b"20240102-03:04:05.123"), _is_timestamp(b"20240102-24:00:00")
    (True, False)
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None or len(value) > 27:
        return False
    return _is_date(match[2], match[3]) and _is_clock(match[4], match[5], match[6])


def _is_time(value: bytes) -> bool:
    match = _TIME.fullmatch(value)
    return match is not None and len(value) <= 18 and _is_clock(match[1], match[2], match[3])


def _is_utc_date(value: bytes) -> bool:
    match = _DATE.fullmatch(value)
    return match is not None and _is_date(match[1], match[2])


FORMAT_CHECKS: dict[str, Callable[[bytes], bool]] = {
    "INT": _is_int, "SEQNUM": _is_int, "LENGTH": _is_int, "NUMINGROUP": _is_int,
    "FLOAT": _is_float, "PRICE": _is_float, "QTY": _is_float, "AMT": _is_float,
    "PERCENTAGE": _is_float, "PRICEOFFSET": _is_float,
    "CHAR": lambda value: len(value) == 1,
    "BOOLEAN": lambda value: value in (b"Y", b"N"),
    "UTCTIMESTAMP": _is_timestamp, "TIME": _is_timestamp,
    "UTCTIMEONLY": _is_time,
    "UTCDATE": _is_utc_date, "UTCDATEONLY": _is_utc_date,
}


# --- the checks ---------------------------------------------------------------------------

_HEADER_FIRST = {8: -3, 9: -2, 35: -1}


def _header_key(item: tuple[int, bytes]) -> int:
    """8, 9, 35 first, then by tag (header tags are all positive)."""
    return _HEADER_FIRST.get(item[0], item[0])


def _trailer_key(item: tuple[int, bytes]) -> tuple[bool, int]:
    return (item[0] == 10, item[0])


def _body_key(item: tuple[int, bytes]) -> int:
    return item[0]


def _missing_required(required: list[int], tags: set[int], groups: dict[int, list[Entry]],
                      specs: dict[int, GroupSpec]) -> int | None:
    """The first required tag missing here or in a group entry below (QuickFIX's order)."""
    for tag in required:
        if tag not in tags:
            return tag
    for count_tag in sorted(groups):
        spec = specs.get(count_tag)
        if spec is None:
            continue
        for entry in groups[count_tag]:
            missing = _missing_required(spec.required, entry.tags, entry.groups, spec.groups)
            if missing is not None:
                return missing
    return None


#: Per tag: (format check or None, allowed enum values or None, values split on spaces).
FieldRules = dict[int, tuple[Callable[[bytes], bool] | None, frozenset[bytes] | None, bool]]


def field_rules(tables: Tables) -> FieldRules:
    """Each known tag's checks, looked up once per field while validating. O(fields)."""
    return {tag: (FORMAT_CHECKS.get(kind), tables.values.get(tag), kind in MULTIPLE_VALUE_TYPES)
            for tag, kind in tables.types.items()}


def _field_problem(rules: FieldRules, tag: int, value: bytes) -> int | None:
    """Reason 4, 6, 5 or 0 for one field, in QuickFIX's order, or None."""
    if not value:
        return 4
    rule = rules.get(tag)
    if rule is None:
        return 0  # an unknown tag has no format or values to fail first
    check, allowed, multiple = rule
    if check is not None and not check(value):
        return 6
    if allowed is not None:
        if multiple:
            if any(piece not in allowed for piece in value.split(b" ")):
                return 5
        elif value not in allowed:
            return 5
    return None


def _count_matches(value: bytes, entries: Sequence[Entry]) -> bool:
    return _is_int(value) and int(value) == len(entries)


def _section_problem(tables: Tables, rules: FieldRules, fields: list[tuple[int, bytes]],
                     body: bool, message: SplitMessage) -> SessionReject | None:
    spec = tables.messages[message.msg_type]
    previous = None
    for index, (tag, value) in enumerate(fields):
        if index and tag == previous:
            return reject(13, tag)
        reason = _field_problem(rules, tag, value)
        if reason is not None:
            return reject(reason, tag)
        if body:  # split_message put header and trailer fields elsewhere
            if tag not in spec.fields:
                return reject(2, tag)
            if tag in spec.groups and not _count_matches(value, message.groups.get(tag, ())):
                return reject(16, tag)
        previous = tag
    return None


def first_problem(tables: Tables, rules: FieldRules,
                  message: SplitMessage) -> SessionReject | None:
    """The first reject QuickFIX would send for ``message`` (``rules``: ``field_rules``)."""
    header_tags = {tag for tag, _ in message.header}
    for tag in (49, 56):
        if tag not in header_tags:
            return reject(1, tag)
    if message.out_of_order_tag:
        return reject(14, message.out_of_order_tag)
    spec = tables.messages.get(message.msg_type)
    if spec is None:
        return reject(11, None)
    missing = _missing_required(spec.required, {tag for tag, _ in message.body},
                                message.groups, spec.groups)
    if missing is not None:
        return reject(1, missing)
    for fields, key, body in ((message.header, _header_key, False),
                              (message.trailer, _trailer_key, False),
                              (message.body, _body_key, True)):
        problem = _section_problem(tables, rules, sorted(fields, key=key), body, message)
        if problem is not None:
            return problem
    return None
