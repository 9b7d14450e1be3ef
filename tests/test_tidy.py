"""House rules that are cheap to check on every run."""

from __future__ import annotations

import ast
import doctest
import importlib
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
    assert commands[0] == "pip install -e . && venue up"
    assert commands[1].startswith('pip install -e ".[test]"')
    assert "pytest" in commands[1]


def _python_sources() -> list[Path]:
    return sorted(path for folder in SOURCE_DIRS for path in (ROOT / folder).rglob("*.py"))


def test_functions_stay_under_70_lines() -> None:
    long_functions = []
    for path in _python_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    node.end_lineno - node.lineno + 1 > 70):
                long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long_functions == []


def test_docstring_examples_run() -> None:
    """Every doctest in the package (complexity notes and examples stay true)."""
    failed = []
    for path in _python_sources():
        relative = path.relative_to(ROOT).with_suffix("")
        parts = ["venue", *relative.parts]
        if parts[-1] == "__init__":
            parts.pop()
        module = importlib.import_module(".".join(parts))
        result = doctest.testmod(module)
        if result.failed:
            failed.append(".".join(parts))
    assert failed == []
