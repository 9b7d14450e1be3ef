"""Golden scenario files (``scenarios/*.txt``) run against both book implementations.

The files are the readable specification of matching; see ``scenario.py`` for the commands.
``pytest tests/book --rewrite-book`` rewrites them from the pure-Python book.
"""

from __future__ import annotations

import pytest

from tests.scenario_files import parse
from venue.engine.book import PyOrderBook

from .helpers import BOOK_CLASSES
from .scenario import SCENARIOS, render, run_command

FILES = sorted(SCENARIOS.glob("*.txt"))


def test_there_are_scenario_files() -> None:
    assert len(FILES) >= 8


@pytest.mark.parametrize("book_class", BOOK_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_scenario(path, book_class, request: pytest.FixtureRequest) -> None:
    blocks, trailer = parse(path.read_text())
    book = book_class(instrument_id=1)
    outputs = [run_command(book, block.command) for block in blocks]
    if request.config.getoption("--rewrite-book") and book_class is PyOrderBook:
        path.write_text(render(blocks, outputs, trailer))
        return
    for block, output in zip(blocks, outputs, strict=True):
        assert output == block.expected, (
            f"{path.name}:{block.line_number}: {block.command}\n"
            f"expected:\n" + "\n".join(block.expected) + "\nactual:\n" + "\n".join(output))
