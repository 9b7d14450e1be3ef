"""The FIX data dictionaries (``spec/``) and QuickFIX-compatible message validation.

>>> fix44 = DataDictionary.for_version("FIX.4.4")
>>> fix44.field_name(38), fix44.field_type(38), fix44.is_admin("A"), fix44.is_msg_type("*")
('OrderQty', 'QTY', True, False)
>>> fix44.validate([(8, b"FIX.4.4"), (9, b"5"), (35, b"0"), (34, b"2"), (49, b"TW44"),
...                 (52, b"20240102-03:04:05"), (56, b"ISLD"), (999, b"HI"), (10, b"000")])
SessionReject(reason=0, ref_tag=999, text='Invalid tag number')

Loading (``dictionary_load``) and the checks (``validate``) live in their own modules; this
one is the face the session layer and applications use.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from venue.gateways.fix.dictionary_load import Tables, load_tables
from venue.gateways.fix.validate import (
    Entry,
    SessionReject,
    field_rules,
    first_problem,
    read_group,
    split_message,
)
from venue.gateways.fix.validate_plan import (
    PLANS_MAX,
    Shape,
    Step,
    make_plan,
    planned_problem,
    shape,
)

__all__ = ["DataDictionary", "GroupView", "SessionReject"]

SPEC_DIRECTORY = Path(__file__).resolve().parent / "spec"
SPEC_FILES = {"FIX.4.4": "FIX44.xml", "FIX.4.2": "FIX42.xml"}

#: One group entry for applications: tag -> value, and a nested group's count tag -> its
#: entries.
GroupView = dict[int, "bytes | list[GroupView]"]


class DataDictionary:
    """One FIX version's fields, messages and groups, and the validator built on them.

    Build it with ``load`` (any QuickFIX-format file) or ``for_version`` (the shipped
    ``spec/``, loaded once per process). All look-ups are O(1) dict/set probes; ``validate``
    is O(n log n) in the message's field count (QuickFIX checks each section sorted by tag).
    """

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._rules = field_rules(tables)
        self._plans: dict[Shape, list[Step]] = {}  # validate_plan.py
        self.begin_string: str = tables.begin_string

    @classmethod
    def load(cls, path: str | Path) -> DataDictionary:
        """Reads a QuickFIX data dictionary XML file."""
        return cls(load_tables(path))

    @classmethod
    def for_version(cls, begin_string: str) -> DataDictionary:
        """The shipped dictionary for ``begin_string`` ("FIX.4.4", "FIX.4.2"), cached.

        >>> DataDictionary.for_version("FIX.4.2") is DataDictionary.for_version("FIX.4.2")
        True
        """
        if begin_string not in SPEC_FILES:
            raise KeyError(f"no data dictionary is shipped for {begin_string!r}")
        return _shipped(begin_string)

    def field_name(self, tag: int) -> str | None:
        """The field's name ("OrderQty" for 38), None for a tag the dictionary lacks."""
        return self._tables.names.get(tag)

    def field_type(self, tag: int) -> str | None:
        """The field's dictionary type ("INT", "PRICE", "UTCTIMESTAMP", ...) or None."""
        return self._tables.types.get(tag)

    def field_values(self, tag: int) -> frozenset[bytes] | None:
        """The enum values the dictionary allows for ``tag``, None when it lists none."""
        return self._tables.values.get(tag)

    def is_header_field(self, tag: int) -> bool:
        """A header field, by the dictionary or by QuickFIX's built-in list."""
        return tag in self._tables.header

    def is_trailer_field(self, tag: int) -> bool:
        """A trailer field (SignatureLength, Signature, CheckSum)."""
        return tag in self._tables.trailer

    def is_msg_type(self, msg_type: str) -> bool:
        """Whether the dictionary defines ``msg_type``."""
        return msg_type in self._tables.messages

    def is_admin(self, msg_type: str) -> bool:
        """Whether ``msg_type`` is a session-level message (msgcat="admin")."""
        spec = self._tables.messages.get(msg_type)
        return spec is not None and spec.admin

    def message_name(self, msg_type: str) -> str | None:
        """The message's name ("NewOrderSingle" for "D"), None when undefined."""
        spec = self._tables.messages.get(msg_type)
        return spec.name if spec is not None else None

    def validate(self, fields: Sequence[tuple[int, bytes]]) -> SessionReject | None:
        """The first Reject QuickFIX would send for this message, or None when it is valid.

        ``fields`` is the whole message in wire order, 8, 9, 35 first and 10 last (framing,
        BodyLength and CheckSum are checked before this). Session checks (CompIDs,
        SendingTime, MsgSeqNum, PossDup, BeginString) are the session layer's. Missing
        SenderCompID/TargetCompID is reported here (reason 1) as QuickFIX's Session does; for
        application messages QuickFIX answers that with BusinessMessageReject(j) 380=5.
        """
        key = shape(fields)
        plan = self._plans.get(key)
        if plan is not None:  # a shape that passed before: only the values to check
            return planned_problem(plan, fields)
        problem = first_problem(self._tables, self._rules, split_message(self._tables, fields))
        if problem is None and len(self._plans) < PLANS_MAX:
            self._plans[key] = make_plan(self._tables, self._rules, fields)
        return problem

    def groups(self, msg_type: str,
               fields: Sequence[tuple[int, bytes]]) -> dict[int, list[GroupView]]:
        """The message's repeating groups, by count tag, entries as dicts (nested inside).

        >>> fix44 = DataDictionary.for_version("FIX.4.4")
        >>> fix44.groups("D", [(11, b"ID"), (386, b"2"), (336, b"A"), (625, b"X"),
        ...                    (336, b"B"), (54, b"1")])
        {386: [{336: b'A', 625: b'X'}, {336: b'B'}]}
        """
        spec = self._tables.messages.get(msg_type)
        if spec is None:
            return {}
        found: dict[int, list[Entry]] = {}
        position = 0
        while position < len(fields):
            tag = fields[position][0]
            position += 1
            if tag in spec.groups:
                position = read_group(fields, position, spec.groups[tag], found)
        return {tag: [_view(entry) for entry in entries] for tag, entries in found.items()}


def _view(entry: Entry) -> GroupView:
    view: GroupView = dict(entry.fields)
    for tag, entries in entry.groups.items():
        view[tag] = [_view(nested) for nested in entries]
    return view


@cache
def _shipped(begin_string: str) -> DataDictionary:
    return DataDictionary.load(SPEC_DIRECTORY / SPEC_FILES[begin_string])
