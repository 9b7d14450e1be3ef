"""UTC timestamps as FIX writes them (``YYYYMMDD-HH:MM:SS[.sss]``), to and from epoch ns.

Hand-written rather than ``datetime.strptime``: SendingTime is parsed on every message and
strptime costs several microseconds; this costs well under one.
"""

from __future__ import annotations

import calendar
import time

_NS = 1_000_000_000


def format_utc(now_ns: int, millis: bool = True) -> bytes:
    """``now_ns`` (Unix epoch, ns) as ``YYYYMMDD-HH:MM:SS.sss`` (``millis``) or without."""
    seconds, rest = divmod(now_ns, _NS)
    t = time.gmtime(seconds)
    text = (f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}-"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}")
    if millis:
        text += f".{rest // 1_000_000:03d}"
    return text.encode()


def parse_utc(value: bytes) -> int | None:
    """Epoch ns of a FIX UTCTimestamp (seconds, or with 3, 6 or 9 fraction digits); None if
    the value is not one."""
    if len(value) < 17 or value[8:9] != b"-" or value[11:12] != b":" or \
            value[14:15] != b":":
        return None
    digits = value[0:8] + value[9:11] + value[12:14] + value[15:17]
    if not digits.isdigit():
        return None
    fraction_ns = 0
    if len(value) > 17:
        fraction = value[18:]
        if value[17:18] != b"." or len(fraction) not in (3, 6, 9) or not fraction.isdigit():
            return None
        fraction_ns = int(fraction) * 10 ** (9 - len(fraction))
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    hour, minute, second = int(value[9:11]), int(value[12:14]), int(value[15:17])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour <= 23 and minute <= 59 and second <= 60):
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    return seconds * _NS + fraction_ns
