"""The QuickFIX acceptance-script runner, tested on its own (no real acceptor).

BodyLength and CheckSum are computed here independently of the runner; the end-to-end tests
run the runner against a small fake acceptor (a thread on 127.0.0.1, port 0) whose answers
are written by hand, right or wrong, and check the verdicts and the line numbers reported.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from venue.gateways.fix.conformance import ScriptResult, main, run_script, run_suite
from venue.gateways.fix.conformance_compare import (
    compare_lenient,
    compare_strict,
    load_field_patterns,
)
from venue.gateways.fix.conformance_script import (
    Action,
    ScriptError,
    Step,
    load_script,
    prepare_message,
    split_message,
    substitute_time,
)

QUICKFIX = Path(__file__).resolve().parents[3].parent / "shared/conformance/quickfix"
PATTERNS = load_field_patterns(QUICKFIX / "fields.fmt")
SHORT_TIMEOUT_S = 0.5


def soh(text: str) -> bytes:
    return text.replace("|", "\x01").encode("latin-1")


def length_and_checksum(message: bytes) -> tuple[int, int, int, str]:
    """(written 9, actual body length, written 10, actual checksum) of a whole message."""
    length_match = re.match(rb"8=[^\x01]*\x019=(\d+)\x01", message)
    checksum_at = message.rindex(b"\x0110=") + 1
    body = message[length_match.end():checksum_at]
    written_checksum = int(message[checksum_at + 3:-1])
    checksum = sum(message[:checksum_at]) % 256
    return int(length_match.group(1)), len(body), written_checksum, f"{checksum:03d}"


def wire(body: str) -> bytes:
    """``8=FIX.4.4|9=..|<body>|10=..|`` with 9 and 10 computed here, not by the runner."""
    body_bytes = soh(body)
    head = b"8=FIX.4.4\x019=%d\x01" % len(body_bytes)
    return head + body_bytes + b"10=%03d\x01" % (sum(head + body_bytes) % 256)


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


# -- parsing ------------------------------------------------------------------------------

def test_load_script_reads_commands_connection_numbers_and_line_numbers(tmp_path: Path) -> None:
    script = tmp_path / "two.def"
    script.write_bytes(soh("# a comment\n\n  # indented comment\niCONNECT\r\n"
                           "I8=FIX.4.4|35=0|\ni2,CONNECT\nE2,8=FIX.4.4|35=1|\n"
                           "e2,DISCONNECT\ni1,DISCONNECT\neDISCONNECT"))
    assert load_script(script) == [
        Step(Action.CONNECT, 1, 4),
        Step(Action.SEND, 1, 5, b"8=FIX.4.4\x0135=0\x01"),
        Step(Action.CONNECT, 2, 6),
        Step(Action.EXPECT, 2, 7, b"8=FIX.4.4\x0135=1\x01"),
        Step(Action.EXPECT_DISCONNECT, 2, 8),
        Step(Action.DISCONNECT, 1, 9),
        Step(Action.EXPECT_DISCONNECT, 1, 10),
    ]


@pytest.mark.parametrize("line", ["XCONNECT", "iCONNECTED", "eCONNECT", "i12,CONNECT"])
def test_load_script_rejects_unknown_commands_naming_the_line(tmp_path: Path, line: str) -> None:
    script = tmp_path / "bad.def"
    script.write_text(f"iCONNECT\n\n{line}\n")
    with pytest.raises(ScriptError, match=r"bad\.def:3:"):
        load_script(script)


@pytest.mark.parametrize(("folder", "count"), [("fix44", 59), ("fix42", 58)])
def test_every_quickfix_script_parses(folder: str, count: int) -> None:
    scripts = sorted((QUICKFIX / folder).glob("*.def"))
    assert len(scripts) == count
    for script in scripts:
        steps = load_script(script)
        assert steps[0].action is Action.CONNECT, script.name
        messages = [step for step in steps if step.action in (Action.SEND, Action.EXPECT)]
        assert messages and all(b"\x01" in step.message for step in messages), script.name


def test_duplicate_identity_script_uses_two_connections() -> None:
    steps = load_script(QUICKFIX / "fix44/1b_DuplicateIdentity.def")
    assert [(step.action, step.connection) for step in steps] == [
        (Action.CONNECT, 1), (Action.SEND, 1), (Action.EXPECT, 1), (Action.CONNECT, 2),
        (Action.SEND, 2), (Action.EXPECT_DISCONNECT, 2), (Action.DISCONNECT, 1)]
    assert [step.line_number for step in steps] == [5, 6, 7, 10, 11, 14, 16]


# -- preparing messages -------------------------------------------------------------------

def test_time_placeholders_become_utc_seconds_shifted_by_n() -> None:
    now = datetime(2026, 12, 31, 23, 59, 50, 123456, tzinfo=UTC)
    assert substitute_time(b"52=<TIME>|1=<TIME+15>|2=<TIME-3600>|3=<TIME>", now) == (
        b"52=20261231-23:59:50|1=20270101-00:00:05|2=20261231-22:59:50|3=20261231-23:59:50")


def test_time_defaults_to_the_clock_when_the_message_is_prepared() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    prepared = prepare_message(soh("8=FIX.4.4|35=0|52=<TIME>|"))
    stamp = re.search(rb"52=([^\x01]*)", prepared).group(1).decode()
    sent = datetime.strptime(stamp, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    assert before <= sent <= before + timedelta(seconds=5)


def test_body_length_and_checksum_are_added_when_the_script_omits_them() -> None:
    prepared = prepare_message(soh("8=FIX.4.4|35=A|34=1|49=TW44|52=<TIME>|56=ISLD|98=0|108=30|"))
    assert prepared.startswith(b"8=FIX.4.4\x019=")
    assert prepared.count(b"\x019=") == 1 and prepared.count(b"\x0110=") == 1
    written_length, body_length, written_checksum, checksum = length_and_checksum(prepared)
    assert written_length == body_length == 59  # 52=<TIME> has no milliseconds
    assert f"{written_checksum:03d}" == checksum
    assert re.search(rb"\x0110=\d{3}\x01\Z", prepared)


def test_explicit_body_length_and_checksum_are_left_as_written() -> None:
    line = soh("8=FIX.4.4|9=30|35=D|34=2|49=TW44|56=ISLD|11=ID|10=256|")
    assert prepare_message(line) == line
    only_length = prepare_message(soh("8=FIX.4.4|9=30|35=0|34=2|"))
    written_length, body_length, written_checksum, checksum = length_and_checksum(only_length)
    assert (written_length, body_length, f"{written_checksum:03d}") == (30, 10, checksum)
    only_checksum = prepare_message(soh("8=FIX.4.4|35=0|34=2|10=7|"))
    assert only_checksum == soh("8=FIX.4.4|9=10|35=0|34=2|10=7|")


def test_lines_not_starting_with_begin_string_are_sent_exactly_as_written() -> None:
    line = soh("35=0|8=FIX.4.4|9=29|34=2|49=TW44|56=ISLD|10=121|")
    assert prepare_message(line) == line
    assert prepare_message(b"garbage") == b"garbage"


def test_split_message_frames_one_message_and_keeps_the_rest() -> None:
    first, second = wire("35=0|34=2|"), wire("35=1|34=3|112=X|")
    message, skipped, rest = split_message(first + second[:9])
    assert (message, skipped, rest) == (first, b"", second[:9])
    assert split_message(rest + second[9:]) == (second, b"", b"")
    assert split_message(b"\x01junk" + first) == (first, b"\x01junk", b"")


# -- comparing ----------------------------------------------------------------------------

EXPECTED = prepare_message(soh(
    "8=FIX.4.4|9=106|35=3|34=2|49=ISLD|52=00000000-00:00:00.000|56=TW44|45=2|"
    "58=Tag appears more than once|371=40|372=D|373=13|10=0|"))


def received_reject(order: str = "49=ISLD|52={}|56=TW44", text: str = "Tag appears more than once",
                    extra: str = "") -> bytes:
    return wire(f"35=3|34=2|{order.format(now_stamp())}|45=2|58={text}|371=40|372=D|373=13|"
                f"{extra}")


def test_field_order_matters_only_strictly() -> None:
    in_order = received_reject()
    assert compare_lenient(EXPECTED, in_order) is None
    assert compare_strict(EXPECTED, in_order, PATTERNS) is None
    received = received_reject(order="56=TW44|52={}|49=ISLD")
    assert compare_lenient(EXPECTED, received) is None
    assert "expected tag 49" in compare_strict(EXPECTED, received, PATTERNS)


def test_placeholder_times_match_by_pattern_strictly_and_are_ignored_leniently() -> None:
    expected = prepare_message(soh("8=FIX.4.4|35=D|52=00000000-00:00:00.000|"
                                   "60=00000000-00:00:00|122=00000000-00:00:00.000|"))
    good = prepare_message(soh("8=FIX.4.4|35=D|52=20260101-10:00:00.123|"
                               "60=20260101-10:00:00|122=20260101-09:59:00.000|"))
    assert compare_lenient(expected, good) is None
    assert compare_strict(expected, good, PATTERNS) is None
    malformed = good.replace(b"60=20260101-10:00:00", b"60=yesterday")
    assert compare_lenient(expected, malformed) is None
    assert "60=yesterday does not match" in compare_strict(expected, malformed, PATTERNS)


def test_text_need_only_start_with_the_expected_text_leniently() -> None:
    longer = received_reject(text="Tag appears more than once, tag 40")
    assert compare_lenient(EXPECTED, longer) is None
    assert compare_strict(EXPECTED, longer, PATTERNS) is not None
    other = received_reject(text="Tag appears")
    assert "Text(58)" in compare_lenient(EXPECTED, other)


def test_extra_missing_and_different_fields_fail_both_ways() -> None:
    extra = received_reject(extra="112=X|")
    assert compare_lenient(EXPECTED, extra) == "unexpected 112=X"
    assert compare_strict(EXPECTED, extra, PATTERNS) is not None
    missing = wire(f"35=3|34=2|49=ISLD|52={now_stamp()}|56=TW44|45=2|"
                   "58=Tag appears more than once|371=40|372=D|")
    assert compare_lenient(EXPECTED, missing) == "missing 373=13"
    assert compare_strict(EXPECTED, missing, PATTERNS) is not None
    different = received_reject().replace(b"\x01373=13\x01", b"\x01373=5\x01")
    assert compare_lenient(EXPECTED, different) == "missing 373=13; unexpected 373=5"
    without_time = EXPECTED.replace(b"52=00000000-00:00:00.000\x01", b"")
    assert compare_lenient(without_time, received_reject()).startswith("unexpected 52=")


def test_strict_compares_body_length_lenient_does_not() -> None:
    expected = soh("8=FIX.4.4|9=99|35=0|34=2|10=0|")
    received = wire("35=0|34=2|")
    assert compare_lenient(expected, received) is None
    assert "expected 9=99" in compare_strict(expected, received, PATTERNS)


def test_quickfix_fields_fmt_matches_the_built_in_patterns() -> None:
    builtin = load_field_patterns()
    assert {tag: p.pattern for tag, p in PATTERNS.items()} == {
        tag: p.pattern for tag, p in builtin.items()}
    assert sorted(PATTERNS, key=int) == ["10", "42", "52", "60", "122"]


# -- end to end against a fake acceptor ---------------------------------------------------

Respond = Callable[[bytes, int], tuple[list[bytes], bool]]


class FakeAcceptor:
    """Answers each framed message with ``respond(message, connection_index)``'s replies
    (written in one send) and closes the connection when it says so."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.received: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # how often the accept loop looks at _stopping
        self.port = self.listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> FakeAcceptor:
        self._threads[0].start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._threads[0].join(timeout=5)  # the accept loop: no new threads after this
        for thread in self._threads:
            thread.join(timeout=5)
            assert not thread.is_alive()
        self.listener.close()

    def _accept(self) -> None:
        index = 0
        while not self._stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(connection, index), daemon=True)
            self._threads.append(thread)
            thread.start()
            index += 1

    def _serve(self, connection: socket.socket, index: int) -> None:
        connection.settimeout(5)
        buffer = b""
        with connection, contextlib.suppress(OSError):  # a reset ends the connection too
            while not self._stopping.is_set():
                chunk = connection.recv(65536)
                if chunk == b"":
                    return
                buffer += chunk
                while (checksum_at := buffer.find(b"\x0110=")) >= 0 and (
                        end := buffer.find(b"\x01", checksum_at + 1)) >= 0:
                    message, buffer = buffer[:end + 1], buffer[end + 1:]
                    self.received.append(message)
                    replies, close = self.respond(message, index)
                    connection.sendall(b"".join(replies))
                    if close:
                        return


LOGON = "8=FIX.4.4|35=A|34=1|49=TW44|52=<TIME>|56=ISLD|98=0|108=30|"
LOGON_EXPECTED = ("8=FIX.4.4|9=63|35=A|34=1|49=ISLD|52=00000000-00:00:00.000|56=TW44|98=0|"
                  "108=30|10=0|")
SCRIPT = ("# logon, then logout\niCONNECT\nI" + LOGON + "\nE" + LOGON_EXPECTED + "\n\n"
          "I8=FIX.4.4|35=5|34=2|49=TW44|52=<TIME>|56=ISLD|\n"
          "E8=FIX.4.4|9=51|35=5|34=2|49=ISLD|52=00000000-00:00:00.000|56=TW44|10=0|\n"
          "eDISCONNECT\n")


def logon_reply(order: str = "49=ISLD|52={}|56=TW44", heartbeat_s: int = 30) -> bytes:
    return wire(f"35=A|34=1|{order.format(now_stamp())}|98=0|108={heartbeat_s}|")


def logout_reply(sequence: int = 2) -> bytes:
    return wire(f"35=5|34={sequence}|49=ISLD|52={now_stamp()}|56=TW44|")


def acceptor(logon: Callable[[], list[bytes]] = lambda: [logon_reply()],
             logout: Callable[[], list[bytes]] = lambda: [logout_reply()],
             close_on_logon: bool = False, close_on_logout: bool = True) -> Respond:
    def respond(message: bytes, _index: int) -> tuple[list[bytes], bool]:
        if b"\x0135=A\x01" in message:
            return logon(), close_on_logon
        if b"\x0135=5\x01" in message:
            return logout(), close_on_logout
        return [], False
    return respond


def run_fake(tmp_path: Path, respond: Respond,
             script: str = SCRIPT) -> tuple[ScriptResult, list[bytes]]:
    path = tmp_path / "case.def"
    path.write_bytes(soh(script))
    with FakeAcceptor(respond) as fake:
        result = run_script(path, "127.0.0.1", fake.port, timeout_s=SHORT_TIMEOUT_S)
    return result, fake.received


def test_a_correct_acceptor_passes_both_ways(tmp_path: Path) -> None:
    result, received = run_fake(tmp_path, acceptor())
    assert (result.name, result.lenient_ok, result.strict_ok, result.failures) == (
        "case", True, True, [])
    assert len(received) == 2
    for message in received:  # what the runner sent carries a right 9 and 10
        written_length, body_length, written_checksum, checksum = length_and_checksum(message)
        assert (written_length, f"{written_checksum:03d}") == (body_length, checksum)


def test_an_order_difference_fails_strict_only_and_the_run_goes_on(tmp_path: Path) -> None:
    result, received = run_fake(tmp_path, acceptor(
        logon=lambda: [logon_reply(order="56=TW44|52={}|49=ISLD")]))
    assert (result.lenient_ok, result.strict_ok) == (True, False)
    assert len(result.failures) == 1
    assert result.failures[0].startswith("line 4 (strict only): field 5: expected tag 49")
    assert len(received) == 2  # the logout was still sent


def test_a_wrong_value_fails_leniently_with_the_line_and_stops_the_script(tmp_path: Path) -> None:
    result, received = run_fake(tmp_path, acceptor(logon=lambda: [logon_reply(heartbeat_s=31)]))
    assert (result.lenient_ok, result.strict_ok) == (False, False)
    assert result.failures[0].startswith("line 4: missing 108=30; unexpected 108=31")
    assert "expected 8=FIX.4.4|9=63|35=A|" in result.failures[0]
    assert "received 8=FIX.4.4|9=63|35=A|" in result.failures[0]
    assert len(received) == 1  # the logout (line 6) was never sent


def test_a_silent_acceptor_times_out_on_the_expected_line(tmp_path: Path) -> None:
    result, _ = run_fake(tmp_path, acceptor(logon=lambda: []))
    assert not result.lenient_ok
    assert len(result.failures) == 1
    assert result.failures[0].startswith(f"line 4: no message within {SHORT_TIMEOUT_S:g} s\n"
                                         "    expected 8=FIX.4.4|9=63|35=A|34=1|49=ISLD|")
    assert result.elapsed_s < SHORT_TIMEOUT_S + 3


def test_an_early_disconnect_is_reported_on_the_expected_line(tmp_path: Path) -> None:
    result, _ = run_fake(tmp_path, acceptor(logon=lambda: [], close_on_logon=True))
    assert len(result.failures) == 1
    assert result.failures[0].startswith("line 4: connection closed before a message arrived")


def test_staying_connected_after_logout_fails_the_expected_disconnect(tmp_path: Path) -> None:
    result, _ = run_fake(tmp_path, acceptor(close_on_logout=False))
    assert not result.lenient_ok
    assert result.failures == [f"line 8: connection still open after {SHORT_TIMEOUT_S:g} s"]


def test_a_message_before_the_disconnect_fails_it_and_is_listed(tmp_path: Path) -> None:
    heartbeat = wire(f"35=0|34=3|49=ISLD|52={now_stamp()}|56=TW44|")
    result, _ = run_fake(tmp_path, acceptor(logout=lambda: [logout_reply(), heartbeat]))
    assert not result.lenient_ok
    assert result.failures[0].startswith("line 8: received before the disconnect")
    assert "|35=0|34=3|" in result.failures[0]


def test_two_messages_in_one_packet_serve_two_expected_lines(tmp_path: Path) -> None:
    resend = wire(f"35=2|34=2|49=ISLD|52={now_stamp()}|56=TW44|7=1|16=0|")
    script = SCRIPT.replace("\n\nI", "\nE8=FIX.4.4|35=2|34=2|49=ISLD|"
                            "52=00000000-00:00:00.000|56=TW44|7=1|16=0|\nI"
                            ).replace("35=5|34=2|49=ISLD", "35=5|34=3|49=ISLD")
    result, _ = run_fake(tmp_path, acceptor(logon=lambda: [logon_reply(), resend],
                                            logout=lambda: [logout_reply(3)]), script)
    assert (result.lenient_ok, result.strict_ok, result.failures) == (True, True, [])


def test_a_second_connection_is_disconnected_while_the_first_stays(tmp_path: Path) -> None:
    script = ("i1,CONNECT\nI1," + LOGON + "\nE1," + LOGON_EXPECTED + "\ni2,CONNECT\nI2,"
              + LOGON + "\ne2,DISCONNECT\ni1,DISCONNECT\n")

    def respond(_message: bytes, index: int) -> tuple[list[bytes], bool]:
        return ([logon_reply()], False) if index == 0 else ([], True)

    result, received = run_fake(tmp_path, respond, script)
    assert (result.lenient_ok, result.strict_ok, result.failures) == (True, True, [])
    assert len(received) == 2


def test_explicit_wrong_length_is_sent_as_written(tmp_path: Path) -> None:
    script = SCRIPT.replace("\n\nI", "\nI8=FIX.4.4|9=30|35=0|34=2|10=0|\nI")
    result, received = run_fake(tmp_path, acceptor(), script)
    assert result.lenient_ok
    assert received[1] == soh("8=FIX.4.4|9=30|35=0|34=2|10=0|")


def test_suite_and_command_line_report_each_script_and_the_totals(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a_good.def").write_bytes(soh(SCRIPT))
    (tmp_path / "b_wrong.def").write_bytes(soh(SCRIPT.replace("E8=FIX.4.4|9=51", "E8=FIX.4.4|"
                                                               "9=51|112=never", 1)))
    with FakeAcceptor(acceptor()) as fake:
        results = run_suite(tmp_path, "127.0.0.1", fake.port, timeout_s=SHORT_TIMEOUT_S)
        with pytest.raises(ValueError, match="no_such"):
            run_suite(tmp_path, "127.0.0.1", fake.port, ["no_such"])
        arguments = ["--port", str(fake.port), "--scripts", str(tmp_path), "--timeout", "0.5"]
        assert main([*arguments, "--only", "a_good"]) == 0
        assert main(arguments) == 1
    assert [(r.name, r.lenient_ok) for r in results] == [("a_good", True), ("b_wrong", False)]
    assert results[1].failures[0].startswith("line 7: missing 112=never")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("PASS lenient  PASS strict  a_good")
    assert "lenient 1/1, strict 1/1" in lines
    assert lines[-2] == "lenient 1/2, strict 1/2"
    assert json.loads(lines[-1]) == {"name": "fix_conformance", "figures": [
        {"name": "lenient_passed", "value": 1, "unit": "scripts"},
        {"name": "strict_passed", "value": 1, "unit": "scripts"},
        {"name": "scripts", "value": 2, "unit": "scripts"}]}
