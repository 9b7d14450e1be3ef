"""The QuickFIX acceptance scripts (.def): parsing, message preparation and framing.

Part of the conformance runner (``venue.gateways.fix.conformance``). The runner is test
equipment: nothing here imports the FIX session layer or codec it tests, so a bug there cannot
hide itself by agreeing with its own test.

A script has one command per line (``/work/shared/conformance/quickfix/README.md``):
``iCONNECT``, ``iDISCONNECT``, ``eDISCONNECT``, ``I<msg>`` (send), ``E<msg>`` (expect), each
optionally with a one-digit connection number and a comma (``i2,CONNECT``, ``E1,8=...``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SOH = b"\x01"
#: A script line longer than this is a broken file, not a test case.
SCRIPT_LINE_BYTES_MAX = 64 * 1024

_COMMAND = re.compile(rb"^([ieIE])(?:([0-9]),)?(.*)\Z", re.DOTALL)
_TIME = re.compile(rb"<TIME(?:([+-])([0-9]+))?>")
_TRAILING_CHECKSUM = re.compile(rb"(?:\A|(?<=\x01))10=[^\x01]*\x01\Z")
#: One FIX message on the wire: BeginString first, CheckSum last (any value, so that wrong
#: checksums are still framed and then reported by the comparison).
_FRAME = re.compile(rb"8=[^\x01]*\x01.*?\x0110=[^\x01]*\x01", re.DOTALL)


class ScriptError(ValueError):
    """A .def file line that is none of the commands the format defines."""


class Action(enum.StrEnum):
    CONNECT = "connect"  # iCONNECT: open a TCP connection to the acceptor
    DISCONNECT = "disconnect"  # iDISCONNECT: close it
    EXPECT_DISCONNECT = "expect_disconnect"  # eDISCONNECT: the acceptor must close it
    SEND = "send"  # I<msg>
    EXPECT = "expect"  # E<msg>


@dataclass(frozen=True, slots=True)
class Step:
    """One script command: what to do, on which connection (1 or 2), from which line.

    ``message`` is the raw text of an I/E line (real SOH bytes, ``<TIME>`` not yet replaced,
    9 and 10 not yet added); empty for the connection commands.
    """

    action: Action
    connection: int
    line_number: int
    message: bytes = b""


def readable(message: bytes) -> str:
    """A message for people: '|' for SOH, undecodable bytes escaped.

    >>> readable(b"8=FIX.4.4\\x019=5\\x01")
    '8=FIX.4.4|9=5|'
    """
    return message.decode("latin-1").replace("\x01", "|")


def load_script(path: str | Path) -> list[Step]:
    """The steps of a .def file; comments (``#``) and blank lines are skipped.

    Raises ``ScriptError`` naming the line for anything else that is not a command.
    """
    steps = []
    raw_lines = Path(path).read_bytes().split(b"\n")
    for line_number, raw_line in enumerate(raw_lines, start=1):
        line = raw_line.rstrip(b"\r")
        if line.strip() == b"" or line.lstrip().startswith(b"#"):
            continue
        if len(line) > SCRIPT_LINE_BYTES_MAX:
            raise ScriptError(f"{path}:{line_number}: line longer than "
                              f"{SCRIPT_LINE_BYTES_MAX} bytes")
        steps.append(parse_line(line, line_number, str(path)))
    return steps


def parse_line(line: bytes, line_number: int, source: str = "<script>") -> Step:
    """One non-comment script line as a Step.

    >>> parse_line(b"i2,CONNECT", 7)
    Step(action=<Action.CONNECT: 'connect'>, connection=2, line_number=7, message=b'')
    >>> parse_line(b"I8=FIX.4.4\\x0135=0\\x01", 3).connection
    1
    """
    match = _COMMAND.match(line)
    if match is None:
        raise ScriptError(f"{source}:{line_number}: not a command: {readable(line)!r}")
    kind, digit, body = match.groups()
    connection = int(digit) if digit is not None else 1
    if kind == b"I":
        return Step(Action.SEND, connection, line_number, body)
    if kind == b"E":
        return Step(Action.EXPECT, connection, line_number, body)
    word = body.strip()
    actions = {(b"i", b"CONNECT"): Action.CONNECT, (b"i", b"DISCONNECT"): Action.DISCONNECT,
               (b"e", b"DISCONNECT"): Action.EXPECT_DISCONNECT}
    action = actions.get((kind, word))
    if action is None:
        raise ScriptError(f"{source}:{line_number}: unknown command: {readable(line)!r}")
    return Step(action, connection, line_number)


def format_time(moment: datetime) -> bytes:
    """UTC ``YYYYMMDD-HH:MM:SS`` (no fraction), as ``<TIME>`` becomes.

    >>> format_time(datetime(2026, 1, 2, 3, 4, 5, 999_000, tzinfo=UTC))
    b'20260102-03:04:05'
    """
    return moment.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S").encode("ascii")


def substitute_time(message: bytes, now: datetime) -> bytes:
    """``<TIME>``, ``<TIME+n>`` and ``<TIME-n>`` replaced by ``now`` shifted by n seconds.

    >>> substitute_time(b"52=<TIME>|122=<TIME-60>|", datetime(2026, 1, 2, 0, 0, 30, tzinfo=UTC))
    b'52=20260102-00:00:30|122=20260101-23:59:30|'
    """
    def replace(match: re.Match[bytes]) -> bytes:
        sign, seconds = match.groups()
        shift_s = 0 if seconds is None else int(seconds) * (1 if sign == b"+" else -1)
        return format_time(now + timedelta(seconds=shift_s))

    return _TIME.sub(replace, message)


def checksum(data: bytes) -> bytes:
    """The CheckSum(10) value of ``data`` (everything before ``10=``): 3 digits.

    Complexity: O(len(data)).

    >>> checksum(b"8=FIX.4.4\\x01")
    b'033'
    """
    return b"%03d" % (sum(data) % 256)


def add_length_and_checksum(message: bytes) -> bytes:
    """A line starting with ``8=`` completed with BodyLength(9) and CheckSum(10).

    9 goes right after the 8 field and 10 at the end, each only if the line does not already
    carry it (that is how the scripts send wrong lengths and checksums); other lines, and the
    fields the script wrote, are returned unchanged.

    >>> readable(add_length_and_checksum(b"8=FIX.4.4\\x0135=0\\x01"))
    '8=FIX.4.4|9=5|35=0|10=163|'
    >>> readable(add_length_and_checksum(b"8=FIX.4.4\\x019=1\\x0135=0\\x0110=7\\x01"))
    '8=FIX.4.4|9=1|35=0|10=7|'
    """
    head_end = message.find(SOH) + 1
    if not message.startswith(b"8=") or head_end == 0:
        return message
    head, rest = message[:head_end], message[head_end:]
    written_checksum = _TRAILING_CHECKSUM.search(rest)
    body = rest if written_checksum is None else rest[:written_checksum.start()]
    has_length = rest.startswith(b"9=") or b"\x019=" in rest
    length = b"" if has_length else b"9=%d\x01" % len(body)
    completed = head + length + body
    if written_checksum is not None:
        return completed + written_checksum.group()
    return completed + b"10=" + checksum(completed) + SOH


def prepare_message(message: bytes, now: datetime | None = None) -> bytes:
    """A script message as it goes on the wire (I) or is compared (E): times, then 9 and 10.

    ``now`` defaults to the current UTC time, read when the step runs.
    """
    moment = datetime.now(UTC) if now is None else now
    return add_length_and_checksum(substitute_time(message, moment))


def split_message(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
    """``(message, skipped, rest)``: the first complete FIX message in ``buffer``.

    A message runs from ``8=`` to the SOH after ``10=...``; bytes before it are ``skipped``.
    ``message`` is None (and ``rest`` the whole buffer) until one is complete. Framing does
    not trust BodyLength: a wrong length is for the comparison to report.
    Complexity: O(len(buffer)).

    >>> split_message(b"8=FIX.4.4\\x0135=0\\x0110=000\\x018=FIX")
    (b'8=FIX.4.4\\x0135=0\\x0110=000\\x01', b'', b'8=FIX')
    >>> split_message(b"8=FIX.4.4\\x0135=0\\x01")
    (None, b'', b'8=FIX.4.4\\x0135=0\\x01')
    """
    match = _FRAME.search(buffer)
    if match is None:
        return None, b"", buffer
    return match.group(), buffer[:match.start()], buffer[match.end():]
