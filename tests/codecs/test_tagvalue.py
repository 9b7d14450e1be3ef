"""FIX tag=value: encoding, round trips, streaming and data fields, for both twins.

Every test is parametrized over the pure-Python and the compiled implementation (imported
directly, so a missing build fails here instead of skipping). Messages are written with '|'
for SOH; expected BodyLength and CheckSum are computed here with ``len`` and
``sum(...) % 256``, independently of the codec.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venue.codecs._tagvalue import DATA_LENGTH_TAGS as CY_DATA_LENGTH_TAGS
from venue.codecs._tagvalue import CyFixMessage, CyFixParser, cy_encode
from venue.codecs.tagvalue import (
    DATA_LENGTH_TAGS,
    IMPLEMENTATION,
    FixParser,
    PyFixMessage,
    PyFixParser,
    checksum,
    encode,
    py_encode,
)

PARSERS = [pytest.param(PyFixParser, id="python"), pytest.param(CyFixParser, id="cython")]
ENCODERS = [pytest.param(py_encode, id="python"), pytest.param(cy_encode, id="cython")]


def tr(text: str) -> bytes:
    """'|' to SOH, like ``tr '|' '\\001'``."""
    return text.replace("|", "\x01").encode()


def frame(body: str, begin: str = "FIX.4.4") -> bytes:
    """A well-formed message around ``body`` (from 35= on, '|' for SOH), built by hand."""
    body_bytes = tr(body)
    head = b"8=" + begin.encode() + b"\x019=" + str(len(body_bytes)).encode() + b"\x01"
    head += body_bytes
    return head + b"10=" + f"{sum(head) % 256:03d}".encode() + b"\x01"


def drain(parser) -> list:
    messages = []
    while (message := parser.next()) is not None:
        messages.append(message)
    return messages


def parse_all(cls: type, stream: bytes, chunks: list[int] | None = None, **options) -> list:
    parser = cls(**options)
    messages = []
    position = 0
    for size in chunks or [len(stream)]:
        parser.feed(stream[position:position + size])
        position += size
        messages += drain(parser)
    parser.feed(stream[position:])
    return [*messages, *drain(parser)]


LOGON = ("35=A|34=1|49=CLIENT|56=VENUE|52=20261202-03:00:00.000|98=0|108=30|")
LOGON_BODY = [(35, "A"), (34, 1), (49, b"CLIENT"), (56, "VENUE"),
              (52, b"20261202-03:00:00.000"), (98, 0), (108, 30)]


def test_checksum_is_the_sum_of_the_bytes_mod_256() -> None:
    assert checksum(b"") == 0
    assert checksum(bytes([255, 2])) == 1
    assert checksum(tr("8=FIX.4.4|")) == sum(b"8=FIX.4.4\x01") % 256 == 33


def test_the_data_length_tables_of_the_twins_agree() -> None:
    assert CY_DATA_LENGTH_TAGS == DATA_LENGTH_TAGS
    assert DATA_LENGTH_TAGS[95] == 96 and DATA_LENGTH_TAGS[93] == 89


def test_the_active_twin_is_the_compiled_one_unless_python_was_asked_for() -> None:
    expected = (CyFixParser, cy_encode) if IMPLEMENTATION == "cython" else (
        PyFixParser, py_encode)
    assert (FixParser, encode) == expected


@pytest.mark.parametrize("encode_", ENCODERS)
def test_a_heartbeat_encodes_to_hand_counted_bytes(encode_) -> None:
    # 35=0| is 5 bytes; 8=FIX.4.4|9=5|35=0| sums to 163 (mod 256)
    assert encode_(b"FIX.4.4", [(35, b"0")]) == tr("8=FIX.4.4|9=5|35=0|10=163|")


@pytest.mark.parametrize("encode_", ENCODERS)
def test_a_logon_encodes_with_its_body_length_and_checksum(encode_) -> None:
    # 5 + 5 + 10 + 9 + 25 + 5 + 7 bytes of body
    head = tr("8=FIX.4.4|9=66|" + LOGON)
    expected = head + f"10={sum(head) % 256:03d}|".replace("|", "\x01").encode()
    assert encode_(b"FIX.4.4", LOGON_BODY) == expected == frame(LOGON)


@pytest.mark.parametrize("encode_", ENCODERS)
def test_values_may_be_bytes_str_as_utf8_or_int(encode_) -> None:
    body = [(35, "D"), (58, "café"), (38, -12), (44, b"1.5"), (1, 10**30), (2, True)]
    assert encode_(b"FIX.4.2", body) == frame(
        f"35=D|58=café|38=-12|44=1.5|1={10**30}|2=1|", begin="FIX.4.2")


@pytest.mark.parametrize("encode_", ENCODERS)
def test_encode_takes_any_iterable_of_pairs_and_long_messages(encode_) -> None:
    text = "x" * 10_000
    expected = frame(f"35=B|148={text}|")
    assert encode_(b"FIX.4.4", iter([(35, "B"), (148, text)])) == expected
    assert encode_(b"FIX.4.4", ((35, "B"), [148, text])) == expected


@pytest.mark.parametrize("encode_", ENCODERS)
@pytest.mark.parametrize(("begin", "body", "error"), [
    (b"FIX.4.4", [], ValueError),
    (b"FIX.4.4", [(49, "A"), (35, "0")], ValueError),
    (b"FIX.4.4", [(35, "0"), (44, 1.5)], TypeError),
    (b"FIX.4.4", [(35, "0"), ("44", b"1")], TypeError),
    ("FIX.4.4", [(35, "0")], TypeError),
    (b"FIX.4.4", [(35, "0"), (58, "\ud800")], UnicodeEncodeError),
])
def test_encode_refuses_what_is_not_a_message(encode_, begin, body, error) -> None:
    with pytest.raises(error):
        encode_(begin, body)


@pytest.mark.parametrize("cls", PARSERS)
def test_message_size_max_below_64_is_refused(cls) -> None:
    with pytest.raises(ValueError):
        cls(message_size_max=63)
    with pytest.raises(ValueError):
        cls(message_size_max=2**30 + 1)
    assert cls(message_size_max=64).message_size_max == 64


@pytest.mark.parametrize("encode_", ENCODERS)
@pytest.mark.parametrize("cls", PARSERS)
def test_encode_then_parse_gives_the_same_fields(cls, encode_) -> None:
    raw = encode_(b"FIX.4.4", LOGON_BODY)
    (message,) = parse_all(cls, raw)
    assert message.garbled == ""
    assert message.raw == raw
    body = [(tag, value if isinstance(value, bytes) else str(value).encode())
            for tag, value in LOGON_BODY]
    checksum_value = f"{sum(raw[:-7]) % 256:03d}".encode()
    assert message.fields() == [(8, b"FIX.4.4"), (9, b"66"), *body, (10, checksum_value)]


@pytest.mark.parametrize("cls", PARSERS)
def test_message_accessors(cls) -> None:
    (message,) = parse_all(cls, frame("35=D|11=A1|11=A2|58=|"))
    assert isinstance(message, PyFixMessage | CyFixMessage)
    assert (message.begin_string, message.msg_type) == (b"FIX.4.4", b"D")
    assert len(message) == 7
    assert [message.tag(i) for i in range(len(message))] == [8, 9, 35, 11, 11, 58, 10]
    assert (message.value(3), message.value(5), message.tag(-1)) == (b"A1", b"", 10)
    assert message.get(11) == b"A1" and message.get(58) == b""
    assert message.get(999) is None and message.get(999, b"none") == b"none"
    with pytest.raises(IndexError):
        message.tag(7)
    with pytest.raises(IndexError):
        message.value(-8)


@pytest.mark.parametrize("cls", PARSERS)
def test_empty_values_tag_zero_and_negative_tags_parse_without_garbling(cls) -> None:
    (message,) = parse_all(cls, frame("35=0|56=|0=x|-1=y|007=z|"))
    assert message.garbled == ""
    assert message.fields()[3:7] == [(56, b""), (0, b"x"), (-1, b"y"), (7, b"z")]


STREAM = b"".join([
    frame(LOGON), frame("35=0|34=2|"), frame("35=B|148=news|95=7|96=a|10=1||58=x|"),
    frame("35=D|34=3|11=A|55=EURUSD|54=1|38=100|40=2|44=1.25|"), frame("35=5|58=|"),
])
STREAM_FIELDS = [message.fields() for message in parse_all(PyFixParser, STREAM)]


def test_the_reference_stream_parses_into_five_well_formed_messages() -> None:
    messages = parse_all(PyFixParser, STREAM)
    assert [message.msg_type for message in messages] == [b"A", b"0", b"B", b"D", b"5"]
    assert all(message.garbled == "" for message in messages)
    assert b"".join(message.raw for message in messages) == STREAM


@pytest.mark.parametrize("cls", PARSERS)
def test_one_byte_at_a_time_gives_the_same_messages(cls) -> None:
    parser = cls()
    messages = []
    for byte in STREAM:
        parser.feed(bytes([byte]))
        messages += drain(parser)
        assert parser.buffered < 200
    assert [message.fields() for message in messages] == STREAM_FIELDS
    assert (parser.buffered, parser.discarded_bytes) == (0, 0)


@pytest.mark.parametrize("cls", PARSERS)
@pytest.mark.parametrize("seed", range(20))
def test_random_chunks_give_the_same_messages(cls, seed: int) -> None:
    rng = random.Random(seed)
    chunks = [rng.randint(0, 40) for _ in range(len(STREAM) // 10)]
    assert [message.fields() for message in parse_all(cls, STREAM, chunks)] == STREAM_FIELDS


@pytest.mark.parametrize("cls", PARSERS)
def test_a_partial_message_waits_for_the_rest(cls) -> None:
    parser = cls()
    raw = frame("35=0|")
    parser.feed(raw[:-1])
    assert parser.next() is None
    assert parser.buffered == len(raw) - 1
    parser.feed(raw[-1:])
    assert parser.next().raw == raw
    assert parser.next() is None and parser.buffered == 0


@pytest.mark.parametrize("cls", PARSERS)
def test_a_data_field_holds_soh_and_what_looks_like_a_checksum(cls) -> None:
    (message,) = parse_all(cls, frame("35=B|95=7|96=a|10=1||58=x|"))
    assert message.garbled == ""
    assert message.get(96) == b"a\x0110=1\x01"
    assert message.fields()[3:6] == [(95, b"7"), (96, b"a\x0110=1\x01"), (58, b"x")]


@pytest.mark.parametrize("cls", PARSERS)
@pytest.mark.parametrize(("length_tag", "data_tag"), sorted(DATA_LENGTH_TAGS.items()))
def test_every_data_length_tag_announces_its_data_tag(cls, length_tag, data_tag) -> None:
    (message,) = parse_all(cls, frame(f"35=n|{length_tag}=3|{data_tag}=||||"))
    assert message.garbled == ""
    assert message.get(data_tag) == b"\x01\x01\x01"


@pytest.mark.parametrize("cls", PARSERS)
def test_a_data_length_that_is_no_number_or_not_followed_by_its_data_parses_normally(
        cls) -> None:
    first, second = parse_all(cls, frame("35=B|95=x|96=a|58=b|") + frame("35=B|95=3|58=a|"))
    assert first.garbled == "" and first.fields()[3:6] == [(95, b"x"), (96, b"a"), (58, b"b")]
    assert second.garbled == "" and second.fields()[3:5] == [(95, b"3"), (58, b"a")]


@pytest.mark.parametrize("cls", PARSERS)
def test_a_data_field_shorter_than_announced_is_garbled(cls) -> None:
    (message,) = parse_all(cls, frame("35=B|95=5|96=ab|58=x|"))
    assert message.garbled == "data field 96 is not 5 bytes"
    assert message.get(96) == b"ab" and message.get(58) == b"x"


@given(st.lists(st.tuples(st.integers(1, 2000), st.binary(max_size=30).filter(
    lambda value: b"\x01" not in value)), max_size=20), st.data())
def test_random_bodies_round_trip_through_both_twins_in_any_chunking(body, data) -> None:
    full_body = [(35, b"U1"), *body]
    raw = py_encode(b"FIX.4.4", full_body)
    assert cy_encode(b"FIX.4.4", full_body) == raw
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8))
    chunks = [b - a for a, b in itertools.pairwise([0, *sorted(cuts)])]
    for cls in (PyFixParser, CyFixParser):
        (message,) = parse_all(cls, raw, chunks)
        assert message.garbled == ""
        assert message.fields()[2:-1] == full_body
