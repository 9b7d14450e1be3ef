"""The operator console's configuration (a JSON file): which cluster, the principal its
commands are sent as, the operator token that unlocks actions on the page, where to listen,
and its limits.

    {"cluster": {"addresses": ["127.0.0.1:7201"], "cluster_id": "venue-local",
                 "principal": "operator", "credential": "..."},
     "listen": ["127.0.0.1", 9890],
     "operator_token": "...",
     "limits": {"connections_max": 16}}

An empty (or missing) ``operator_token`` makes every console read-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from venue.gateways.edgeconfig import cluster_settings, limits_from

OPERATOR_TOKEN_LENGTH_MIN = 16


class ConsoleConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    connections_max: int = 16               # browser tabs at once; more are refused (1013)
    outgoing_messages_max: int = 64         # queued for one tab; past it the tab is dropped
    message_size_bytes_max: int = 4_096     # a bigger message from a tab closes it (1009)
    token_failures_max: int = 5             # wrong operator tokens before the tab is closed
    trades_kept: int = 50                   # recent trades shown
    depth_levels: int = 10                  # L2 levels per side shown
    open_orders_max: int = 100_000          # tracked across accounts; past it: truncated
    open_orders_shown_max: int = 200        # rows of one account's open orders
    push_interval_ms: int = 100             # state is pushed at most this often
    status_interval_ms: int = 500           # each node is asked for its status this often
    action_timeout_s: int = 10              # an action with no answer by then is an error

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 1:
                raise ConsoleConfigError(f"limits.{item.name} must be at least 1")


@dataclass(frozen=True)
class ConsoleConfig:
    addresses: tuple[str, ...]
    cluster_id: str
    principal: str
    credential: str
    host: str
    port: int
    operator_token: str = ""
    limits: Limits = Limits()

    @property
    def actions_enabled(self) -> bool:
        return bool(self.operator_token)


def load_console_config(path: str | Path) -> ConsoleConfig:
    """Read and check a console config file; ``ConsoleConfigError`` says what is wrong."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        host, port = raw.get("listen", ["127.0.0.1", 9890])
        config = ConsoleConfig(
            **cluster_settings(raw), host=str(host), port=int(port),
            operator_token=str(raw.get("operator_token", "")),
            limits=limits_from(raw, Limits))
    except ConsoleConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConsoleConfigError(f"{path}: {type(exc).__name__}: {exc}") from exc
    if not config.addresses:
        raise ConsoleConfigError(f"{path}: cluster.addresses is empty")
    if config.operator_token and len(config.operator_token) < OPERATOR_TOKEN_LENGTH_MIN:
        raise ConsoleConfigError(f"{path}: operator_token must be at least "
                                 f"{OPERATOR_TOKEN_LENGTH_MIN} characters (or empty)")
    return config
