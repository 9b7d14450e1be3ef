"""Shared helpers for venue's benchmarks: environment report, medians, the JSON line."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from importlib import metadata


def environment() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for package in ("msgspec", "lmdb", "xxhash", "Cython", "venue"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        **{f"{name}_version": version for name, version in versions.items()},
    }


def print_environment() -> None:
    for key, value in environment().items():
        print(f"# {key}: {value}")


def median(values: list[float]) -> float:
    return statistics.median(values)


def figure(name: str, value: float, unit: str) -> dict[str, object]:
    return {"name": name, "value": round(value, 3), "unit": unit}


def print_json_line(benchmark: str, figures: list[dict[str, object]],
                    **extra: object) -> None:
    """The last line of every benchmark's output: its headline figures."""
    print(json.dumps({"benchmark": benchmark, "figures": figures, **extra}))
