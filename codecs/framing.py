"""Sans-I/O length-prefixed framing: a 4-byte big-endian length, then that many bytes.

Two implementations with one API: ``PyFrameDecoder`` (here) and its compiled twin
``CyFrameDecoder`` (``_framing.pyx``). ``FrameDecoder`` is the active one, named by
``IMPLEMENTATION``; set ``VENUE_PURE_PYTHON=1`` to force the pure-Python one.

``FrameDecoder`` takes bytes as they arrive and returns whole frames. A frame announced
larger than ``frame_size_bytes_max`` raises ``FrameTooLarge`` before any of it is buffered;
``eof()`` raises ``FrameTruncated`` if the stream ended inside a frame. After an error the
decoder refuses further input: the stream cannot be resynchronised and must be closed.
"""

from __future__ import annotations

import struct

import msgspec

from venue import select_twin

from .errors import FrameError, FrameTooLarge, FrameTruncated

HEADER = struct.Struct(">I")
HEADER_SIZE_BYTES = HEADER.size
FRAME_SIZE_BYTES_MAX_DEFAULT = 4 * 1024 * 1024


def encode_frame(payload: bytes, frame_size_bytes_max: int = FRAME_SIZE_BYTES_MAX_DEFAULT
                 ) -> bytes:
    """Prefix ``payload`` with its length. O(n) copy."""
    if len(payload) > frame_size_bytes_max:
        raise FrameTooLarge(len(payload), frame_size_bytes_max)
    return HEADER.pack(len(payload)) + payload


class PyFrameDecoder:
    """Split a byte stream into frames.

    >>> decoder = PyFrameDecoder(frame_size_bytes_max=16)
    >>> decoder.receive_data(encode_frame(b"ab") + encode_frame(b"c")[:3])
    [b'ab']
    >>> decoder.receive_data(encode_frame(b"c")[3:])
    [b'c']
    """

    def __init__(self, frame_size_bytes_max: int = FRAME_SIZE_BYTES_MAX_DEFAULT) -> None:
        if frame_size_bytes_max <= 0 or frame_size_bytes_max >= 2**32:
            raise ValueError(f"frame_size_bytes_max must be in 1..2**32-1, "
                             f"got {frame_size_bytes_max}")
        self.frame_size_bytes_max = frame_size_bytes_max
        self._buffer = bytearray()
        self._failed: FrameError | None = None

    @property
    def buffered_bytes(self) -> int:
        return len(self._buffer)

    def receive_data(self, data: bytes) -> list[bytes]:
        """Append ``data``; return every frame now complete, in order. Amortised O(n)."""
        if self._failed is not None:
            raise self._failed
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        start = 0
        end = len(buffer)
        while end - start >= HEADER_SIZE_BYTES:
            (size,) = HEADER.unpack_from(buffer, start)
            if size > self.frame_size_bytes_max:
                self._failed = FrameTooLarge(size, self.frame_size_bytes_max)
                del buffer[:]
                raise self._failed
            if end - start - HEADER_SIZE_BYTES < size:
                break
            body = start + HEADER_SIZE_BYTES
            frames.append(bytes(buffer[body:body + size]))
            start = body + size
        if start:
            del buffer[:start]
        return frames

    def eof(self) -> None:
        """The stream ended; raise ``FrameTruncated`` if a frame was cut short."""
        if self._failed is not None:
            raise self._failed
        if self._buffer:
            have = len(self._buffer)
            need = HEADER_SIZE_BYTES
            if have >= HEADER_SIZE_BYTES:
                need += HEADER.unpack_from(self._buffer, 0)[0]
            self._failed = FrameTruncated(have, need)
            raise self._failed


FrameDecoder, CyFrameDecoder, IMPLEMENTATION = select_twin(
    "venue.codecs._framing", "CyFrameDecoder", PyFrameDecoder)


_channel_encoder = msgspec.msgpack.Encoder()


class FramedChannel:
    """Sans-I/O framing of one connection: msgpack messages out as frames, frames in as
    bytes (for the caller's typed decoder). ``FrameError`` from ``receive_data`` means the
    stream is unusable: close the connection."""

    def __init__(self, frame_size_bytes_max: int = FRAME_SIZE_BYTES_MAX_DEFAULT) -> None:
        self.frame_size_bytes_max = frame_size_bytes_max
        self._decoder = FrameDecoder(frame_size_bytes_max)
        self._out = bytearray()

    @property
    def buffered_bytes(self) -> int:
        return self._decoder.buffered_bytes

    @property
    def output_bytes(self) -> int:
        """Bytes written and not yet taken by ``data_to_send``."""
        return len(self._out)

    def reset(self) -> None:
        """A new connection: forget partial input and unsent output."""
        self._decoder = FrameDecoder(self.frame_size_bytes_max)
        self._out.clear()

    def write(self, message: object) -> None:
        self._out += encode_frame(_channel_encoder.encode(message), self.frame_size_bytes_max)

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def receive_data(self, data: bytes) -> list[bytes]:
        return self._decoder.receive_data(data)
