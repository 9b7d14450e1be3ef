"""FIX tag=value: every garbled-message rule, recovery after it, and the property that no
input makes either twin raise or the two twins differ (parsed fields, reasons, raw bytes,
discarded and buffered counts, for the same input in the same chunks)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venue.codecs._tagvalue import CyFixParser
from venue.codecs.tagvalue import PyFixParser

from .test_tagvalue import PARSERS, drain, frame, parse_all, tr

GOOD = frame("35=0|34=2|49=CLIENT|56=VENUE|")
LOGON_BODY_BYTES = len("35=A|34=1|98=0|108=30|")


def with_body_length(raw: bytes, length: int) -> bytes:
    """``raw`` with its BodyLength replaced (the CheckSum recomputed, so only 9= is wrong)."""
    head, _, rest = raw.partition(b"\x019=")
    _, _, body = rest.partition(b"\x01")
    body = body[:body.rindex(b"\x0110=") + 1]
    head = head + b"\x019=" + str(length).encode() + b"\x01" + body
    return head + f"10={sum(head) % 256:03d}|".replace("|", "\x01").encode()


def assert_recovers(messages: list, reason: str, count: int = 2) -> None:
    """The first message garbled for ``reason``, the last one ``GOOD`` and well formed."""
    assert len(messages) == count
    assert messages[0].garbled == reason
    assert messages[-1].garbled == "" and messages[-1].raw == GOOD


@pytest.mark.parametrize("cls", PARSERS)
def test_a_short_body_length_finds_the_messages_own_checksum_later(cls) -> None:
    raw = frame("35=A|34=1|98=0|108=30|")
    short = with_body_length(raw, 20)
    messages = parse_all(cls, short + GOOD)
    assert_recovers(messages, f"BodyLength(9) is 20 but the body is {LOGON_BODY_BYTES} bytes")
    assert messages[0].raw == short and messages[0].msg_type == b"A"


@pytest.mark.parametrize("cls", PARSERS)
def test_a_long_body_length_runs_into_the_next_messages_checksum(cls) -> None:
    """As in QuickFIX: the frame ends at the next message's 10=, swallowing that message."""
    raw = frame("35=A|34=1|98=0|108=30|")
    long = with_body_length(raw, 28)
    swallowed = frame("35=1|112=T|")
    messages = parse_all(cls, long + swallowed + GOOD)
    # its own body, its own 10=nnn|, the swallowed message up to its 10=
    actual = LOGON_BODY_BYTES + 7 + len(swallowed) - 7
    assert_recovers(messages, f"BodyLength(9) is 28 but the body is {actual} bytes")
    assert messages[0].raw == long + swallowed
    assert messages[0].get(112) == b"T"


@pytest.mark.parametrize("cls", PARSERS)
@pytest.mark.parametrize(("value", "reason"), [
    (b"256", "CheckSum(10) is 256 but the message sums to {}"),
    (b"0", "CheckSum(10) is 0 but the message sums to {}"),
    (b"ab", "CheckSum(10) is not 1-3 digits"),
    (b"", "CheckSum(10) is not 1-3 digits"),
    (b"0001", "CheckSum(10) is not 1-3 digits"),
])
def test_a_wrong_checksum_is_garbled(cls, value: bytes, reason: str) -> None:
    raw = frame("35=A|34=1|98=0|108=30|")
    bad = raw[:raw.rindex(b"\x0110=") + 4] + value + b"\x01"
    messages = parse_all(cls, bad + GOOD)
    assert_recovers(messages, reason.format(sum(raw[:-7]) % 256))
    assert messages[0].get(10) == value


@pytest.mark.parametrize("cls", PARSERS)
def test_a_checksum_of_one_or_two_digits_with_the_right_value_is_accepted(cls) -> None:
    raw = frame("35=A|34=1|98=0|108=30|")
    total = sum(raw[:-7]) % 256
    (message,) = parse_all(cls, raw[:-4] + str(total).encode() + b"\x01")
    assert message.garbled == ""


@pytest.mark.parametrize("cls", PARSERS)
def test_the_first_three_fields_out_of_order_are_garbled(cls) -> None:
    body = tr("34=1|49=TW|")
    head = tr("8=FIX.4.4|35=0|9=") + str(len(body)).encode() + b"\x01" + body
    raw = head + f"10={sum(head) % 256:03d}|".replace("|", "\x01").encode()
    messages = parse_all(cls, raw + GOOD)
    assert_recovers(messages, "the first three fields are not 8, 9, 35")
    assert messages[0].msg_type == b"0"


@pytest.mark.parametrize("cls", PARSERS)
def test_a_message_without_msg_type_is_garbled(cls) -> None:
    head = tr("8=FIX.4.4|9=5|34=1|")
    messages = parse_all(cls, head + f"10={sum(head) % 256:03d}|".replace(
        "|", "\x01").encode() + GOOD)
    assert_recovers(messages, "the first three fields are not 8, 9, 35")


@pytest.mark.parametrize("cls", PARSERS)
def test_a_field_before_the_start_is_garbage_before_the_message(cls) -> None:
    """``35=0|8=FIX.4.4|9=..`` (QuickFIX's out-of-order case): the bytes before 8= are
    dropped and the message after them is read."""
    messages = parse_all(cls, tr("35=0|") + GOOD)
    assert [message.raw for message in messages] == [GOOD]


@pytest.mark.parametrize("cls", PARSERS)
@pytest.mark.parametrize(("field", "reason"), [
    ("4garbled9=TW", "tag is not a number at byte {}"),
    ("garbled", "field without '=' at byte {}"),
    ("=TW", "tag is not a number at byte {}"),
    ("1234567890=TW", "tag is not a number at byte {}"),
    ("", "field without '=' at byte {}"),
])
def test_a_field_that_is_not_tag_equals_value_is_garbled(cls, field: str, reason: str) -> None:
    raw = frame(f"35=0|34=2|{field}|49=TW|")
    messages = parse_all(cls, raw + GOOD)
    assert_recovers(messages, reason.format(raw.index(b"\x0134=2\x01") + 6))
    assert messages[0].get(49) == b"TW" and messages[0].get(34) == b"2"


@pytest.mark.parametrize("cls", PARSERS)
def test_garbage_before_a_message_is_discarded_and_counted(cls) -> None:
    prefix = b"garbage\x01\x01x8=FIX.4.4\x01junk\x01"
    parser = cls()
    parser.feed(prefix + GOOD)
    assert [message.raw for message in drain(parser)] == [GOOD]
    assert (parser.discarded_bytes, parser.buffered) == (len(prefix), 0)


@pytest.mark.parametrize("cls", PARSERS)
def test_garbage_is_dropped_as_it_arrives_except_a_possible_start(cls) -> None:
    parser = cls()
    parser.feed(b"noise\x01noise\x018")
    assert parser.next() is None
    assert (parser.discarded_bytes, parser.buffered) == (12, 1)
    parser.feed(GOOD[1:])
    assert parser.next().raw == GOOD


@pytest.mark.parametrize("cls", PARSERS)
def test_a_message_larger_than_the_maximum_is_garbled(cls) -> None:
    big = frame("35=B|58=" + "x" * 100 + "|")
    messages = parse_all(cls, big + GOOD, message_size_max=100)
    assert messages[0].garbled == "message larger than 100 bytes"
    assert messages[0].raw == big and messages[0].msg_type == b"B"
    assert_recovers(messages, "message larger than 100 bytes")


@pytest.mark.parametrize("cls", PARSERS)
def test_no_body_length_within_the_maximum_is_garbled_once_that_much_arrived(cls) -> None:
    parser = cls(message_size_max=64)
    junk = b"8=" + b"x" * 70 + b"\x01"
    parser.feed(junk[:60])
    assert parser.next() is None
    parser.feed(junk[60:] + GOOD)
    assert_recovers(drain(parser), "no BodyLength(9) within 64 bytes")
    assert parser.discarded_bytes == 0


@pytest.mark.parametrize("cls", PARSERS)
def test_no_checksum_within_the_maximum_is_garbled(cls) -> None:
    junk = tr("8=FIX.4.4|9=5|35=0|58=") + b"x" * 80 + b"\x01"
    messages = parse_all(cls, junk + GOOD, message_size_max=64)
    assert_recovers(messages, "no CheckSum(10) within 64 bytes")
    assert messages[0].raw == junk and messages[0].get(58) == b"x" * 80


@pytest.mark.parametrize("cls", PARSERS)
@pytest.mark.parametrize("length", ["abc", "-5", "", "+5", " 5", "5x"])
def test_a_body_length_that_is_no_non_negative_integer_is_garbled(cls, length: str) -> None:
    raw = tr(f"8=FIX.4.4|9={length}|35=A|34=1|10=000|")
    messages = parse_all(cls, raw + GOOD)
    assert_recovers(messages, "BodyLength(9) is not a non-negative integer")
    assert messages[0].raw == raw and messages[0].msg_type == b"A"


@pytest.mark.parametrize("cls", PARSERS)
def test_a_huge_body_length_is_larger_than_the_maximum(cls) -> None:
    messages = parse_all(cls, tr("8=FIX.4.4|9=" + "9" * 30 + "|35=A|") + GOOD)
    assert_recovers(messages, "message larger than 65536 bytes")


@pytest.mark.parametrize("cls", PARSERS)
def test_a_garbled_run_longer_than_the_maximum_keeps_all_its_fields(cls) -> None:
    """One read far beyond ``message_size_max``: the garbled message holds every field of
    it (the compiled twin grows its field array for this)."""
    parser = cls(message_size_max=64)
    parser.feed(b"8=" + b"1=\x01" * 1000)
    (message,) = drain(parser)
    assert message.garbled == "no BodyLength(9) within 64 bytes"
    assert len(message) == 1000  # 8=1= then 999 times 1=
    assert message.fields()[:2] == [(8, b"1="), (1, b"")] and message.tag(999) == 1
    assert parser.buffered == 0


# -- the property: never raises, twins agree, every byte accounted for, bounded buffer --

VALID = st.builds(lambda body: frame("35=D|" + body), st.sampled_from(
    ["", "34=1|", "95=3|96=a|b|58=x|", "11=A|55=EURUSD|38=100|", "58=" + "y" * 70 + "|"]))
TOKENS = st.sampled_from([b"\x01", b"8=", b"\x018=", b"\x019=", b"\x0110=", b"=", b"9=12\x01",
                          b"8=FIX.4.4\x019=", b"95=2\x0196=", b"10=000\x01"])


@st.composite
def mutated(draw) -> bytes:
    raw = bytearray(draw(VALID))
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            raw[position] = draw(st.integers(0, 255))
        elif action == "insert":
            raw[position:position] = draw(st.binary(min_size=1, max_size=3))
        else:
            del raw[position]
    return bytes(raw)


SEGMENTS = st.one_of(VALID, mutated(), TOKENS, st.binary(max_size=20))


def observe(cls: type, stream: bytes, cuts: list[int], size_max: int) -> list[object]:
    """Everything visible from outside, chunk by chunk."""
    parser = cls(message_size_max=size_max)
    seen: list[object] = []
    for start, end in itertools.pairwise([0, *sorted(cuts), len(stream)]):
        parser.feed(stream[start:end])
        for message in drain(parser):
            seen.append((message.raw, message.fields(), message.garbled,
                         message.begin_string, message.msg_type, len(message)))
        assert parser.buffered < size_max
        seen.append((parser.buffered, parser.discarded_bytes))
    consumed = sum(len(item[0]) for item in seen if len(item) == 6)
    assert consumed + parser.discarded_bytes + parser.buffered == len(stream)
    return seen


@settings(max_examples=400)
@given(st.lists(SEGMENTS, max_size=12).map(b"".join), st.data(),
       st.sampled_from([64, 100, 65536]))
def test_no_input_makes_the_twins_raise_or_differ(stream: bytes, data, size_max: int) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    python = observe(PyFixParser, stream, cuts, size_max)
    assert observe(CyFixParser, stream, cuts, size_max) == python


@given(st.lists(VALID, max_size=8), st.data())
def test_valid_messages_come_out_whole_in_any_chunking(messages: list[bytes], data) -> None:
    stream = b"".join(messages)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    chunks = [b - a for a, b in itertools.pairwise([0, *sorted(cuts)])]
    for cls in (PyFixParser, CyFixParser):
        parsed = parse_all(cls, stream, chunks)
        assert [message.raw for message in parsed] == messages
        assert all(message.garbled == "" for message in parsed)
