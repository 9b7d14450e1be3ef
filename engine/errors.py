"""Errors raised by the engine. Bad input never raises: it becomes a reject event."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of engine errors."""


class EngineHalted(EngineError):
    """A module raised while applying an entry: a bug, not bad input.

    The engine stops. Nothing the entry did is emitted, hashed, stored or snapshotted, and
    every later call raises this same error. A restart replays the log up to the entry
    before this one; fixing the module and restarting resumes from there.
    """

    def __init__(self, log_index: int, module: str, command: object, traceback_text: str
                 ) -> None:
        super().__init__(
            f"engine halted at log index {log_index}: module {module!r} raised while "
            f"applying {command!r}\n{traceback_text}"
        )
        self.log_index = log_index
        self.module = module
        self.command = command
        self.traceback_text = traceback_text


class PluginLoadError(EngineError):
    """A module named in the config or the entry-point group cannot be loaded."""


class SnapshotError(EngineError):
    """A snapshot that cannot be restored (corrupt bytes)."""


class SnapshotVersionError(SnapshotError):
    """A snapshot written by an incompatible version of venue or of a module."""
