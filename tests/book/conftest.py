"""Options for the order book tests.

``--rewrite-book`` rewrites the expected output of ``scenarios/*.txt`` from the pure-Python
book instead of comparing against it (the compiled twin is still compared with the rewritten
text). Review ``git diff tests/book/scenarios`` line by line before committing it.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rewrite-book", action="store_true", default=False,
                     help="rewrite the expected output of order book scenario files "
                          "(review the diff)")
