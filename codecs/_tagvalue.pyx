# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Cython twin of ``venue.codecs.tagvalue`` (whose docstring states the rules): the same
messages and ``garbled`` reasons. A message keeps its raw bytes and a C array of (tag, value
start, value end), making value bytes only when asked. Encoding writes one C buffer; what
the fast path does not know (a huge int, another type) goes to ``py_encode``, so results
and errors are the Python twin's. Blank lines are single between definitions to keep this
hot path in one file under the house length limit."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    bint PyBytes_Check(object)
    bint PyUnicode_Check(object)
    bint PyLong_Check(object)

DATA_LENGTH_TAGS = {90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353,
                    354: 355, 356: 357, 358: 359, 360: 361, 362: 363, 364: 365, 445: 446,
                    618: 619, 621: 622}  # the same table as tagvalue.py (a test says so)
DEF DATA_TAG_TABLE_SIZE = 623
DEF SOH = 1
DEF DIGITS_MAX = 9
cdef int _data_tag_of[DATA_TAG_TABLE_SIZE]
for _length_tag, _data_tag in DATA_LENGTH_TAGS.items():
    _data_tag_of[_length_tag] = _data_tag

ctypedef struct Field:
    int tag
    int start
    int end

ctypedef struct Problem:
    int kind  # 0 none, 1 no '=', 2 tag not a number, 3 data field of the wrong length
    Py_ssize_t at
    int tag
    int length

cdef inline Py_ssize_t _find(const unsigned char* p, Py_ssize_t start, Py_ssize_t limit,
                             const char* pattern, Py_ssize_t size) noexcept nogil:
    """First ``pattern`` (starting with SOH) in ``p[start:limit]``, else -1."""
    cdef const unsigned char* hit
    while start + size <= limit:
        hit = <const unsigned char*>memchr(p + start, SOH, limit - size + 1 - start)
        if hit == NULL:
            return -1
        start = hit - p
        if memcmp(hit, pattern, size) == 0:
            return start
        start += 1
    return -1

cdef inline Py_ssize_t _digits(const unsigned char* p, Py_ssize_t start, Py_ssize_t end,
                               Py_ssize_t digits_max) noexcept nogil:
    """The decimal ``p[start:end]`` (1..digits_max digits, any if 0; saturating), or -1."""
    cdef Py_ssize_t value = 0, i
    if end <= start or (digits_max and end - start > digits_max):
        return -1
    for i in range(start, end):
        if p[i] < 48 or p[i] > 57:
            return -1
        if value < (<Py_ssize_t>1) << 40:
            value = value * 10 + (p[i] - 48)
    return value

cdef Py_ssize_t _parse_fields(const unsigned char* raw, Py_ssize_t end, Field* out,
                              Problem* problem) noexcept nogil:
    """The fields of ``raw[:end]`` into ``out`` (room for end // 3 + 1); see parse_fields."""
    cdef Py_ssize_t position = 0, count = 0, soh, i, equals, value_end, digits
    cdef int tag, data_tag = 0, kind
    cdef Py_ssize_t data_length = -1
    cdef bint negative
    while position < end:
        soh = _find(raw, position, end, b"\x01", 1)
        if soh < 0:
            break
        i = position
        negative = raw[i] == 45
        i += negative
        tag = digits = 0
        while i < soh and 48 <= raw[i] <= 57:
            if digits < DIGITS_MAX:
                tag = tag * 10 + (raw[i] - 48)
            digits += 1
            i += 1
        if i == soh or raw[i] != 61 or digits == 0 or digits > DIGITS_MAX:
            if problem.kind == 0:
                kind = 2 if memchr(raw + position, 61, soh - position) != NULL else 1
                problem.kind, problem.at = kind, position
            position, data_length = soh + 1, -1
            continue
        equals = i
        if negative:
            tag = -tag
        value_end = soh
        if data_length >= 0 and tag == data_tag:
            value_end = equals + 1 + data_length
            if value_end >= end or raw[value_end] != SOH:
                if problem.kind == 0:
                    problem.kind, problem.tag, problem.length = 3, tag, data_length
                value_end = soh
        out[count].tag, out[count].start, out[count].end = tag, equals + 1, value_end
        count += 1
        data_tag = _data_tag_of[tag] if 0 <= tag < DATA_TAG_TABLE_SIZE else 0
        data_length = _digits(raw, equals + 1, value_end, DIGITS_MAX) if data_tag else -1
        position = value_end + 1
    return count

cdef class CyFixMessage:
    """One message as framed (compiled). See ``PyFixMessage``; made only by the parser."""

    cdef readonly bytes raw
    cdef readonly str garbled
    cdef Field* _fields
    cdef Py_ssize_t _count

    def __dealloc__(self):
        free(self._fields)

    @property
    def begin_string(self):
        return self.get(8, b"")

    @property
    def msg_type(self):
        return self.get(35, b"")

    def __len__(self):
        return self._count

    cdef inline Py_ssize_t _index(self, Py_ssize_t i) except -1:
        if not -self._count <= i < self._count:
            raise IndexError("field index out of range")
        return i + self._count if i < 0 else i

    cdef inline bytes _value(self, Py_ssize_t i):
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(self.raw) + self._fields[i].start,
                                         self._fields[i].end - self._fields[i].start)

    def tag(self, Py_ssize_t i):
        return self._fields[self._index(i)].tag

    def value(self, Py_ssize_t i):
        return self._value(self._index(i))

    def get(self, long tag, default=None):
        """The value of the first field with ``tag``, else ``default``. O(fields)."""
        cdef Py_ssize_t i
        for i in range(self._count):
            if self._fields[i].tag == tag:
                return self._value(i)
        return default

    def fields(self):
        """Every field in wire order, 8, 9 and 10 included."""
        return [(self._fields[i].tag, self._value(i)) for i in range(self._count)]

    def __repr__(self):
        return f"FixMessage({self.raw!r}, garbled={self.garbled!r})"

cdef CyFixMessage _message(bytes raw, Field* fields, Py_ssize_t count, str garbled):
    cdef CyFixMessage message = CyFixMessage.__new__(CyFixMessage)
    message._fields = <Field*>malloc((count if count else 1) * sizeof(Field))
    if message._fields == NULL:
        raise MemoryError()
    memcpy(message._fields, fields, count * sizeof(Field))
    message._count, message.raw, message.garbled = count, raw, garbled
    return message

cdef class CyFixParser:
    """Split a byte stream into FIX messages (compiled). See ``PyFixParser``."""

    cdef bytearray _buffer
    cdef Py_ssize_t _head  # _buffer[:_head] is consumed
    cdef bint _boundary  # the byte before the head is an SOH or the stream start
    cdef Field* _scratch
    cdef Py_ssize_t _scratch_capacity
    cdef readonly Py_ssize_t message_size_max
    cdef readonly Py_ssize_t discarded_bytes

    def __init__(self, Py_ssize_t message_size_max=65536):
        if not 64 <= message_size_max <= 2**30:
            raise ValueError(f"message_size_max must be in 64..{2**30}, "
                             f"got {message_size_max}")
        self.message_size_max, self.discarded_bytes = message_size_max, 0
        self._buffer, self._head, self._boundary = bytearray(), 0, True
        self._reserve_fields(message_size_max)

    cdef int _reserve_fields(self, Py_ssize_t frame_size) except -1:
        """Room in the scratch array for the fields of ``frame_size`` bytes."""
        cdef Py_ssize_t capacity = frame_size // 3 + 2
        cdef Field* grown
        if capacity > self._scratch_capacity:
            grown = <Field*>realloc(self._scratch, capacity * sizeof(Field))
            if grown == NULL:
                raise MemoryError()
            self._scratch, self._scratch_capacity = grown, capacity
        return 0

    def __dealloc__(self):
        free(self._scratch)

    @property
    def buffered(self):
        return PyByteArray_GET_SIZE(self._buffer) - self._head

    def feed(self, data):
        """Append ``data`` (one read); ``next()`` then takes the messages out."""
        if self._head:
            del self._buffer[:self._head]
            self._head = 0
        self._buffer += data

    cdef inline const unsigned char* _data(self):
        return <const unsigned char*>PyByteArray_AS_STRING(self._buffer) + self._head

    cdef inline void _discard(self, Py_ssize_t count, bint boundary) noexcept:
        self._head += count
        self.discarded_bytes += count
        self._boundary = boundary

    cdef bint _seek_start(self) noexcept:
        cdef const unsigned char* p = self._data()
        cdef Py_ssize_t size = PyByteArray_GET_SIZE(self._buffer) - self._head, found
        if size == 0:
            return False
        if self._boundary and size >= 2 and p[0] == 56 and p[1] == 61:
            return True
        found = _find(p, 0, size, b"\x018=", 3)
        if found >= 0:
            self._discard(found + 1, True)
            return True
        if p[size - 1] == 56 and (p[size - 2] == SOH if size >= 2 else self._boundary):
            self._discard(size - 1, True)
        else:
            self._discard(size, p[size - 1] == SOH)
        return False

    def next(self):
        """The next message, garbled or not, or None until more bytes arrive."""
        if not self._seek_start():
            return None
        cdef const unsigned char* p = self._data()
        cdef Py_ssize_t size = PyByteArray_GET_SIZE(self._buffer) - self._head
        cdef Py_ssize_t size_max = self.message_size_max
        cdef Py_ssize_t window = size if size < size_max else size_max
        cdef Py_ssize_t length_at, length_soh, length, body_start, body_end, checksum_at, frame_end
        length_at = _find(p, 0, window, b"\x019=", 3)
        length_soh = _find(p, length_at + 3, window, b"\x01", 1) if length_at >= 0 else -1
        if length_soh < 0:
            return self._waiting(f"no BodyLength(9) within {size_max} bytes")
        length = _digits(p, length_at + 3, length_soh, 0)
        if length < 0:
            return self._resync("BodyLength(9) is not a non-negative integer")
        body_start = length_soh + 1
        body_end = body_start + length
        if body_end > size_max:
            return self._resync(f"message larger than {size_max} bytes")
        if size < body_end:
            return None
        checksum_at = _find(p, body_end - 1, window, b"\x0110=", 4)
        frame_end = _find(p, checksum_at + 4, window, b"\x01", 1) + 1 if checksum_at >= 0 else 0
        if frame_end <= 0:
            return self._waiting(f"no CheckSum(10) within {size_max} bytes")
        raw = PyBytes_FromStringAndSize(<const char*>p, frame_end)
        self._head += frame_end
        self._boundary = True
        return self._framed(raw, length, body_start, checksum_at)

    cdef CyFixMessage _framed(self, bytes raw, Py_ssize_t declared, Py_ssize_t body_start,
                              Py_ssize_t checksum_at):
        cdef const unsigned char* r = <const unsigned char*>PyBytes_AS_STRING(raw)
        cdef Py_ssize_t frame_end = PyBytes_GET_SIZE(raw), count, i, value, actual
        cdef Problem problem
        cdef Field* fields = self._scratch
        cdef unsigned int total = 0
        problem.kind = 0
        count = _parse_fields(r, checksum_at + 1, fields, &problem)
        fields[count].tag, fields[count].start = 10, checksum_at + 4  # CheckSum(10)
        fields[count].end = frame_end - 1
        count += 1
        cdef str reason = ""
        if problem.kind == 1:
            reason = f"field without '=' at byte {problem.at}"
        elif problem.kind == 2:
            reason = f"tag is not a number at byte {problem.at}"
        elif problem.kind == 3:
            reason = f"data field {problem.tag} is not {problem.length} bytes"
        elif count < 3 or fields[0].tag != 8 or fields[1].tag != 9 or fields[2].tag != 35:
            reason = "the first three fields are not 8, 9, 35"
        elif declared != checksum_at + 1 - body_start:
            actual = checksum_at + 1 - body_start
            reason = f"BodyLength(9) is {declared} but the body is {actual} bytes"
        else:
            value = _digits(r, checksum_at + 4, frame_end - 1, 3)
            if value < 0:
                reason = "CheckSum(10) is not 1-3 digits"
            else:
                for i in range(checksum_at + 1):
                    total += r[i]
                if value != total % 256:
                    reason = (f"CheckSum(10) is {value} but the message sums to "
                              f"{total % 256}")
        return _message(raw, fields, count, reason)

    cdef object _waiting(self, str reason):
        if PyByteArray_GET_SIZE(self._buffer) - self._head < self.message_size_max:
            return None
        return self._resync(reason)

    cdef CyFixMessage _resync(self, str reason):
        cdef const unsigned char* p = self._data()
        cdef Py_ssize_t size = PyByteArray_GET_SIZE(self._buffer) - self._head, cut, end
        cdef Py_ssize_t found = _find(p, 1, size, b"\x018=", 3)
        cdef Problem problem
        if found >= 0:
            cut = found + 1
        else:
            cut = size - (size >= 2 and p[size - 2] == SOH and p[size - 1] == 56)
        raw = PyBytes_FromStringAndSize(<const char*>p, cut)
        self._head += cut
        self._boundary = p[cut - 1] == SOH
        end = cut
        while end > 0 and p[end - 1] != SOH:
            end -= 1
        problem.kind = 0
        self._reserve_fields(end)
        cdef Py_ssize_t count = _parse_fields(
            <const unsigned char*>PyBytes_AS_STRING(raw), end, self._scratch, &problem)
        return _message(raw, self._scratch, count, reason)

cdef struct Writer:
    char* data
    Py_ssize_t size
    Py_ssize_t capacity

cdef int _reserve(Writer* w, Py_ssize_t more) except -1:
    cdef char* grown
    if w.size + more > w.capacity:
        w.capacity = max(2 * w.capacity, w.size + more, 1024)
        grown = <char*>realloc(w.data, w.capacity)
        if grown == NULL:
            raise MemoryError()
        w.data = grown
    return 0

cdef inline void _write(Writer* w, const char* data, Py_ssize_t size) noexcept:
    memcpy(w.data + w.size, data, size)
    w.size += size

cdef inline void _write_int(Writer* w, long long value) noexcept:
    """Decimal ``value`` (the caller reserved 21 bytes)."""
    cdef char digits[24]
    cdef int n = 24
    cdef unsigned long long u = (<unsigned long long>-(value + 1)) + 1 if value < 0 else value
    while n == 24 or u:
        n -= 1
        digits[n], u = <char>(48 + u % 10), u // 10
    if value < 0:
        n -= 1
        digits[n] = 45
    _write(w, digits + n, 24 - n)

cdef bint _write_body(Writer* w, body) except -1:
    """Write ``body``'s fields; False when one needs the Python twin."""
    cdef long long number
    cdef int overflow
    cdef Py_ssize_t size
    cdef const char* text
    for item in body:
        if type(item) is not tuple or len(<tuple>item) != 2:
            return False
        tag, value = <tuple>item
        number = PyLong_AsLongLongAndOverflow(tag, &overflow) if PyLong_Check(tag) else 0
        if overflow or not PyLong_Check(tag):
            return False
        _reserve(w, 48)
        _write_int(w, number)
        _write(w, b"=", 1)
        if PyBytes_Check(value):
            size = PyBytes_GET_SIZE(value)
            _reserve(w, size + 1)
            _write(w, PyBytes_AS_STRING(value), size)
        elif PyUnicode_Check(value):
            try:
                text = PyUnicode_AsUTF8AndSize(value, &size)
            except UnicodeError:
                return False
            _reserve(w, size + 1)
            _write(w, text, size)
        elif PyLong_Check(value):
            number = PyLong_AsLongLongAndOverflow(value, &overflow)
            if overflow:
                return False
            _write_int(w, number)
        else:
            return False
        _write(w, b"\x01", 1)
    return True

def cy_encode(begin_string, body):
    """A whole message: BeginString, BodyLength, ``body``, CheckSum. See ``py_encode``.

    The body is written after room for the longest header, which is then written just
    before it; one copy makes the result."""
    cdef Writer w
    cdef Py_ssize_t head_room, start, end, size, i
    cdef unsigned int total = 0
    w.data, w.size, w.capacity = NULL, 0, 0
    if type(body) is not list and type(body) is not tuple:
        body = list(body)
    try:
        head_room = (PyBytes_GET_SIZE(begin_string) if PyBytes_Check(begin_string) else 0) + 26
        _reserve(&w, head_room)
        w.size = head_room
        if not PyBytes_Check(begin_string) or not _write_body(&w, body) or \
                w.size < head_room + 4 or memcmp(w.data + head_room, b"35=", 3) != 0:
            from venue.codecs.tagvalue import py_encode
            return py_encode(begin_string, body)
        end, size = w.size, w.size - head_room
        start = head_room - PyBytes_GET_SIZE(begin_string) - 7
        while size >= 10:
            size //= 10
            start -= 1
        w.size = start
        _write(&w, b"8=", 2)
        _write(&w, PyBytes_AS_STRING(begin_string), PyBytes_GET_SIZE(begin_string))
        _write(&w, b"\x019=", 3)
        _write_int(&w, end - head_room)
        _write(&w, b"\x01", 1)
        for i in range(start, end):
            total += <unsigned char>w.data[i]
        w.size = end
        _reserve(&w, 7)
        _write(&w, b"10", 2)
        _write_int(&w, 1000 + total % 256)  # four digits: the first is dropped below
        w.data[w.size - 4] = 61
        _write(&w, b"\x01", 1)
        return PyBytes_FromStringAndSize(w.data + start, w.size - start)
    finally:
        free(w.data)
