"""Reading a QuickFIX data dictionary (``spec/FIX44.xml``) into lookup tables.

The XML lists ``<fields>`` (number, name, type, enum values), the ``<header>`` and
``<trailer>`` fields, ``<messages>`` (fields, groups and components, each ``required`` Y/N)
and named ``<components>``. This module flattens it, once, into the per-message sets the
validator (``validate``) consults on every message:

- which tags a message may carry at its top level (``MessageSpec.fields``), which are
  required there, and which of them open a repeating group (``GroupSpec``);
- per group: the delimiter (its first field), the tags an entry may carry, the tags an entry
  requires, and nested groups.

The required-ness follows QuickFIX's own loader, quirks included, because its rejects are
the acceptance spec: a component's required fields count only when the component is
required where it is used; a group's entry fields count only when the group is required;
header and trailer fields are never "required" by the dictionary (QuickFIX compares the
attribute with "true" while its XML says "Y"); and a required component nested anywhere
(even inside a group) adds its required fields to the *message's* top-level required set.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

#: Types whose enum check splits the value on single spaces (QuickFIX isMultipleValueField).
MULTIPLE_VALUE_TYPES = frozenset({"MULTIPLEVALUESTRING", "MULTIPLESTRINGVALUE",
                                  "MULTIPLECHARVALUE"})

#: Tags QuickFIX treats as header / trailer fields whatever the dictionary says
#: (Message::isHeaderField / isTrailerField); ``Tables.header``/``trailer`` include them.
BUILT_IN_HEADER = frozenset({8, 9, 35, 49, 56, 115, 128, 90, 34, 50, 142, 57, 143, 116, 144,
                             129, 145, 43, 97, 52, 122, 212, 213, 347, 369, 370, 1128, 1129,
                             627})
BUILT_IN_TRAILER = frozenset({93, 89, 10})

#: Message type key under which the header's and trailer's groups (NoHops) are kept.
HEADER_KEY = "_header_"
TRAILER_KEY = "_trailer_"


@dataclass
class GroupSpec:
    """One repeating group as used in one place: delimiter, entry tags, nested groups."""

    count_tag: int
    delimiter: int = 0
    fields: set[int] = field(default_factory=set)
    required: list[int] = field(default_factory=list)
    groups: dict[int, GroupSpec] = field(default_factory=dict)


@dataclass
class MessageSpec:
    """One message type: its top-level tags, required tags (ascending) and groups."""

    msg_type: str
    name: str
    admin: bool
    fields: set[int] = field(default_factory=set)
    required: list[int] = field(default_factory=list)
    groups: dict[int, GroupSpec] = field(default_factory=dict)


@dataclass
class Tables:
    """Everything read from one dictionary file."""

    begin_string: str
    names: dict[int, str]
    types: dict[int, str]
    values: dict[int, frozenset[bytes]]
    header: frozenset[int]
    trailer: frozenset[int]
    messages: dict[str, MessageSpec]
    non_body_groups: dict[str, dict[int, GroupSpec]]


class _Reader:
    """Walks the XML once; ``tag_of`` resolves field names, ``components`` named parts."""

    def __init__(self, root: ElementTree.Element) -> None:
        self.tag_of: dict[str, int] = {}
        for node in root.findall("./fields/field"):
            self.tag_of[node.attrib["name"]] = int(node.attrib["number"])
        self.components = {node.attrib["name"]: node
                           for node in root.findall("./components/component")}

    def tag(self, node: ElementTree.Element) -> int:
        name = node.attrib["name"]
        if name not in self.tag_of:
            raise ValueError(f"field {name} is not defined in <fields>")
        return self.tag_of[name]

    def add_component(self, node: ElementTree.Element, target: MessageSpec | GroupSpec,
                      message_required: set[int], component_required: bool) -> int:
        """Adds a component's parts to ``target``; returns its first direct field (or 0)."""
        component = self.components.get(node.attrib["name"])
        if component is None:
            raise ValueError(f"component {node.attrib['name']} is not defined")
        first = 0
        for child in component:
            if child.tag in ("field", "group"):
                tag = self.tag(child)
                first = first or tag
                if _required(child) and component_required:
                    message_required.add(tag)
                target.fields.add(tag)
            if child.tag == "component":
                self.add_component(child, target, message_required, _required(child))
            elif child.tag == "group":
                self.add_group(child, target, message_required, _required(child))
        return first

    def add_group(self, node: ElementTree.Element, target: MessageSpec | GroupSpec,
                  message_required: set[int], group_required: bool) -> None:
        """Adds the group ``node`` opens to ``target.groups`` (a group needs a delimiter)."""
        spec = GroupSpec(self.tag(node))
        required: set[int] = set()
        for child in node:
            tag = 0
            if child.tag in ("field", "group"):
                tag = self.tag(child)
                spec.fields.add(tag)
                if _required(child) and group_required:
                    required.add(tag)
                if child.tag == "group":
                    self.add_group(child, spec, message_required, _required(child))
            elif child.tag == "component":
                tag = self.add_component(child, spec, message_required, False)
            spec.delimiter = spec.delimiter or tag
        spec.required = sorted(required)
        if spec.delimiter:
            target.groups[spec.count_tag] = spec

    def read_message(self, node: ElementTree.Element) -> MessageSpec:
        spec = MessageSpec(node.attrib["msgtype"], node.attrib.get("name", ""),
                           node.attrib.get("msgcat") == "admin")
        required: set[int] = set()
        for child in node:
            if child.tag in ("field", "group"):
                tag = self.tag(child)
                spec.fields.add(tag)
                if _required(child):
                    required.add(tag)
            if child.tag == "component":
                self.add_component(child, spec, required, _required(child))
            elif child.tag == "group":
                self.add_group(child, spec, required, _required(child))
        spec.required = sorted(required)
        return spec

    def read_non_body(self, section: ElementTree.Element | None) -> tuple[set[int], MessageSpec]:
        """The header's or trailer's tags, and a holder for its groups."""
        holder = MessageSpec("", "", True)
        tags: set[int] = set()
        for child in section if section is not None else ():
            if child.tag in ("field", "group"):
                tags.add(self.tag(child))
            if child.tag == "group":
                self.add_group(child, holder, set(), _required(child))
        return tags, holder


def _required(node: ElementTree.Element) -> bool:
    return node.attrib.get("required", "N") in ("Y", "y")


def load_tables(path: str | Path) -> Tables:
    """Reads one QuickFIX data dictionary file. Linear in the file's size."""
    root = ElementTree.parse(path).getroot()
    if root.tag != "fix":
        raise ValueError(f"{path}: the root element is <{root.tag}>, not <fix>")
    kind = root.attrib.get("type", "FIX")
    begin_string = f"{kind}.{root.attrib['major']}.{root.attrib['minor']}"
    names: dict[int, str] = {}
    types: dict[int, str] = {}
    values: dict[int, frozenset[bytes]] = {}
    for node in root.findall("./fields/field"):
        tag = int(node.attrib["number"])
        names[tag] = node.attrib["name"]
        types[tag] = node.attrib["type"]
        enums = [value.attrib["enum"].encode() for value in node.findall("value")]
        if enums:
            values[tag] = frozenset(enums)
    reader = _Reader(root)
    header, header_groups = reader.read_non_body(root.find("header"))
    trailer, trailer_groups = reader.read_non_body(root.find("trailer"))
    messages = {}
    for node in root.findall("./messages/message"):
        spec = reader.read_message(node)
        messages[spec.msg_type] = spec
    return Tables(begin_string, names, types, values, BUILT_IN_HEADER | header,
                  BUILT_IN_TRAILER | trailer,
                  messages, {HEADER_KEY: header_groups.groups,
                             TRAILER_KEY: trailer_groups.groups})
