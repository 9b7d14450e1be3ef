"""Length-prefixed framing: a 4-byte big-endian length, then the payload.

Every decoder test runs against the pure-Python decoder and, when it is compiled, its Cython
twin (``TestCyFrameDecoder`` subclasses ``TestPyFrameDecoder``; the property tests are
parametrized over both), so the twins cannot drift apart.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from venue.codecs import CodecError, FrameError, FrameTooLarge, FrameTruncated, encode_frame
from venue.codecs.framing import (
    FRAME_SIZE_BYTES_MAX_DEFAULT,
    IMPLEMENTATION,
    CyFrameDecoder,
    FrameDecoder,
    PyFrameDecoder,
)

HEADER_SIZE_BYTES = 4


def header(size_bytes: int) -> bytes:
    return size_bytes.to_bytes(HEADER_SIZE_BYTES, "big")


def model(stream: bytes, frame_size_bytes_max: int) -> tuple[list[bytes], int, int | None]:
    """A deliberately simple decoder of a whole stream: (frames, bytes consumed, announced
    size of the first oversized frame or None)."""
    frames: list[bytes] = []
    position = 0
    while len(stream) - position >= HEADER_SIZE_BYTES:
        size = int.from_bytes(stream[position:position + HEADER_SIZE_BYTES], "big")
        if size > frame_size_bytes_max:
            return frames, position, size
        body = position + HEADER_SIZE_BYTES
        if len(stream) - body < size:
            break
        frames.append(stream[body:body + size])
        position = body + size
    return frames, position, None


def chunked(stream: bytes, cuts: set[int]) -> list[tuple[int, bytes]]:
    """``stream`` split at ``cuts``: (end offset, chunk) pairs, empty chunks included."""
    bounds = [0, *sorted(cuts), len(stream)]
    return [(end, stream[start:end]) for start, end in itertools.pairwise(bounds)]


# a stream of valid frames mixed with loose bytes (which may announce anything)
SEGMENTS = st.one_of(st.binary(max_size=12).map(encode_frame), st.binary(max_size=6))


def test_frame_is_a_big_endian_length_then_the_payload() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"x" * 258)[:HEADER_SIZE_BYTES] == b"\x00\x00\x01\x02"
    assert encode_frame(b"") == b"\x00\x00\x00\x00"


def test_encode_frame_refuses_a_payload_over_the_maximum() -> None:
    assert encode_frame(b"x" * 16, frame_size_bytes_max=16) == header(16) + b"x" * 16
    with pytest.raises(FrameTooLarge) as refused:
        encode_frame(b"x" * 17, frame_size_bytes_max=16)
    assert (refused.value.size_bytes, refused.value.frame_size_bytes_max) == (17, 16)


def test_encode_frame_default_maximum_is_4_mib() -> None:
    assert FRAME_SIZE_BYTES_MAX_DEFAULT == 4 * 1024 * 1024
    assert len(encode_frame(bytes(FRAME_SIZE_BYTES_MAX_DEFAULT))) == (
        FRAME_SIZE_BYTES_MAX_DEFAULT + HEADER_SIZE_BYTES)
    with pytest.raises(FrameTooLarge):
        encode_frame(bytes(FRAME_SIZE_BYTES_MAX_DEFAULT + 1))


def test_frame_errors_are_codec_errors() -> None:
    assert issubclass(FrameTooLarge, FrameError)
    assert issubclass(FrameTruncated, FrameError)
    assert issubclass(FrameError, CodecError)


def test_active_decoder_is_the_one_implementation_names() -> None:
    expected = CyFrameDecoder if IMPLEMENTATION == "cython" else PyFrameDecoder
    assert FrameDecoder is expected


class TestPyFrameDecoder:
    decoder_class: type = PyFrameDecoder

    # -- construction ----------------------------------------------------------------------

    @pytest.mark.parametrize("frame_size_bytes_max", [0, -1, 2**32])
    def test_constructor_refuses_a_maximum_outside_1_to_2_32(self, frame_size_bytes_max: int
                                                            ) -> None:
        with pytest.raises(ValueError, match="frame_size_bytes_max"):
            self.decoder_class(frame_size_bytes_max=frame_size_bytes_max)

    @pytest.mark.parametrize("frame_size_bytes_max", [1, 2**32 - 1])
    def test_constructor_accepts_the_range_ends(self, frame_size_bytes_max: int) -> None:
        decoder = self.decoder_class(frame_size_bytes_max=frame_size_bytes_max)
        assert decoder.frame_size_bytes_max == frame_size_bytes_max
        assert decoder.buffered_bytes == 0

    def test_default_maximum_is_the_module_default(self) -> None:
        assert self.decoder_class().frame_size_bytes_max == FRAME_SIZE_BYTES_MAX_DEFAULT

    # -- whole frames ----------------------------------------------------------------------

    def test_frames_in_one_chunk_come_out_in_order(self) -> None:
        decoder = self.decoder_class()
        stream = encode_frame(b"first") + encode_frame(b"") + encode_frame(b"third")
        assert decoder.receive_data(stream) == [b"first", b"", b"third"]
        assert decoder.buffered_bytes == 0
        assert decoder.receive_data(b"") == []

    def test_frame_of_exactly_the_maximum_is_accepted(self) -> None:
        decoder = self.decoder_class(frame_size_bytes_max=8)
        assert decoder.receive_data(encode_frame(b"12345678")) == [b"12345678"]

    def test_bytearray_and_memoryview_chunks_are_accepted(self) -> None:
        decoder = self.decoder_class()
        stream = encode_frame(b"hello")
        assert decoder.receive_data(bytearray(stream[:3])) == []
        assert decoder.receive_data(memoryview(stream)[3:]) == [b"hello"]

    def test_frames_arrive_byte_by_byte(self) -> None:
        decoder = self.decoder_class()
        payloads = [b"a", b"", b"bcd" * 100]
        stream = b"".join(encode_frame(payload) for payload in payloads)
        received = [frame for byte in stream for frame in decoder.receive_data(bytes([byte]))]
        assert received == payloads

    # -- oversized frames ------------------------------------------------------------------

    def test_oversized_frame_is_refused_as_soon_as_its_header_arrives(self) -> None:
        decoder = self.decoder_class(frame_size_bytes_max=16)
        assert decoder.receive_data(header(17)[:3]) == []
        with pytest.raises(FrameTooLarge) as refused:
            decoder.receive_data(header(17)[3:])
        assert (refused.value.size_bytes, refused.value.frame_size_bytes_max) == (17, 16)
        assert decoder.buffered_bytes == 0

    def test_largest_announced_size_is_refused_by_the_default_maximum(self) -> None:
        with pytest.raises(FrameTooLarge) as refused:
            self.decoder_class().receive_data(b"\xff\xff\xff\xff")
        assert refused.value.size_bytes == 2**32 - 1

    def test_decoder_refuses_all_input_after_an_oversized_frame(self) -> None:
        decoder = self.decoder_class(frame_size_bytes_max=16)
        assert decoder.receive_data(encode_frame(b"fine")) == [b"fine"]
        with pytest.raises(FrameTooLarge):
            decoder.receive_data(header(1000) + b"body")
        with pytest.raises(FrameTooLarge):
            decoder.receive_data(encode_frame(b"ok"))
        with pytest.raises(FrameTooLarge):
            decoder.receive_data(b"")
        with pytest.raises(FrameTooLarge):
            decoder.eof()

    # -- end of stream ---------------------------------------------------------------------

    def test_eof_with_nothing_buffered_is_clean(self) -> None:
        decoder = self.decoder_class()
        assert decoder.eof() is None
        decoder = self.decoder_class()
        assert decoder.receive_data(encode_frame(b"whole")) == [b"whole"]
        assert decoder.eof() is None

    def test_eof_inside_the_header_is_truncation(self) -> None:
        decoder = self.decoder_class()
        assert decoder.receive_data(header(10)[:2]) == []
        with pytest.raises(FrameTruncated) as truncated:
            decoder.eof()
        assert (truncated.value.have_bytes, truncated.value.need_bytes) == (2, 4)

    def test_eof_inside_the_body_is_truncation(self) -> None:
        decoder = self.decoder_class()
        assert decoder.receive_data(encode_frame(b"done") + header(10) + b"abc") == [b"done"]
        with pytest.raises(FrameTruncated) as truncated:
            decoder.eof()
        assert (truncated.value.have_bytes, truncated.value.need_bytes) == (7, 14)

    def test_decoder_refuses_all_input_after_truncation(self) -> None:
        decoder = self.decoder_class()
        decoder.receive_data(header(10) + b"abc")
        with pytest.raises(FrameTruncated):
            decoder.eof()
        with pytest.raises(FrameTruncated):
            decoder.receive_data(b"defghij")
        with pytest.raises(FrameTruncated):
            decoder.eof()


if CyFrameDecoder is not None:  # not compiled: framing.py already warned loudly at import

    class TestCyFrameDecoder(TestPyFrameDecoder):
        decoder_class = CyFrameDecoder


# -- properties (module level: hypothesis refuses one test method run by two classes) ------

DECODER_CLASSES = [PyFrameDecoder, *([CyFrameDecoder] if CyFrameDecoder is not None else [])]


@pytest.mark.parametrize("decoder_class", DECODER_CLASSES, ids=lambda cls: cls.__name__)
@given(payloads=st.lists(st.binary(max_size=300), max_size=20), data=st.data())
def test_frames_split_at_any_boundaries_reassemble(decoder_class: type, payloads: list[bytes],
                                                  data: st.DataObject) -> None:
    """After each chunk, exactly the frames whose last byte has arrived are out."""
    stream = b"".join(encode_frame(payload) for payload in payloads)
    frame_ends = list(itertools.accumulate(HEADER_SIZE_BYTES + len(p) for p in payloads))
    cuts = data.draw(st.sets(st.integers(min_value=0, max_value=len(stream))))
    decoder = decoder_class(frame_size_bytes_max=300)
    received: list[bytes] = []
    for end, chunk in chunked(stream, cuts):
        received += decoder.receive_data(chunk)
        complete = sum(1 for frame_end in frame_ends if frame_end <= end)
        assert received == payloads[:complete]
        consumed = frame_ends[complete - 1] if complete else 0
        assert decoder.buffered_bytes == end - consumed
    decoder.eof()


@pytest.mark.parametrize("decoder_class", DECODER_CLASSES, ids=lambda cls: cls.__name__)
@given(segments=st.lists(SEGMENTS, max_size=12), data=st.data())
def test_arbitrary_streams_match_the_simple_model(decoder_class: type, segments: list[bytes],
                                                 data: st.DataObject) -> None:
    """Frames, the oversized-frame error and the truncation error all happen exactly
    where a whole-stream parse says they must, whatever the chunking."""
    stream = b"".join(segments)
    frame_size_bytes_max = data.draw(st.integers(min_value=1, max_value=12))
    cuts = data.draw(st.sets(st.integers(min_value=0, max_value=len(stream))))
    decoder = decoder_class(frame_size_bytes_max=frame_size_bytes_max)
    received: list[bytes] = []
    for end, chunk in chunked(stream, cuts):
        frames, consumed, oversized = model(stream[:end], frame_size_bytes_max)
        if oversized is not None:
            with pytest.raises(FrameTooLarge) as refused:
                decoder.receive_data(chunk)
            assert refused.value.size_bytes == oversized
            return
        received += decoder.receive_data(chunk)
        assert received == frames
        assert decoder.buffered_bytes == end - consumed
    leftover = len(stream) - model(stream, frame_size_bytes_max)[1]
    if leftover:
        with pytest.raises(FrameTruncated) as truncated:
            decoder.eof()
        assert truncated.value.have_bytes == leftover
    else:
        decoder.eof()
