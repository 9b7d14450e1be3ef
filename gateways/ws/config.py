"""The WebSocket gateway's configuration (a JSON file): which cluster, where to listen, the
tokens it accepts (each acting for exactly one account), and its limits.

    {"cluster": {"addresses": ["127.0.0.1:7201"], "cluster_id": "venue-local",
                 "principal": "demo", "credential": "..."},
     "listen": ["127.0.0.1", 9880],
     "tokens": [{"token": "...", "account": 101, "name": "DEMO1"}],
     "limits": {"messages_per_s": 1000, "subscriptions_max": 32}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from venue.gateways.edgeconfig import cluster_settings, limits_from


class WsConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    message_size_bytes_max: int = 65_536       # a bigger client message closes with 1009
    messages_per_s: int = 1_000                # per connection; then ``rate_limited`` errors
    subscriptions_max: int = 32                # per connection
    outgoing_messages_max: int = 10_000        # queued for one client; past it: disconnected
    outgoing_bytes_max: int = 8 * 1024 * 1024  # the same, in bytes
    connections_max: int = 1_000
    depth_levels_default: int = 10
    depth_levels_max: int = 100
    auth_attempts_max: int = 3                 # failed auths before the connection is closed
    client_order_id_length_max: int = 64

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 1:
                raise WsConfigError(f"limits.{item.name} must be at least 1")
        if self.depth_levels_default > self.depth_levels_max:
            raise WsConfigError("limits.depth_levels_default exceeds depth_levels_max")


@dataclass(frozen=True)
class TokenEntry:
    token: str
    account: int
    name: str = ""


@dataclass(frozen=True)
class WsGatewayConfig:
    addresses: tuple[str, ...]
    cluster_id: str
    principal: str
    credential: str
    host: str
    port: int
    tokens: tuple[TokenEntry, ...]
    limits: Limits = Limits()

    def accounts_by_token(self) -> dict[str, int]:
        return {entry.token: entry.account for entry in self.tokens}


def _token(raw: dict) -> TokenEntry:
    entry = TokenEntry(str(raw["token"]), int(raw["account"]), str(raw.get("name", "")))
    if entry.account <= 0 or len(entry.token) < 8:
        raise WsConfigError(f"token {entry.name or '?'}: account must be positive and the "
                            f"token at least 8 characters")
    return entry


def load_ws_config(path: str | Path) -> WsGatewayConfig:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        host, port = raw.get("listen", ["127.0.0.1", 9880])
        config = WsGatewayConfig(
            **cluster_settings(raw), host=str(host), port=int(port),
            tokens=tuple(_token(entry) for entry in raw["tokens"]),
            limits=limits_from(raw, Limits))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WsConfigError(f"{path}: {type(exc).__name__}: {exc}") from None
    tokens = [entry.token for entry in config.tokens]
    if len(set(tokens)) != len(tokens):
        raise WsConfigError(f"{path}: a token appears twice")
    return config
