"""venue: a framework for fault-tolerant, deterministic, Raft-replicated trading venues.

Subpackages: ``venue.engine`` (deterministic core), ``venue.codecs`` (formats),
``venue.cluster`` (log, replication, tools), ``venue.gateways`` (FIX, WebSocket, history).
"""

__version__ = "0.1.0"

import os as _os

#: VENUE_PURE_PYTHON=1 makes every hot path use its pure-Python twin (read once, here, so
#: that engine code, which may not touch ``os``, can ask).
PURE_PYTHON_REQUESTED = bool(_os.environ.get("VENUE_PURE_PYTHON"))


def select_twin(module: str, name: str, python: type) -> tuple[type, type | None, str]:
    """``(active, compiled or None, "cython" | "python")`` for a hot path with twins.

    Imports ``name`` from the compiled ``module``; if it is missing (a failed compile), the
    pure-Python twin runs and a ``RuntimeWarning`` says so, unless VENUE_PURE_PYTHON asked
    for Python anyway.
    """
    import importlib
    import warnings

    try:
        compiled = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        compiled = None
        if not PURE_PYTHON_REQUESTED:
            warnings.warn(f"{module} is not compiled ({exc}); using the pure-Python "
                          f"{python.__name__}. Reinstall with a C compiler and Cython to fix.",
                          RuntimeWarning, stacklevel=3)
    if compiled is not None and not PURE_PYTHON_REQUESTED:
        return compiled, compiled, "cython"
    return python, compiled, "python"
