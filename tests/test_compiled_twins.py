"""Every compiled hot path is built and active after ``pip install -e .``.

A build that silently fell back to the pure-Python twin fails here; with
VENUE_PURE_PYTHON=1 every twin must be the pure-Python one.
"""

from __future__ import annotations

import importlib

import pytest

from venue import PURE_PYTHON_REQUESTED

TWINS = [  # (module choosing the twin, name of its compiled class)
    ("venue.codecs.framing", "CyFrameDecoder"),
    ("venue.codecs.tagvalue", "CyFixParser"),
    ("venue.engine.book", "CyOrderBook"),
]


@pytest.mark.parametrize(("module_name", "compiled_name"), TWINS)
def test_the_compiled_twin_is_built_and_active(module_name: str, compiled_name: str) -> None:
    module = importlib.import_module(module_name)
    if PURE_PYTHON_REQUESTED:
        assert module.IMPLEMENTATION == "python"
    else:
        assert getattr(module, compiled_name) is not None, f"{module_name}: not compiled"
        assert module.IMPLEMENTATION == "cython"
