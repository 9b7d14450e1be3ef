"""Options for the codec tests.

``--rewrite-golden`` rewrites ``golden/encodings.txt`` from the current encoders instead of
comparing against it. Use it only when a format change is intended (a new type, a new
trailing field), then review ``git diff tests/codecs/golden`` line by line: every changed
line of an existing type means old logs would no longer decode the same way.
Run it as ``python -m pytest tests/codecs --rewrite-golden`` (pytest reads this option only
when the run names ``tests/codecs`` or a path below it).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite-golden",
        action="store_true",
        default=False,
        help="rewrite tests/codecs/golden/encodings.txt instead of comparing (review the diff)",
    )
