"""The deterministic core: modules fold log entries into events. No I/O, clock or threads."""

from .context import ApplyContext
from .dispatcher import Applied, Engine, schema_for
from .errors import (
    EngineError,
    EngineHalted,
    PluginLoadError,
    SnapshotError,
    SnapshotVersionError,
)
from .hashing import HashChain, chain_step
from .loader import load_modules, resolve
from .replay import replay
from .service import Module, ModuleDirectory

__all__ = [
    "Applied", "ApplyContext", "Engine", "EngineError", "EngineHalted", "HashChain",
    "Module", "ModuleDirectory", "PluginLoadError", "SnapshotError", "SnapshotVersionError",
    "chain_step", "load_modules", "replay", "resolve", "schema_for",
]
