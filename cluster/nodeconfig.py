"""Node configuration files (JSON), and the files ``venue up`` writes for a local cluster.

One file per node::

    {"cluster_id": "venue-local", "node_id": 1, "data_dir": "node-1",
     "secret": "<hex>", "durability": "fsync",
     "members": {"1": {"peer": "127.0.0.1:7101", "client": "127.0.0.1:7201",
                       "metrics": "127.0.0.1:7301"}, "2": {...}, "3": {...}},
     "modules": ["venue.engine.modules.refdata:ReferenceDataModule", ...],
     "module_options": {}, "credentials": {"demo": "<token>", "operator": "<token>"},
     "operators": ["operator"],
     "tick_interval_ms": 10, "session_timeout_s": 30, "snapshot_interval_entries": 50000,
     "snapshot_interval_bytes": 268435456, "checkpoint_interval_entries": 100,
     "log_retained_entries": 5000, "events_retained_entries": 1000000}

``data_dir`` is relative to the file's folder unless absolute. A malformed file raises
``ConfigError`` naming the field.
"""

from __future__ import annotations

import json
import random
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .nodetypes import SNAPSHOT_INTERVAL_BYTES_DEFAULT

TRADING_MODULES = ("venue.engine.modules.refdata:ReferenceDataModule",
                   "venue.engine.modules.risk:RiskModule",
                   "venue.engine.modules.matching:MatchingModule")
DEMO_PRINCIPAL = "demo"
OPERATOR_PRINCIPAL = "operator"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Member:
    peer: tuple[str, int]
    client: tuple[str, int]
    metrics: tuple[str, int] | None


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    cluster_id: str
    node_id: int
    data_dir: Path
    secret: bytes
    durability: str
    members: dict[int, Member]
    modules: tuple[str, ...]
    module_options: dict[str, dict[str, Any]]
    credentials: dict[str, str]
    operators: tuple[str, ...] = (OPERATOR_PRINCIPAL,)
    tick_interval_ms: int = 10
    session_timeout_s: int = 30
    snapshot_interval_entries: int = 50_000
    snapshot_interval_bytes: int = SNAPSHOT_INTERVAL_BYTES_DEFAULT
    checkpoint_interval_entries: int = 100
    log_retained_entries: int = 5_000
    events_retained_entries: int = 1_000_000
    # write each Ready's synced transaction in a worker thread while the loop receives;
    # measured side by side on 2 cores it did not help (BENCHMARKS.md), so off by default
    persist_in_thread: bool = False

    @property
    def me(self) -> Member:
        return self.members[self.node_id]


def _address(text: object, what: str) -> tuple[str, int]:
    if not isinstance(text, str) or ":" not in text:
        raise ConfigError(f"{what} must be 'host:port', got {text!r}")
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} has no valid port: {text!r}")
    return host, int(port)


def load_config(path: Path | str) -> NodeConfig:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        members = {}
        for key, member in dict(raw["members"]).items():
            metrics = member.get("metrics")
            members[int(key)] = Member(
                _address(member["peer"], f"members.{key}.peer"),
                _address(member["client"], f"members.{key}.client"),
                _address(metrics, f"members.{key}.metrics") if metrics else None)
        node_id = int(raw["node_id"])
        if node_id not in members:
            raise ConfigError(f"node_id {node_id} is not among the members {sorted(members)}")
        data_dir = Path(raw["data_dir"])
        config = NodeConfig(
            path=path, cluster_id=str(raw["cluster_id"]), node_id=node_id,
            data_dir=data_dir if data_dir.is_absolute() else path.parent / data_dir,
            secret=bytes.fromhex(raw["secret"]), durability=str(raw.get("durability", "fsync")),
            members=members, modules=tuple(raw["modules"]),
            module_options=dict(raw.get("module_options", {})),
            credentials={str(k): str(v) for k, v in dict(raw["credentials"]).items()},
            operators=tuple(str(p) for p in raw.get("operators", [OPERATOR_PRINCIPAL])),
            tick_interval_ms=int(raw.get("tick_interval_ms", 10)),
            session_timeout_s=int(raw.get("session_timeout_s", 30)),
            snapshot_interval_entries=int(raw.get("snapshot_interval_entries", 50_000)),
            snapshot_interval_bytes=int(raw.get("snapshot_interval_bytes",
                                                SNAPSHOT_INTERVAL_BYTES_DEFAULT)),
            checkpoint_interval_entries=int(raw.get("checkpoint_interval_entries", 100)),
            log_retained_entries=int(raw.get("log_retained_entries", 5_000)),
            events_retained_entries=int(raw.get("events_retained_entries", 1_000_000)),
            persist_in_thread=bool(raw.get("persist_in_thread", False)))
    except KeyError as exc:
        raise ConfigError(f"{path}: missing field {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if len(config.secret) < 16:
        raise ConfigError(f"{path}: secret must be at least 16 bytes (32 hex digits)")
    return config


def write_local_cluster(folder: Path, nodes: int = 3, base_port: int = 7100,
                        durability: str = "fsync",
                        snapshot_interval_entries: int = 50_000,
                        modules: tuple[str, ...] = TRADING_MODULES,
                        checkpoint_interval_entries: int = 100,
                        log_retained_entries: int = 5_000,
                        persist_in_thread: bool = False) -> list[Path]:
    """Config files for a cluster on 127.0.0.1 in ``folder`` (kept if already there, so a
    second ``venue up`` restarts the same cluster); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"node-{node_id}.json" for node_id in range(1, nodes + 1)]
    if all(path.exists() for path in paths):
        return paths
    secret = secrets.token_hex(32)
    credentials = {DEMO_PRINCIPAL: secrets.token_hex(8),
                   OPERATOR_PRINCIPAL: secrets.token_hex(8)}
    members = {str(node_id): {"peer": f"127.0.0.1:{base_port + node_id}",
                              "client": f"127.0.0.1:{base_port + 100 + node_id}",
                              "metrics": f"127.0.0.1:{base_port + 200 + node_id}"}
               for node_id in range(1, nodes + 1)}
    for node_id, path in enumerate(paths, start=1):
        path.write_text(json.dumps({
            "cluster_id": "venue-local", "node_id": node_id, "data_dir": f"node-{node_id}",
            "secret": secret, "durability": durability, "members": members,
            "modules": list(modules), "module_options": {},
            "credentials": credentials, "operators": [OPERATOR_PRINCIPAL],
            "tick_interval_ms": 10, "session_timeout_s": 30,
            "snapshot_interval_entries": snapshot_interval_entries,
            "checkpoint_interval_entries": checkpoint_interval_entries,
            "log_retained_entries": log_retained_entries,
            "events_retained_entries": 1_000_000,
            "persist_in_thread": persist_in_thread}, indent=2) + "\n")
    return paths


def free_base_port(nodes: int, rng: random.Random | None = None) -> int:
    """A base port for ``write_local_cluster`` whose peer, client and metrics ports are
    all free on 127.0.0.1 now, and those of one more node (``venue add-node``). Drawn
    below Linux's ephemeral range (32768 up), where outgoing connections take ports."""
    rng = rng or random.Random()
    for _ in range(50):
        base = rng.randrange(10_000, 32_000 - 300, 10)
        try:
            ports = [base + offset + node for offset in (0, 100, 200)
                     for node in range(1, nodes + 2)]
            # venue up's FIX gateway (base + 300), operator console (+ 400), WS gateway (+ 500)
            for port in (*ports, base + 300, base + 400, base + 500):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range found")
