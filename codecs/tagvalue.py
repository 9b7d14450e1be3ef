"""FIX tag=value: a sans-I/O parser of a byte stream into messages, and the encoder.

Two implementations with one API: ``PyFixParser``/``PyFixMessage``/``py_encode`` (here) and
their compiled twins ``CyFixParser``/``CyFixMessage``/``cy_encode`` (``_tagvalue.pyx``).
``FixParser``, ``FixMessage`` and ``encode`` are the active ones, named by
``IMPLEMENTATION``; ``VENUE_PURE_PYTHON=1`` forces the pure-Python ones. Tags are ints,
values bytes; ``encode`` also takes str values (as UTF-8) and ints (in decimal).

Framing follows QuickFIX's ``Parser``, so the QuickFIX acceptance scripts see the same
messages. ``next()`` repeats, never raising on any input:

1. The message starts at ``8=`` at the start of the stream or right after an SOH (0x01);
   bytes before it are dropped and counted in ``discarded_bytes``.
2. The first ``<SOH>9=`` after the start and the SOH ending its value give BodyLength. A
   value that is not a non-negative decimal integer gives a garbled message.
3. ``body_end`` is the byte after that SOH plus BodyLength; past ``message_size_max`` bytes
   from the start it is garbled ("message larger than N bytes").
4. The frame ends at the SOH after the first ``<SOH>10=`` at or after ``body_end - 1``: a
   right BodyLength finds the CheckSum exactly there, a short one finds it later, a long one
   may take in the next message's CheckSum (as QuickFIX does; the scripts rely on it).
5. The frame's fields are then checked, the first failure giving ``garbled``: every field
   ``<tag>=<value>`` with a tag of an optional ``-`` and 1-9 digits; the first three tags
   8, 9, 35; BodyLength equal to the bytes from the body's start through the SOH before
   ``10=``; CheckSum 1-3 digits equal to ``checksum()`` of the frame up to that SOH. Empty
   values, tag 0 and negative tags parse (the validator rejects them).
6. Data fields: after a length tag of ``DATA_LENGTH_TAGS`` whose value is 1-9 digits, its
   paired data field (if it comes next) holds exactly that many bytes, SOH included; if no
   SOH follows them the message is garbled and the field read up to its first SOH.

A garbled message is returned with the fields that parsed (a malformed field is skipped),
so the session can log it. After a failure in 2-4 (no frame end known) the message's ``raw``
runs from the start to the next start found (or to the end of what is buffered, so it then
depends on how reads were cut) and parsing resumes at that next start. A frame, start to
CheckSum's SOH, is at most ``message_size_max`` (64..2**30) bytes: the searches of 2 and 4
look no further, and give "no BodyLength(9)/CheckSum(10) within N bytes" once that much is
buffered. So once ``next()`` returns None, fewer than ``message_size_max`` bytes are held.
"""

from __future__ import annotations

from collections.abc import Sequence

from venue import select_twin

SOH = 0x01
MESSAGE_SIZE_MAX_DEFAULT = 65536
MESSAGE_SIZE_MIN = 64
MESSAGE_SIZE_LIMIT = 2**30
DATA_LENGTH_TAGS = {90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353,
                    354: 355, 356: 357, 358: 359, 360: 361, 362: 363, 364: 365, 445: 446,
                    618: 619, 621: 622}  # length tag: its data tag
TAG_DIGITS_MAX = 9


def checksum(data: bytes) -> int:
    """CheckSum(10) of ``data``: the sum of its bytes mod 256. O(n).

    >>> checksum(b"8=FIX.4.4\\x01")
    33
    """
    return sum(data) % 256


def _tag_of(text: bytes) -> int | None:
    """The tag ``text`` spells (optional ``-``, 1-9 digits), or None."""
    digits = text[1:] if text[:1] == b"-" else text
    if not 0 < len(digits) <= TAG_DIGITS_MAX or not digits.isdigit():
        return None
    return int(text)


def _data_length(value: bytes) -> int:
    """The length a data-length field announces (1-9 digits), or -1."""
    if 0 < len(value) <= TAG_DIGITS_MAX and value.isdigit():
        return int(value)
    return -1


def parse_fields(raw: bytes, end: int) -> tuple[list[tuple[int, bytes]], str]:
    """The fields of ``raw[:end]`` (every one ends with an SOH before ``end``) and the first
    problem found ("" if none). A malformed field is skipped up to its SOH. O(n)."""
    fields: list[tuple[int, bytes]] = []
    reason = ""
    position = 0
    data_tag, data_length = 0, -1
    while position < end:
        soh = raw.find(b"\x01", position, end)
        equals = raw.find(b"=", position, soh)
        tag = _tag_of(raw[position:equals]) if equals >= 0 else None
        if tag is None:
            reason = reason or (f"field without '=' at byte {position}" if equals < 0
                                else f"tag is not a number at byte {position}")
            position, data_length = soh + 1, -1
            continue
        value_end = soh
        if data_length >= 0 and tag == data_tag:
            value_end = equals + 1 + data_length
            if value_end >= end or raw[value_end] != SOH:
                reason = reason or f"data field {tag} is not {data_length} bytes"
                value_end = soh
        value = raw[equals + 1:value_end]
        fields.append((tag, value))
        data_tag = DATA_LENGTH_TAGS.get(tag, 0)
        data_length = _data_length(value) if data_tag else -1
        position = value_end + 1
    return fields, reason


class PyFixMessage:
    """One message as framed: ``raw`` bytes, its fields, ``garbled`` ("" if well formed)."""

    __slots__ = ("_fields", "garbled", "raw")

    def __init__(self, raw: bytes, fields: list[tuple[int, bytes]], garbled: str) -> None:
        self.raw = raw
        self._fields = fields
        self.garbled = garbled

    @property
    def begin_string(self) -> bytes:
        return self.get(8, b"")

    @property
    def msg_type(self) -> bytes:
        return self.get(35, b"")

    def __len__(self) -> int:
        return len(self._fields)

    def tag(self, i: int) -> int:
        return self._fields[i][0]

    def value(self, i: int) -> bytes:
        return self._fields[i][1]

    def get(self, tag: int, default: bytes | None = None) -> bytes | None:
        """The value of the first field with ``tag``, else ``default``. O(fields)."""
        for field_tag, value in self._fields:
            if field_tag == tag:
                return value
        return default

    def fields(self) -> list[tuple[int, bytes]]:
        """Every field in wire order, 8, 9 and 10 included."""
        return list(self._fields)

    def __repr__(self) -> str:
        return f"FixMessage({self.raw!r}, garbled={self.garbled!r})"


class PyFixParser:
    """Split a byte stream into FIX messages (the rules are in the module docstring).

    >>> parser = PyFixParser()
    >>> parser.feed(b"junk\\x018=FIX.4.4\\x019=5\\x0135=0\\x0110=163\\x01")
    >>> message = parser.next()
    >>> message.fields(), message.garbled, parser.discarded_bytes, parser.next()
    ([(8, b'FIX.4.4'), (9, b'5'), (35, b'0'), (10, b'163')], '', 5, None)
    """

    def __init__(self, message_size_max: int = MESSAGE_SIZE_MAX_DEFAULT) -> None:
        if not MESSAGE_SIZE_MIN <= message_size_max <= MESSAGE_SIZE_LIMIT:
            raise ValueError(f"message_size_max must be in {MESSAGE_SIZE_MIN}.."
                             f"{MESSAGE_SIZE_LIMIT}, got {message_size_max}")
        self.message_size_max = message_size_max
        self.discarded_bytes = 0
        self._buffer = bytearray()
        self._boundary = True  # the byte before _buffer[0] is an SOH or the stream start

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append ``data`` (one read); ``next()`` then takes the messages out."""
        self._buffer += data

    def next(self) -> PyFixMessage | None:
        """The next message, garbled or not, or None until more bytes arrive."""
        if not self._seek_start():
            return None
        buffer, size_max = self._buffer, self.message_size_max
        window = min(len(buffer), size_max)
        length_at = buffer.find(b"\x019=", 0, window)
        length_soh = buffer.find(b"\x01", length_at + 3, window) if length_at >= 0 else -1
        if length_soh < 0:
            return self._waiting(f"no BodyLength(9) within {size_max} bytes")
        length_text = bytes(buffer[length_at + 3:length_soh])
        if not length_text.isdigit():
            return self._resync("BodyLength(9) is not a non-negative integer")
        body_start = length_soh + 1
        body_end = body_start + int(length_text)
        if body_end > size_max:
            return self._resync(f"message larger than {size_max} bytes")
        if len(buffer) < body_end:
            return None
        checksum_at = buffer.find(b"\x0110=", body_end - 1, size_max)
        frame_end = buffer.find(b"\x01", checksum_at + 4, size_max) + 1 if checksum_at >= 0 else 0
        if frame_end <= 0:
            return self._waiting(f"no CheckSum(10) within {size_max} bytes")
        raw = bytes(buffer[:frame_end])
        del buffer[:frame_end]
        self._boundary = True
        fields, reason = parse_fields(raw, checksum_at + 1)
        fields.append((10, raw[checksum_at + 4:frame_end - 1]))
        reason = reason or _frame_problem(raw, fields, body_end - body_start,
                                          checksum_at + 1 - body_start, checksum_at)
        return PyFixMessage(raw, fields, reason)

    def _seek_start(self) -> bool:
        """Drop the bytes before the next start; is one at ``_buffer[0]`` now?"""
        buffer = self._buffer
        if self._boundary and buffer[:2] == b"8=":
            return True
        found = buffer.find(b"\x018=")
        if found >= 0:
            self._discard(found + 1, True)
            return True
        size = len(buffer)
        if size and buffer[-1] == 0x38 and (buffer[-2] == SOH if size >= 2 else self._boundary):
            self._discard(size - 1, True)  # keep what may be the "8" of a start
        elif size:
            self._discard(size, buffer[-1] == SOH)
        return False

    def _discard(self, count: int, boundary: bool) -> None:
        del self._buffer[:count]
        self.discarded_bytes += count
        self._boundary = boundary

    def _waiting(self, reason: str) -> PyFixMessage | None:
        """None while the frame may still fit, else a garbled message for it."""
        if len(self._buffer) < self.message_size_max:
            return None
        return self._resync(reason)

    def _resync(self, reason: str) -> PyFixMessage:
        """A garbled message from the start to the next start (or what is buffered)."""
        buffer = self._buffer
        found = buffer.find(b"\x018=", 1)
        if found >= 0:
            cut = found + 1
        else:
            cut = len(buffer) - (buffer[-2:] == b"\x018")
        raw = bytes(buffer[:cut])
        del buffer[:cut]
        self._boundary = raw[-1] == SOH
        fields, _ = parse_fields(raw, raw.rfind(b"\x01") + 1)
        return PyFixMessage(raw, fields, reason)


def _frame_problem(raw: bytes, fields: list[tuple[int, bytes]], declared: int, actual: int,
                   checksum_at: int) -> str:
    """The first of steps 5's checks that a framed message fails, "" if none."""
    if len(fields) < 3 or (fields[0][0], fields[1][0], fields[2][0]) != (8, 9, 35):
        return "the first three fields are not 8, 9, 35"
    if declared != actual:
        return f"BodyLength(9) is {declared} but the body is {actual} bytes"
    value = fields[-1][1]
    if not (0 < len(value) <= 3 and value.isdigit()):
        return "CheckSum(10) is not 1-3 digits"
    expected = checksum(raw[:checksum_at + 1])
    if int(value) != expected:
        return f"CheckSum(10) is {int(value)} but the message sums to {expected}"
    return ""


def _value_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        return b"%d" % value
    raise TypeError(f"a FIX value is bytes, str or int, not {type(value).__name__}")


def py_encode(begin_string: bytes, body: Sequence[tuple[int, bytes | str | int]]) -> bytes:
    """A whole message: BeginString, BodyLength, ``body`` (from MsgType(35) on: str values
    as UTF-8, ints in decimal), CheckSum. O(n).

    >>> py_encode(b"FIX.4.4", [(35, "0")])
    b'8=FIX.4.4\\x019=5\\x0135=0\\x0110=163\\x01'
    """
    if not isinstance(begin_string, bytes):
        raise TypeError("begin_string must be bytes")
    parts = []
    for tag, value in body:
        if not isinstance(tag, int):
            raise TypeError(f"a FIX tag is an int, not {type(tag).__name__}")
        parts.append(b"%d=%s\x01" % (tag, _value_bytes(value)))
    if not parts or not parts[0].startswith(b"35="):
        raise ValueError("the body starts with MsgType(35)")
    body_bytes = b"".join(parts)
    head = b"8=%s\x019=%d\x01%s" % (begin_string, len(body_bytes), body_bytes)
    return head + b"10=%03d\x01" % checksum(head)


FixParser, CyFixParser, IMPLEMENTATION = select_twin(
    "venue.codecs._tagvalue", "CyFixParser", PyFixParser)

if IMPLEMENTATION == "cython":
    from venue.codecs._tagvalue import CyFixMessage, cy_encode
    encode = cy_encode
    FixMessage = CyFixMessage
else:
    encode = py_encode
    FixMessage = PyFixMessage
