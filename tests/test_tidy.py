"""House rules that are cheap to check on every run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("engine", "codecs", "cluster", "gateways")


def test_ruff_reports_no_problems() -> None:
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    result = subprocess.run([*command, "check", str(ROOT)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_source_files_stay_under_450_lines() -> None:
    long_files = []
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py*"):
            if path.suffix in (".py", ".pyx") and len(path.read_text().splitlines()) > 450:
                long_files.append(str(path.relative_to(ROOT)))
    assert long_files == [], f"split these along a seam a reader would name: {long_files}"


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line for line in lines if line.startswith("pip install")]
    assert commands[0] == "pip install -e . && venue demo"
    assert commands[1].startswith('pip install -e ".[test]"')
    assert "pytest" in commands[1]
