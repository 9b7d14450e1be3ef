"""The parts every edge process's JSON config shares: the ``cluster`` section (where the
nodes are and the credential to use) and a ``limits`` section of named integers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

LimitsT = TypeVar("LimitsT")


def cluster_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """``addresses``, ``cluster_id``, ``principal``, ``credential`` from ``raw["cluster"]``
    (KeyError, TypeError or ValueError for the caller to report with the file's name)."""
    cluster = raw["cluster"]
    return {"addresses": tuple(str(address) for address in cluster["addresses"]),
            "cluster_id": str(cluster["cluster_id"]), "principal": str(cluster["principal"]),
            "credential": str(cluster["credential"])}


def limits_from(raw: dict[str, Any], limits_type: type[LimitsT]) -> LimitsT:
    """``limits_type`` (a dataclass of integers) from ``raw["limits"]``; an unknown name is
    a ValueError that names it."""
    given = raw.get("limits", {})
    unknown = sorted(set(given) - {item.name for item in fields(limits_type)})  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"unknown limits: {', '.join(unknown)}")
    return limits_type(**{key: int(value) for key, value in given.items()})
