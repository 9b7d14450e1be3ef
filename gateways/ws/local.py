"""The WebSocket gateway of ``venue up``: its config beside the nodes' configs (a token for
each demo account of the FIX gateway's demo data, ``venue.gateways.fix.local``) and the
gateway process.

``venue up`` would call, after the FIX gateway has seeded the demo data::

    from venue.gateways.ws import local as ws_local

    ws, lines = ws_local.start_local(folder, addresses, config.cluster_id, DEMO_PRINCIPAL,
                                     config.credentials[DEMO_PRINCIPAL], base_port + 500)
    if ws is None: ...  # lines[0] says why; stop the others
    _record_pid(folder, "ws-gateway", ws.pid); processes["ws-gateway"] = ws
    print("\n".join(lines))
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

from venue.gateways.fix.local import DEMO_ACCOUNTS, wait_listening

from .config import WsGatewayConfig, load_ws_config

__all__ = ["WS_GATEWAY_FILE", "describe", "load", "start_local", "start_ws_gateway",
           "wait_listening", "write_local_ws_gateway"]

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


def start_local(folder: Path, addresses: list[str], cluster_id: str, principal: str,
                credential: str, port: int, limits: dict[str, int] | None = None
                ) -> tuple[subprocess.Popen | None, list[str]]:
    """Write the config (once), start the gateway and wait until it listens: the process
    and the lines that describe it; or None and the reason (the process stopped)."""
    write_local_ws_gateway(folder, addresses, cluster_id, principal, credential, port,
                           limits)
    config = load(folder)
    process = start_ws_gateway(folder)
    if not wait_listening(config.host, config.port, process):
        if process.poll() is None:
            process.kill()
            process.wait(10)
        return None, [f"the WebSocket gateway did not start; see {folder / WS_LOG_FILE}"]
    return process, describe(config)


def describe(config: WsGatewayConfig) -> list[str]:
    lines = [f"  WebSocket JSON API: ws://{config.host}:{config.port}/"]
    for entry in config.tokens:
        lines.append(f"    token {entry.token}  account {entry.account}"
                     f"{'  (' + entry.name + ')' if entry.name else ''}")
    return lines


def load(folder: Path) -> WsGatewayConfig:
    return load_ws_config(folder / WS_GATEWAY_FILE)
