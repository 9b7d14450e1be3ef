"""What ``venue up`` starts beside the nodes: the FIX gateway (after listing the demo
instruments and funding the demo accounts on a fresh cluster), the WebSocket gateway and the
operator console, each its own process, recorded in ``pids.json`` for ``venue down``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .nodeconfig import DEMO_PRINCIPAL, OPERATOR_PRINCIPAL, NodeConfig

#: ports above the cluster's base port
FIX_PORT_OFFSET, CONSOLE_PORT_OFFSET, WS_PORT_OFFSET = 300, 400, 500


def start_edges(folder: Path, config: NodeConfig, addresses: list[str], base_port: int,
                processes: dict) -> bool:
    """Start the gateways and the console (adding them to ``processes``) and print where
    they listen; False, with a message, if one does not come up."""
    from venue.gateways.console import local as console_local
    from venue.gateways.ws import local as ws_local

    gateway = _start_fix_gateway(folder, config, addresses, base_port + FIX_PORT_OFFSET)
    if gateway is None:
        return False
    processes["fix-gateway"] = gateway
    for name, local, principal, offset in (
            ("ws-gateway", ws_local, DEMO_PRINCIPAL, WS_PORT_OFFSET),
            ("console", console_local, OPERATOR_PRINCIPAL, CONSOLE_PORT_OFFSET)):
        process, lines = local.start_local(folder, addresses, config.cluster_id, principal,
                                           config.credentials[principal], base_port + offset)
        if process is None:
            print(f"venue up: {lines[0]}", file=sys.stderr)
            return False
        record_pid(folder, name, process.pid)
        processes[name] = process
        for line in lines:
            print(line)
    return True


def _start_fix_gateway(folder: Path, config, addresses: list[str],
                       port: int) -> subprocess.Popen | None:
    """The FIX gateway with the demo sessions; on a fresh cluster, demo instruments and
    balances first. None (and a message) if it does not come up."""
    from venue.gateways.fix import local

    local.write_local_gateway(folder, addresses, config.cluster_id, DEMO_PRINCIPAL,
                              config.credentials[DEMO_PRINCIPAL], port)
    if local.seed_demo(folder, addresses, config.cluster_id, OPERATOR_PRINCIPAL,
                       config.credentials[OPERATOR_PRINCIPAL]):
        print("  demo: BTC-USD and ETH-USD listed; accounts 101 and 102 funded")
    gateway_config = local.load(folder)
    process = local.start_gateway(folder)
    record_pid(folder, "fix-gateway", process.pid)
    if not local.wait_listening(gateway_config.host, gateway_config.port, process):
        print(f"venue up: the FIX gateway did not start; see {folder}/fix-gateway.log",
              file=sys.stderr)
        process.terminate()
        process.wait(10)
        return None
    for line in local.describe(gateway_config):
        print(line)
    return process


def record_pid(folder: Path, name: str, pid: int) -> None:
    """Add ``name``'s PID to ``pids.json`` (what ``venue down`` stops)."""
    pids_path = folder / "pids.json"
    pids = json.loads(pids_path.read_text()) if pids_path.exists() else {}
    pids[name] = pid
    pids_path.write_text(json.dumps(pids) + "\n")
