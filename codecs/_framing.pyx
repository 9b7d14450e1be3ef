# cython: language_level=3, boundscheck=False, wraparound=False
"""Cython twin of ``venue.codecs.framing.PyFrameDecoder``: same API, same errors.

The frame scan is the per-message cost of every connection (client ingress, egress, peers);
it is compiled because ``scripts/bench_framing.py`` measured it (BENCHMARKS.md).
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE

from venue.codecs.errors import FrameTooLarge, FrameTruncated

DEF HEADER_SIZE_BYTES = 4


cdef inline unsigned int _read_length(const unsigned char* p) noexcept nogil:
    return (<unsigned int>p[0] << 24) | (<unsigned int>p[1] << 16) | \
           (<unsigned int>p[2] << 8) | <unsigned int>p[3]


cdef class CyFrameDecoder:
    """Split a byte stream into frames (compiled). See ``PyFrameDecoder``."""

    cdef bytearray _buffer
    cdef object _failed
    cdef readonly Py_ssize_t frame_size_bytes_max

    def __init__(self, Py_ssize_t frame_size_bytes_max=4 * 1024 * 1024):
        if frame_size_bytes_max <= 0 or frame_size_bytes_max >= 2**32:
            raise ValueError(f"frame_size_bytes_max must be in 1..2**32-1, "
                             f"got {frame_size_bytes_max}")
        self.frame_size_bytes_max = frame_size_bytes_max
        self._buffer = bytearray()
        self._failed = None

    @property
    def buffered_bytes(self):
        return len(self._buffer)

    def receive_data(self, data):
        """Append ``data``; return every frame now complete, in order."""
        if self._failed is not None:
            raise self._failed
        cdef bytearray buffer = self._buffer
        buffer += data
        cdef list frames = []
        cdef Py_ssize_t start = 0
        cdef Py_ssize_t end = PyByteArray_GET_SIZE(buffer)
        cdef const unsigned char* base = <const unsigned char*>PyByteArray_AS_STRING(buffer)
        cdef Py_ssize_t size
        while end - start >= HEADER_SIZE_BYTES:
            size = _read_length(base + start)
            if size > self.frame_size_bytes_max:
                self._failed = FrameTooLarge(size, self.frame_size_bytes_max)
                del buffer[:]
                raise self._failed
            if end - start - HEADER_SIZE_BYTES < size:
                break
            frames.append(PyBytes_FromStringAndSize(
                <const char*>(base + start + HEADER_SIZE_BYTES), size))
            start += HEADER_SIZE_BYTES + size
        if start:
            del buffer[:start]
        return frames

    def eof(self):
        """The stream ended; raise ``FrameTruncated`` if a frame was cut short."""
        if self._failed is not None:
            raise self._failed
        cdef Py_ssize_t have = len(self._buffer)
        cdef Py_ssize_t need = HEADER_SIZE_BYTES
        if have:
            if have >= HEADER_SIZE_BYTES:
                need += _read_length(<const unsigned char*>PyByteArray_AS_STRING(self._buffer))
            self._failed = FrameTruncated(have, need)
            raise self._failed
