"""The README's Python examples run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_runnable_readme_examples_run() -> None:
    """Blocks that start with an import are complete programs and must run; the others
    (a signature, an excerpt of module.py) are illustrations."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    runnable = [block for block in blocks if block.startswith(("from ", "import "))]
    assert len(runnable) == 3, "the command type, registration and testing examples"
    namespace: dict = {}
    for block in runnable:
        exec(compile(block, str(README), "exec"), namespace)
