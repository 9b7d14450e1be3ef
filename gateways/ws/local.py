"""The WebSocket gateway of ``venue up``: its config beside the nodes' configs (a token for
each demo account of the FIX gateway's demo data) and the gateway process.

``venue up`` would call, after ``seed_demo`` from ``venue.gateways.fix.local``:

    path = write_local_ws_gateway(folder, addresses, cluster_id, DEMO_PRINCIPAL,
                                  credentials[DEMO_PRINCIPAL], port)
    process = start_ws_gateway(folder)
    wait_listening(config.host, config.port, process)   # venue.gateways.fix.local's
    print("\\n".join(describe(load(folder))))
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

from venue.gateways.fix.local import DEMO_ACCOUNTS, wait_listening

from .config import WsGatewayConfig, load_ws_config

__all__ = ["WS_GATEWAY_FILE", "describe", "load", "start_ws_gateway", "wait_listening",
           "write_local_ws_gateway"]

WS_GATEWAY_FILE = "ws-gateway.json"
WS_LOG_FILE = "ws-gateway.log"


def write_local_ws_gateway(folder: Path, addresses: list[str], cluster_id: str,
                           principal: str, credential: str, port: int,
                           limits: dict[str, int] | None = None) -> Path:
    """``ws-gateway.json`` in ``folder`` (kept if already there): one token per demo
    account."""
    path = folder / WS_GATEWAY_FILE
    if path.exists():
        return path
    tokens = [{"name": name, "account": account, "token": secrets.token_hex(12)}
              for name, account in DEMO_ACCOUNTS.items()]
    path.write_text(json.dumps({
        "cluster": {"addresses": addresses, "cluster_id": cluster_id,
                    "principal": principal, "credential": credential},
        "listen": ["127.0.0.1", port], "tokens": tokens,
        "limits": limits or {"messages_per_s": 2_000}}, indent=2) + "\n")
    return path


def start_ws_gateway(folder: Path) -> subprocess.Popen:
    with (folder / WS_LOG_FILE).open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "ws-gateway", "--config",
             str(folder / WS_GATEWAY_FILE)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def describe(config: WsGatewayConfig) -> list[str]:
    lines = [f"  WebSocket JSON API: ws://{config.host}:{config.port}/"]
    for entry in config.tokens:
        lines.append(f"    token {entry.token}  account {entry.account}"
                     f"{'  (' + entry.name + ')' if entry.name else ''}")
    return lines


def load(folder: Path) -> WsGatewayConfig:
    return load_ws_config(folder / WS_GATEWAY_FILE)
