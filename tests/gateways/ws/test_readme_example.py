"""The README's WebSocket client example runs as written against a running venue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .ws_venue import WsVenue, ws_venue

__all__ = ["ws_venue"]
pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[3] / "README.md"


def readme_example() -> str:
    """The first ```python block of the README's "WebSocket gateway" section."""
    section = README.read_text().split("## WebSocket gateway\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_client_example_authenticates_orders_and_cancels(
        ws_venue: WsVenue, tmp_path: Path) -> None:
    script = tmp_path / "ws_example.py"
    script.write_text(readme_example())
    result = subprocess.run([sys.executable, str(script), ws_venue.url,
                             ws_venue.token("DEMO1")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "{'type': 'authenticated', 'account': 101}"
    assert "order accepted ex-1" in lines and lines[-1] == "order cancelled ex-1"
    depth = [line for line in lines if line.startswith("depth ")]
    assert depth[0] == "depth 1 [['buy', '64000.00', '0.0100', 1]]", lines
