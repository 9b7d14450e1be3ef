"""A tiny PNG reader (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium writes),
enough to tell a rendered page from a blank one without an imaging library."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


def _chunks(data: bytes):
    assert data[:8] == SIGNATURE, "not a PNG"
    offset = 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        yield kind, body
        offset += 12 + length


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, previous: bytes, step: int) -> bytearray:
    if kind == 0:
        return line
    if kind == 2:
        return bytearray((x + y) & 0xFF for x, y in zip(line, previous, strict=True))
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            upper_left = previous[i - step] if i >= step else 0
            line[i] = (line[i] + _paeth(left, previous[i], upper_left)) & 0xFF
        else:
            raise AssertionError(f"unknown filter {kind}")
    return line


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw samples)."""
    header, compressed = b"", bytearray()
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in _CHANNELS and interlace == 0, (depth, colour, interlace)
    step = _CHANNELS[colour]
    raw = zlib.decompress(bytes(compressed))
    stride = width * step
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous,
                         step)
        rows.append(bytes(line))
        previous = rows[-1]
    return width, height, rows


def pixel_statistics(data: bytes) -> tuple[int, float]:
    """(distinct pixel values, fraction of pixels that differ from the most common one)."""
    width, height, rows = read_png(data)
    step = len(rows[0]) // width
    counts: dict[bytes, int] = {}
    for row in rows:
        for x in range(0, len(row), step):
            pixel = row[x:x + step]
            counts[pixel] = counts.get(pixel, 0) + 1
    background = max(counts.values())
    return len(counts), 1 - background / (width * height)
