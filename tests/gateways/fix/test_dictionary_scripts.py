"""The QuickFIX acceptance scripts (fix44/ against FIX.4.4, fix42/ against FIX.4.2) as the
validator's spec.

Every I-line a script sends (framed by the harness: BodyLength and CheckSum added) is
validated. When the acceptor's next reply is a Reject(35=3) that the data dictionary causes,
validate() must give that reject's 373/371/58; when the reply is anything else, or a reject
the session layer causes (CompID, SendingTime, PossDup, sequence reset), validate() must
find nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from venue.gateways.fix.dictionary import DataDictionary, SessionReject
from venue.gateways.fix.validate import REJECT_TEXTS

REASONS_BY_TEXT = {text: reason for reason, text in REJECT_TEXTS.items()}

SCRIPTS = Path(__file__).resolve().parents[3].parent / "shared/conformance/quickfix"
VERSIONS = {"fix44": "FIX.4.4", "fix42": "FIX.4.2"}

#: Rejects the session layer sends, not the dictionary: (script, reason).
SESSION_LAYER_REJECTS = {
    ("11c_NewSeqNoLess", 5),  # SequenceReset lowering NewSeqNo, no RefTagID
    ("2f_PossDupOrigSendingTimeTooHigh", 10),
    ("2g_PossDupNoOrigSendingTime", 1),  # PossDupFlag=Y without OrigSendingTime
    ("2k_CompIDDoesNotMatchProfile", 9),
    ("2o_SendingTimeValueOutOfRange", 10),
}


def _time(match: str, now: datetime) -> str:
    offset = int(match[5:-1] or 0) if match != "<TIME>" else 0
    return (now + timedelta(seconds=offset)).strftime("%Y%m%d-%H:%M:%S")


def _substitute(line: str, now: datetime) -> str:
    while "<TIME" in line:
        start = line.index("<TIME")
        end = line.index(">", start) + 1
        line = line[:start] + _time(line[start:end], now) + line[end:]
    return line


def _fields(message: str) -> list[tuple[int, bytes]] | None:
    """The message's (tag, value) pairs, None for a garbled one (the parser's case)."""
    pairs = [item.split("=", 1) for item in message.split("\x01") if item]
    if any(len(pair) != 2 or not pair[0].lstrip("-").isdigit() for pair in pairs):
        return None
    return [(int(tag), value.encode()) for tag, value in pairs]


def _framed(fields: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """BodyLength after BeginString and CheckSum at the end, as the harness sends them."""
    body = b"".join(b"%d=%s\x01" % pair for pair in fields[1:])
    head = b"%d=%s\x01" % fields[0] + b"9=%d\x01" % len(body)
    checksum = sum(head + body) % 256
    return [fields[0], (9, str(len(body)).encode()), *fields[1:], (10, b"%03d" % checksum)]


Case = tuple[str, int, list[tuple[int, bytes]], SessionReject | None]


def script_cases(directory: Path) -> list[Case]:
    """(script, line number, fields, expected reject or None) for every framed I-line."""
    now = datetime.now(UTC)
    cases = []
    for path in sorted(directory.glob("*.def")):
        lines = path.read_text(encoding="latin-1").splitlines()
        for number, line in enumerate(lines, 1):
            if not line.startswith("I8="):
                continue  # connection commands, comments, deliberately mis-ordered framing
            fields = _fields(_substitute(line[1:], now))
            if (fields is None or any(tag in (9, 10) for tag, _ in fields)
                    or fields[1][0] != 35):
                continue  # garbled, own BodyLength/CheckSum, 35 not third: framing's cases
            reply = next((later for later in lines[number:] if later[:1] in "EI"), "")
            cases.append((path.stem, number, _framed(fields), _expected(path.stem, reply)))
    return cases


def _expected(script: str, reply: str) -> SessionReject | None:
    if not reply.startswith("E") or "\x0135=3\x01" not in reply:
        return None
    values = dict(item.split("=", 1) for item in reply[1:].split("\x01") if item)
    # FIX.4.2 has no 373 values above 11: QuickFIX leaves 373 out there, the text says it
    reason = int(values["373"]) if "373" in values else REASONS_BY_TEXT[values["58"]]
    if (script, reason) in SESSION_LAYER_REJECTS:
        return None
    ref_tag = int(values["371"]) if "371" in values else None
    return SessionReject(reason, ref_tag, values["58"])


CASES = {folder: script_cases(SCRIPTS / folder) for folder in VERSIONS}
ALL_CASES = [(folder, *case) for folder, cases in CASES.items() for case in cases]


@pytest.mark.parametrize("folder", VERSIONS)
def test_the_scripts_supply_both_rejects_and_valid_messages(folder: str) -> None:
    rejects = [case for case in CASES[folder] if case[3] is not None]
    assert len(rejects) >= 29
    assert {case[3].reason for case in rejects} == {0, 1, 2, 4, 5, 6, 11, 13, 14, 16}
    assert len(CASES[folder]) - len(rejects) >= 100


@pytest.mark.parametrize(("folder", "script", "line", "fields", "expected"), ALL_CASES,
                         ids=[f"{case[0]}/{case[1]}:{case[2]}" for case in ALL_CASES])
def test_validate_gives_quickfix_reject_or_none(
        folder: str, script: str, line: int, fields: list[tuple[int, bytes]],
        expected: SessionReject | None) -> None:
    assert DataDictionary.for_version(VERSIONS[folder]).validate(fields) == expected
