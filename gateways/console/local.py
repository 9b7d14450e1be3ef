"""The operator console of a local cluster: its config beside the nodes' configs (the
``operator`` principal's credential, a fresh operator token), the console process, and the
lines ``venue up`` prints about it."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

from venue.gateways.fix.local import wait_listening

from .config import ConsoleConfig, load_console_config

CONSOLE_FILE = "console.json"
LOG_FILE = "console.log"

__all__ = ["describe", "load", "start_console", "start_local", "wait_listening",
           "write_local_console"]


def write_local_console(folder: Path, addresses: list[str], cluster_id: str,
                        principal: str, credential: str, port: int) -> Path:
    """``console.json`` in ``folder`` (kept if already there). ``principal`` should be an
    operator of the cluster (``operator``), or snapshots and leader transfers are refused."""
    path = folder / CONSOLE_FILE
    if path.exists():
        return path
    path.write_text(json.dumps({
        "cluster": {"addresses": addresses, "cluster_id": cluster_id,
                    "principal": principal, "credential": credential},
        "listen": ["127.0.0.1", port],
        "operator_token": secrets.token_hex(16)}, indent=2) + "\n")
    return path


def start_console(folder: Path, verbose: bool = True) -> subprocess.Popen:
    with (folder / LOG_FILE).open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "console", "--config",
             str(folder / CONSOLE_FILE), *(["--verbose"] if verbose else [])],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_local(folder: Path, addresses: list[str], cluster_id: str, principal: str,
                credential: str, port: int) -> tuple[subprocess.Popen | None, list[str]]:
    """Write the config (once), start the console and wait until it listens: the process
    and the lines to print, or None and why (for ``venue up``)."""
    write_local_console(folder, addresses, cluster_id, principal, credential, port)
    config = load(folder)
    process = start_console(folder)
    if not wait_listening(config.host, config.port, process):
        if process.poll() is None:
            process.terminate()
            process.wait(10)
        return None, [f"the operator console did not start; see {folder / LOG_FILE}"]
    return process, describe(config)


def describe(config: ConsoleConfig) -> list[str]:
    return [f"  operator console: http://{config.host}:{config.port}/  "
            f"(operator token {config.operator_token or '- (read-only)'})"]


def load(folder: Path) -> ConsoleConfig:
    return load_console_config(folder / CONSOLE_FILE)
