"""A runner for the QuickFIX acceptance scripts against a FIX acceptor over TCP.

``python -m venue.gateways.fix.conformance --port PORT`` runs every script in
``../shared/conformance/quickfix/fix44`` (see its README) against the acceptor on
127.0.0.1:PORT, one script after another, each on fresh connections, and prints one line per
script, the totals and, last, a JSON line of figures. Each run gives two verdicts: lenient
(venue's bar; the first lenient mismatch stops the script) and strict (a bonus; a message
that fails only strictly is recorded and the script goes on). The comparisons are in
``conformance_compare``, parsing, message preparation and framing in ``conformance_script``.

The runner is test equipment: it uses plain blocking sockets and its own framing, never the
codec or session layer under test.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from venue.gateways.fix.conformance_compare import (
    FieldPatterns,
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
    readable,
    split_message,
)

__all__ = ["ScriptError", "ScriptResult", "Step", "load_script", "main", "run_script",
           "run_suite"]

TIMEOUT_S_DEFAULT = 10.0
#: More unframed bytes than this from the acceptor is a failure, not a bigger buffer.
RECEIVE_BUFFER_BYTES_MAX = 1 << 20
RECEIVE_CHUNK_BYTES = 65536
SCRIPTS_RELATIVE = Path("shared/conformance/quickfix/fix44")


@dataclass(slots=True)
class ScriptResult:
    """The verdicts of one script run; ``failures`` name the script line of each mismatch."""

    name: str
    lenient_ok: bool
    strict_ok: bool
    failures: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class StepFailed(Exception):
    """A lenient failure: the script stops here."""


class _Connection:
    """One client TCP connection with the bytes received but not yet framed."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.socket = socket.create_connection((host, port), timeout=timeout_s)
        self.buffer = b""
        self.peer_closed = False

    def close(self) -> None:
        self.socket.close()

    def _receive(self, deadline: float) -> bool:
        """Append what arrives before ``deadline``; False on timeout, sets peer_closed."""
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            return False
        self.socket.settimeout(remaining_s)
        try:
            chunk = self.socket.recv(RECEIVE_CHUNK_BYTES)
        except TimeoutError:
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            chunk = b""  # a reset is the peer closing too
        except OSError as exc:
            raise StepFailed(f"receiving failed: {exc}") from exc
        if chunk == b"":
            self.peer_closed = True
        self.buffer += chunk
        if len(self.buffer) > RECEIVE_BUFFER_BYTES_MAX:
            raise StepFailed(f"more than {RECEIVE_BUFFER_BYTES_MAX} bytes without a complete "
                             f"message: {readable(self.buffer[:200])}...")
        return True

    def read_message(self, timeout_s: float) -> bytes:
        """The next complete message; StepFailed on timeout or close before one arrives."""
        deadline = time.monotonic() + timeout_s
        while True:  # bounded by the deadline and by RECEIVE_BUFFER_BYTES_MAX
            message, _skipped, self.buffer = split_message(self.buffer)
            if message is not None:
                return message
            if self.peer_closed:
                raise StepFailed(f"connection closed before a message arrived"
                                 f"{_partial(self.buffer)}")
            if not self._receive(deadline):
                raise StepFailed(f"no message within {timeout_s:g} s{_partial(self.buffer)}")

    def expect_close(self, timeout_s: float) -> None:
        """Return if the peer closes within ``timeout_s`` having sent nothing more."""
        deadline = time.monotonic() + timeout_s
        while not self.peer_closed and self._receive(deadline):
            pass
        received = list(_messages(self.buffer))
        if not self.peer_closed:
            raise StepFailed(f"connection still open after {timeout_s:g} s"
                             + _received_list(received))
        if received:
            raise StepFailed("received before the disconnect" + _received_list(received))


def _partial(buffer: bytes, shown_bytes_max: int = 300) -> str:
    if not buffer:
        return ""
    more = "..." if len(buffer) > shown_bytes_max else ""
    return f" (partial: {readable(buffer[:shown_bytes_max])}{more})"


def _messages(buffer: bytes) -> Iterator[bytes]:
    """The framed messages in ``buffer``, then any unframed remainder."""
    while buffer:
        message, skipped, buffer = split_message(buffer)
        if skipped:
            yield skipped
        if message is None:
            yield buffer
            return
        yield message


def _received_list(received: list[bytes]) -> str:
    return "".join(f"\n    received {readable(message)}" for message in received)


class _ScriptRun:
    """The state of one script run: its connections and its strict verdict so far."""

    def __init__(self, host: str, port: int, timeout_s: float, patterns: FieldPatterns):
        self.host, self.port, self.timeout_s, self.patterns = host, port, timeout_s, patterns
        self.connections: dict[int, _Connection] = {}
        self.strict_failures: list[str] = []

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()

    def _open(self, step: Step) -> _Connection:
        connection = self.connections.get(step.connection)
        if connection is None:
            raise StepFailed(f"connection {step.connection} is not open")
        return connection

    def run(self, step: Step) -> None:
        """Carry out one step; StepFailed (with the reason) on a lenient failure."""
        if step.action is Action.CONNECT:
            if step.connection in self.connections:
                raise StepFailed(f"connection {step.connection} is already open")
            try:
                self.connections[step.connection] = _Connection(self.host, self.port,
                                                                self.timeout_s)
            except OSError as exc:
                raise StepFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        elif step.action is Action.DISCONNECT:
            connection = self.connections.pop(step.connection, None)
            if connection is not None:
                connection.close()
        elif step.action is Action.EXPECT_DISCONNECT:
            self._open(step).expect_close(self.timeout_s)
            self.connections.pop(step.connection).close()
        elif step.action is Action.SEND:
            message = prepare_message(step.message)
            try:
                self._open(step).socket.sendall(message)
            except OSError as exc:
                raise StepFailed(f"sending failed ({exc}): {readable(message)}") from exc
        else:
            self._expect(step)

    def _expect(self, step: Step) -> None:
        connection = self._open(step)
        try:
            received = connection.read_message(self.timeout_s)
        except StepFailed as exc:
            raise StepFailed(f"{exc}\n    expected {readable(step.message)}") from None
        expected = prepare_message(step.message)
        shown = f"\n    expected {readable(expected)}\n    received {readable(received)}"
        lenient_reason = compare_lenient(expected, received)
        if lenient_reason is not None:
            raise StepFailed(f"{lenient_reason}{shown}")
        strict_reason = compare_strict(expected, received, self.patterns)
        if strict_reason is not None:
            self.strict_failures.append(f"line {step.line_number} (strict only): "
                                        f"{strict_reason}{shown}")


def _field_patterns_beside(path: Path) -> FieldPatterns:
    """The ``fields.fmt`` next to the script's folder (or in it), else QuickFIX's own."""
    for candidate in (path.parent.parent / "fields.fmt", path.parent / "fields.fmt"):
        if candidate.is_file():
            return load_field_patterns(candidate)
    return load_field_patterns()


def run_script(path: str | Path, host: str, port: int, *, timeout_s: float = TIMEOUT_S_DEFAULT,
               field_patterns: FieldPatterns | None = None) -> ScriptResult:
    """Run one .def script against the acceptor at host:port and judge it both ways.

    ``timeout_s`` bounds the wait for each expected message and for each expected disconnect.
    Every connection the run opens is closed before this returns.
    """
    path = Path(path)
    patterns = _field_patterns_beside(path) if field_patterns is None else field_patterns
    started_s = time.monotonic()
    try:
        steps = load_script(path)
    except ScriptError as exc:
        return ScriptResult(path.stem, False, False, [f"script error: {exc}"],
                            time.monotonic() - started_s)
    run = _ScriptRun(host, port, timeout_s, patterns)
    failures: list[str] = []
    try:
        for step in steps:
            try:
                run.run(step)
            except StepFailed as exc:
                failures.append(f"line {step.line_number}: {exc}")
                break
    finally:
        run.close()
    lenient_ok = not failures
    return ScriptResult(name=path.stem, lenient_ok=lenient_ok,
                        strict_ok=lenient_ok and not run.strict_failures,
                        failures=run.strict_failures + failures,
                        elapsed_s=time.monotonic() - started_s)


def _select_scripts(directory: Path, names: Sequence[str] | None) -> list[Path]:
    scripts = sorted(directory.glob("*.def"))
    if names is None:
        return scripts
    by_name = {script.stem: script for script in scripts}
    wanted = [name.removesuffix(".def") for name in names]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise ValueError(f"no such scripts in {directory}: {', '.join(unknown)}")
    return [by_name[name] for name in wanted]


def run_suite(directory: str | Path, host: str, port: int, names: Sequence[str] | None = None,
              *, timeout_s: float = TIMEOUT_S_DEFAULT) -> list[ScriptResult]:
    """Run the .def scripts of ``directory`` (all, sorted by name, or those ``names``) in turn.

    Raises ValueError for a name with no script.
    """
    return [run_script(path, host, port, timeout_s=timeout_s)
            for path in _select_scripts(Path(directory), names)]


def _default_scripts_directory() -> Path | None:
    """``../shared/conformance/quickfix/fix44`` from the checkout, else from the cwd."""
    checkout = Path(__file__).resolve().parents[2]
    for base in (checkout.parent, Path.cwd().parent, Path.cwd()):
        if (base / SCRIPTS_RELATIVE).is_dir():
            return base / SCRIPTS_RELATIVE
    return None


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    default_scripts = _default_scripts_directory()
    parser = argparse.ArgumentParser(
        prog="python -m venue.gateways.fix.conformance",
        description="Run the QuickFIX acceptance scripts against a FIX acceptor.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scripts", type=Path, default=default_scripts,
                        required=default_scripts is None,
                        help=f"folder of .def scripts (default: {default_scripts})")
    parser.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                        help="run only these scripts (name without .def)")
    parser.add_argument("--strict", action="store_true",
                        help="exit non-zero on strict failures too")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S_DEFAULT, metavar="SECONDS",
                        help="wait for each expected message or disconnect")
    return parser.parse_args(argv)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI; returns the exit code (1 on any lenient failure, or strict with --strict)."""
    arguments = _parse_arguments(argv)
    try:
        paths = _select_scripts(arguments.scripts, arguments.only)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    results = []
    for path in paths:
        result = run_script(path, arguments.host, arguments.port, timeout_s=arguments.timeout)
        results.append(result)
        print(f"{_verdict(result.lenient_ok)} lenient  {_verdict(result.strict_ok)} strict  "
              f"{result.name}  ({result.elapsed_s:.2f} s)", flush=True)
        for failure in result.failures:
            print(f"  {failure}", flush=True)
    lenient_passed = sum(result.lenient_ok for result in results)
    strict_passed = sum(result.strict_ok for result in results)
    print(f"lenient {lenient_passed}/{len(results)}, strict {strict_passed}/{len(results)}")
    figures = [{"name": "lenient_passed", "value": lenient_passed, "unit": "scripts"},
               {"name": "strict_passed", "value": strict_passed, "unit": "scripts"},
               {"name": "scripts", "value": len(results), "unit": "scripts"}]
    print(json.dumps({"name": "fix_conformance", "figures": figures}))
    failed = lenient_passed < len(results) or (arguments.strict and strict_passed < len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
