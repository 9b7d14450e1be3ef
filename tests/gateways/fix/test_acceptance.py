"""The QuickFIX acceptance scripts (../shared/conformance/quickfix/fix44, all 59) against
venue's session layer with the reflector behind it, over a real socket: each must pass the
lenient comparison. The strict verdict is printed (``-s`` shows it); the CLI
``python -m venue.gateways.fix.conformance`` reports the strict score."""

from __future__ import annotations

from pathlib import Path

import pytest

from venue.gateways.fix.conformance import run_script

from .conftest import SCRIPTS, ThreadedAcceptor

FIX44 = sorted((SCRIPTS / "fix44").glob("*.def"))


def test_the_suite_is_there() -> None:
    assert len(FIX44) == 59, f"expected the 59 FIX 4.4 scripts in {SCRIPTS / 'fix44'}"


@pytest.mark.parametrize("script", FIX44, ids=[path.stem for path in FIX44])
def test_acceptance_script(script: Path, reflector: ThreadedAcceptor) -> None:
    result = run_script(script, "127.0.0.1", reflector.port)
    print(f"{script.stem}: lenient {result.lenient_ok}, strict {result.strict_ok}")
    assert result.lenient_ok, "\n".join(result.failures)
