"""Load modules (plugins) by dotted path or by name from the ``venue.modules`` entry points.

A spec is either ``package.module:ClassName`` (or ``package.module.ClassName``) or the name
of an entry point in the ``venue.modules`` group, which an installed package declares in its
``pyproject.toml``::

    [project.entry-points."venue.modules"]
    rfq = "venue_rfq.module:RfqModule"

Whatever goes wrong raises ``PluginLoadError`` that names the spec and the cause.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

from .errors import PluginLoadError
from .service import Module

ENTRY_POINT_GROUP = "venue.modules"


def _split(spec: str) -> tuple[str, str]:
    if ":" in spec:
        module_path, _, attribute = spec.partition(":")
    else:
        module_path, _, attribute = spec.rpartition(".")
    if not module_path or not attribute:
        raise PluginLoadError(
            f"module spec {spec!r} is neither 'package.module:ClassName' nor the name of "
            f"an installed {ENTRY_POINT_GROUP!r} entry point")
    return module_path, attribute


def resolve(spec: str) -> type[Module]:
    """The module class that ``spec`` names."""
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
    if found:
        try:
            cls = found[0].load()
        except Exception as exc:
            raise PluginLoadError(f"entry point {spec!r} ({found[0].value}) failed to "
                                  f"load: {type(exc).__name__}: {exc}") from exc
    else:
        module_path, attribute = _split(spec)
        try:
            python_module = importlib.import_module(module_path)
        except Exception as exc:
            raise PluginLoadError(f"cannot import {module_path!r} for module spec {spec!r}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        try:
            cls = getattr(python_module, attribute)
        except AttributeError:
            raise PluginLoadError(f"{module_path!r} has no attribute {attribute!r} "
                                  f"(module spec {spec!r})") from None
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise PluginLoadError(f"{spec!r} names {cls!r}, which is not a venue.engine.Module")
    return cls


def load_modules(specs: Iterable[str],
                 options: Mapping[str, Mapping[str, Any]] | None = None) -> list[Module]:
    """Instantiate each spec, passing ``options[spec]`` as keyword arguments."""
    modules = []
    for spec in specs:
        cls = resolve(spec)
        kwargs = dict((options or {}).get(spec, {}))
        try:
            modules.append(cls(**kwargs))
        except Exception as exc:
            raise PluginLoadError(f"{spec!r}: constructing {cls.__qualname__} failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
    return modules


def installed_module_names() -> list[str]:
    """Names of the modules installed through the entry-point group."""
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
