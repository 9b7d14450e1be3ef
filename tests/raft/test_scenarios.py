"""Golden scenario files: ``tests/raft/scenarios/*.txt`` (see ``datadriven.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .datadriven import run_file

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.txt"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path: Path, request: pytest.FixtureRequest) -> None:
    rewrite = bool(request.config.getoption("--rewrite", default=False))
    mismatches = run_file(path, rewrite)
    if rewrite:
        return
    assert not mismatches, "\n\n".join(mismatches[:3])
