"""Comparing a received FIX message with a script's expected one: lenient and strict.

Part of the conformance runner (``venue.gateways.fix.conformance``).

- **lenient** (QuickFIX/J's acceptance test, venue's bar): the fields as multisets of
  (tag, value), order free; the values of 9, 10, 52, 60 and 122 ignored (the tag must still be
  on both sides); Text(58) received must start with the expected text; extra or missing tags
  fail.
- **strict** (QuickFIX's ``at``): the same fields in the same order with the same values,
  except the tags listed in ``fields.fmt`` (10, 42, 52, 60, 122), whose received values only
  have to match that file's patterns.

Each comparison returns None for a match, else the reason as text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

LENIENT_IGNORED_VALUE_TAGS = frozenset({"9", "10", "52", "60", "122"})
TEXT_TAG = "58"
#: The contents of QuickFIX's ``test/definitions/server/fields.fmt`` (used when the file is
#: not beside the scripts).
DEFAULT_FIELD_PATTERNS_TEXT = "\n".join((
    r"10=\d{3}",
    r"42=\d{8}-\d{2}:\d{2}:\d{2}",
    r"52=\d{8}-\d{2}:\d{2}:\d{2}|\d{8}-\d{2}:\d{2}:\d{2}[.]\d{3}",
    r"60=\d{8}-\d{2}:\d{2}:\d{2}",
    r"122=\d{8}-\d{2}:\d{2}:\d{2}",
))

Field = tuple[str, str]
FieldPatterns = Mapping[str, re.Pattern[str]]


def parse_field_patterns(text: str) -> dict[str, re.Pattern[str]]:
    """``fields.fmt``: one ``tag=regex`` a line (blank lines skipped) as {tag: pattern}.

    The pattern is everything after the first '='. Like QuickFIX's comparator, a value
    matches when the pattern is found anywhere in it (not anchored), so the 122 pattern
    accepts a time with milliseconds.

    >>> patterns = parse_field_patterns("10=\\\\d{3}\\n")
    >>> sorted(patterns), bool(patterns["10"].search("123"))
    (['10'], True)
    """
    patterns = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == "":
            continue
        tag, separator, pattern = line.partition("=")
        if separator == "" or not tag.strip().isdigit():
            raise ValueError(f"fields.fmt line {line_number}: expected tag=pattern: {line!r}")
        patterns[tag.strip()] = re.compile(pattern)
    return patterns


def load_field_patterns(path: str | Path | None = None) -> dict[str, re.Pattern[str]]:
    """The patterns of the ``fields.fmt`` at ``path``, or QuickFIX's own when None."""
    if path is None:
        return parse_field_patterns(DEFAULT_FIELD_PATTERNS_TEXT)
    return parse_field_patterns(Path(path).read_text(encoding="ascii"))


def parse_fields(message: bytes) -> list[Field]:
    """The (tag, value) pairs of a message, in order; a field without '=' has value ''.

    >>> parse_fields(b"8=FIX.4.4\\x0158=a=b\\x01junk\\x01")
    [('8', 'FIX.4.4'), ('58', 'a=b'), ('junk', '')]
    """
    text = message.decode("latin-1")
    if text.endswith("\x01"):
        text = text[:-1]
    fields = []
    for field in text.split("\x01"):
        tag, _, value = field.partition("=")
        fields.append((tag, value))
    return fields


def _show(fields: list[Field] | Counter[Field]) -> str:
    return "|".join(f"{tag}={value}" for tag, value in fields)


def compare_lenient(expected: bytes, received: bytes) -> str | None:
    """None if ``received`` matches ``expected`` leniently, else what differs.

    Complexity: O(n log n) in the number of fields.

    >>> compare_lenient(b"35=0\\x0152=X\\x0158=Bad\\x01", b"58=Bad tag\\x0135=0\\x0152=Y\\x01")
    >>> compare_lenient(b"35=0\\x0134=2\\x01", b"35=0\\x0134=3\\x01")
    'missing 34=2; unexpected 34=3'
    """
    def normalised(fields: list[Field]) -> Counter[Field]:
        return Counter((tag, "" if tag in LENIENT_IGNORED_VALUE_TAGS else value)
                       for tag, value in fields if tag != TEXT_TAG)

    expected_fields, received_fields = parse_fields(expected), parse_fields(received)
    missing = normalised(expected_fields) - normalised(received_fields)
    unexpected = normalised(received_fields) - normalised(expected_fields)
    reasons = []
    if missing:
        reasons.append(f"missing {_show(sorted(missing.elements()))}")
    if unexpected:
        reasons.append(f"unexpected {_show(sorted(unexpected.elements()))}")
    expected_texts = [value for tag, value in expected_fields if tag == TEXT_TAG]
    received_texts = [value for tag, value in received_fields if tag == TEXT_TAG]
    if len(expected_texts) != len(received_texts) or not all(
            received.startswith(wanted) for wanted, received in
            zip(expected_texts, received_texts, strict=True)):
        reasons.append(f"Text(58) {expected_texts!r} expected as prefix of {received_texts!r}")
    return "; ".join(reasons) if reasons else None


def compare_strict(expected: bytes, received: bytes, patterns: FieldPatterns) -> str | None:
    """None if ``received`` has ``expected``'s fields in order with its values, else why.

    Tags in ``patterns`` need only a received value the pattern matches (found anywhere in
    it). Complexity: O(n) in the number of fields.

    >>> patterns = load_field_patterns()
    >>> compare_strict(b"35=0\\x0152=0\\x01", b"35=0\\x0152=20260101-00:00:00.123\\x01", patterns)
    >>> compare_strict(b"35=0\\x0134=2\\x01", b"34=2\\x0135=0\\x01", patterns)
    'field 1: expected tag 35, received 34=2'
    """
    expected_fields, received_fields = parse_fields(expected), parse_fields(received)
    if len(expected_fields) != len(received_fields):
        return (f"{len(expected_fields)} fields expected, {len(received_fields)} received")
    for index, ((tag, value), (received_tag, received_value)) in enumerate(
            zip(expected_fields, received_fields, strict=True), start=1):
        if tag != received_tag:
            return f"field {index}: expected tag {tag}, received {received_tag}={received_value}"
        pattern = patterns.get(tag)
        if pattern is None and value != received_value:
            return f"field {index}: expected {tag}={value}, received {tag}={received_value}"
        if pattern is not None and pattern.search(received_value) is None:
            return (f"field {index}: {tag}={received_value} does not match the pattern "
                    f"{pattern.pattern!r}")
    return None
