"""DESIGN.md section 4, enforced by scanning the source with ``ast``.

Inside ``engine/`` and ``cluster/raft/``: no clock, no unseeded randomness, no I/O or
threads, no ``hash()``/``id()``, no floats, no true division, and no sets at all (dicts are
ordered; sets iterate in an order that depends on ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("engine", "cluster/raft")

BANNED_MODULES = ("time", "datetime", "random", "uuid", "os", "socket", "threading",
                  "asyncio", "subprocess", "multiprocessing", "concurrent", "_thread",
                  "secrets", "selectors")
BANNED_CALLS = {
    "hash": "hash() depends on PYTHONHASHSEED",
    "id": "id() depends on memory layout",
    "float": "float() call (no floats in state)",
    "set": "set() call (use a dict)",
    "frozenset": "frozenset() call (use a dict or tuple)",
    "__import__": "__import__() call (hides an import from this scan)",
}


class _Scanner(ast.NodeVisitor):
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.violations: list[str] = []

    def _report(self, node: ast.AST, message: str) -> None:
        self.violations.append(f"{self.filename}:{node.lineno}: {message}")

    def _check_module(self, node: ast.AST, module: str, names: str = "") -> None:
        if module.split(".")[0] in BANNED_MODULES:
            self._report(node, f"imports {module}{names}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return  # relative import of our own code
        names = [alias.name for alias in node.names]
        if node.module == "random" and names == ["Random"]:
            return  # the type of an injected, seeded generator
        self._check_module(node, node.module, f" ({', '.join(names)})")

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            message = BANNED_CALLS.get(node.func.id)
            if message is not None:
                self._report(node, message)
            elif node.func.id == "Random" and not node.args and not node.keywords:
                self._report(node, "Random() without a seed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, float | complex):
            self._report(node, f"float literal {node.value!r}")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Div):
            self._report(node, "true division '/' (use '//')")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.Div):
            self._report(node, "true division '/=' (use '//=')")
        self.generic_visit(node)

    def visit_Set(self, node: ast.Set) -> None:
        self._report(node, "set literal (use a dict)")
        self.generic_visit(node)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._report(node, "set comprehension (use a dict comprehension)")
        self.generic_visit(node)


def scan_source(source: str, filename: str = "<snippet>") -> list[str]:
    """Every violation in ``source``, as ``file:line: what``."""
    scanner = _Scanner(filename)
    scanner.visit(ast.parse(source, filename))
    return scanner.violations


def scan_tree(root: Path) -> tuple[list[str], int]:
    """Violations in every .py under the scanned folders, and how many files were read."""
    violations: list[str] = []
    count = 0
    for folder in SCANNED_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            violations += scan_source(path.read_text(), str(path.relative_to(root)))
            count += 1
    return violations, count


def test_engine_and_raft_core_follow_the_determinism_rules() -> None:
    violations, files_scanned = scan_tree(ROOT)
    assert violations == [], "\n".join(violations)
    engine_files = len(list((ROOT / "engine").rglob("*.py")))
    raft_files = len(list((ROOT / "cluster" / "raft").rglob("*.py")))
    assert files_scanned == engine_files + raft_files >= 10


BAD_SNIPPETS = {
    "import time": "<snippet>:1: imports time",
    "import os.path as p": "<snippet>:1: imports os.path",
    "from datetime import datetime": "<snippet>:1: imports datetime (datetime)",
    "import random": "<snippet>:1: imports random",
    "from random import randint": "<snippet>:1: imports random (randint)",
    "from random import Random, random": "<snippet>:1: imports random (Random, random)",
    "from uuid import uuid4": "<snippet>:1: imports uuid (uuid4)",
    "\nimport socket": "<snippet>:2: imports socket",
    "import threading": "<snippet>:1: imports threading",
    "import asyncio": "<snippet>:1: imports asyncio",
    "from subprocess import run": "<snippet>:1: imports subprocess (run)",
    "from concurrent.futures import Executor": "<snippet>:1: imports concurrent.futures "
                                                "(Executor)",
    "rng = Random()": "<snippet>:1: Random() without a seed",
    "key = hash(name)": "<snippet>:1: hash() depends on PYTHONHASHSEED",
    "def f(x):\n    return id(x)": "<snippet>:2: id() depends on memory layout",
    "price = 1.5": "<snippet>:1: float literal 1.5",
    "limit = 1e9": "<snippet>:1: float literal 1000000000.0",
    "z = 2j": "<snippet>:1: float literal 2j",
    "x = float(y)": "<snippet>:1: float() call (no floats in state)",
    "half = total / 2": "<snippet>:1: true division '/' (use '//')",
    "total /= 2": "<snippet>:1: true division '/=' (use '//=')",
    "seen = {1, 2}": "<snippet>:1: set literal (use a dict)",
    "seen = {k for k in keys}": "<snippet>:1: set comprehension (use a dict comprehension)",
    "seen = set()": "<snippet>:1: set() call (use a dict)",
    "frozen = frozenset(keys)": "<snippet>:1: frozenset() call (use a dict or tuple)",
    "m = __import__('os')": "<snippet>:1: __import__() call (hides an import from this scan)",
}


@pytest.mark.parametrize(("source", "expected"), BAD_SNIPPETS.items(),
                         ids=list(BAD_SNIPPETS))
def test_the_scanner_reports_each_violation_with_its_line(source: str, expected: str) -> None:
    assert scan_source(source) == [expected]


def test_the_scanner_finds_violations_nested_anywhere_in_a_file(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        from .timers import TimerQueue


        class Bad:
            def f(self, items):
                return [hash(i) for i in items if i / 2]
    """)
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "bad.py").write_text(source)
    (tmp_path / "cluster" / "raft").mkdir(parents=True)
    (tmp_path / "cluster" / "raft" / "core.py").write_text("import time\n")
    violations, count = scan_tree(tmp_path)
    assert count == 2
    assert violations == [
        "engine/bad.py:6: hash() depends on PYTHONHASHSEED",
        "engine/bad.py:6: true division '/' (use '//')",
        "cluster/raft/core.py:1: imports time",
    ]


ALLOWED = [
    "from random import Random\n\ndef make(seed: int) -> Random:\n    return Random(seed)",
    "half = total // 2\ntotal //= 3",
    "table = {1: 2}\nkeys = dict.fromkeys(items)\ncomp = {k: v for k, v in pairs}",
    'path = "a/b"  # 1.5 in a comment',
    "import heapq\nimport struct\nfrom collections.abc import Callable",
    "value = self.hash() + thing.id",
    "def f(x: float | None) -> float: ...",
    "from .modules.sessions import APPLY",
]


@pytest.mark.parametrize("source", ALLOWED)
def test_the_scanner_allows_what_the_rules_allow(source: str) -> None:
    assert scan_source(source) == []
