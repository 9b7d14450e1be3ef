"""The FIX gateway of ``venue up``: its config beside the nodes' configs, demo reference
data and balances for a fresh cluster, and the gateway process.

The demo sessions (``DEMO1`` for account 101, ``DEMO2`` for account 102, and the drop copy
``DEMO-DC`` of both) let a user point any FIX 4.4 client at the cluster at once: logon with
SenderCompID ``DEMO1``, TargetCompID ``VENUE`` and the password printed by ``venue up``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from venue.codecs import AddInstrument, Deposit

from .gateway_config import GatewayConfig, load_gateway_config

GATEWAY_FILE = "fix-gateway.json"
SEEDED_FILE = "demo-seeded"
DEMO_ACCOUNTS = {"DEMO1": 101, "DEMO2": 102}
USD, BTC_ASSET, ETH_ASSET = 1, 2, 3
DEMO_INSTRUMENTS = (
    AddInstrument(1, "BTC-USD", BTC_ASSET, USD, price_decimals=2, quantity_decimals=4,
                  tick_size=1, lot_size=1, min_quantity=1, max_quantity=100_000_000),
    AddInstrument(2, "ETH-USD", ETH_ASSET, USD, price_decimals=2, quantity_decimals=3,
                  tick_size=1, lot_size=1, min_quantity=1, max_quantity=100_000_000),
)
DEMO_DEPOSITS = tuple(Deposit(account, asset, 10 ** 16, f"demo-{account}-{asset}")
                      for account in DEMO_ACCOUNTS.values()
                      for asset in (USD, BTC_ASSET, ETH_ASSET))


def write_local_gateway(folder: Path, addresses: list[str], cluster_id: str,
                        principal: str, credential: str, port: int) -> Path:
    """``fix-gateway.json`` in ``folder`` (kept if already there)."""
    path = folder / GATEWAY_FILE
    if path.exists():
        return path
    sessions: list[dict] = [
        {"target_comp_id": target, "account": account, "password": secrets.token_hex(6),
         "throttle_per_s": 2_000, "cancel_on_disconnect": False}
        for target, account in DEMO_ACCOUNTS.items()]
    sessions.append({"target_comp_id": "DEMO-DC", "kind": "drop_copy",
                     "accounts": list(DEMO_ACCOUNTS.values()),
                     "password": secrets.token_hex(6)})
    path.write_text(json.dumps({
        "cluster": {"addresses": addresses, "cluster_id": cluster_id,
                    "principal": principal, "credential": credential},
        "listen": ["127.0.0.1", port], "data_dir": "fix-gateway",
        "sender_comp_id": "VENUE", "sessions": sessions}, indent=2) + "\n")
    return path


def seed_demo(folder: Path, addresses: list[str], cluster_id: str, principal: str,
              credential: str) -> bool:
    """List the demo instruments and fund the demo accounts, once per cluster folder;
    True if it ran now."""
    marker = folder / SEEDED_FILE
    if marker.exists():
        return False
    from venue.cluster.client import VenueClient

    async def run() -> None:
        client = VenueClient(addresses, cluster_id=cluster_id, principal=principal,
                             credential=credential)
        await client.start()
        try:
            for command in (*DEMO_INSTRUMENTS, *DEMO_DEPOSITS):
                await client.submit(command)
        finally:
            await client.close()

    asyncio.run(run())
    marker.write_text("the demo instruments and balances were added\n")
    return True


def start_gateway(folder: Path) -> subprocess.Popen:
    with (folder / "fix-gateway.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "fix-gateway", "--config",
             str(folder / GATEWAY_FILE)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_listening(host: str, port: int, process: subprocess.Popen,
                   timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def describe(config: GatewayConfig) -> list[str]:
    lines = [f"  FIX 4.4: {config.host}:{config.port}  (TargetCompID {config.sender_comp_id})"]
    for entry in config.sessions:
        sid = entry.fix.session_id
        what = (f"account {entry.account}" if entry.kind == "order_entry"
                else f"drop copy of {', '.join(map(str, entry.accounts)) or 'all'}")
        lines.append(f"    SenderCompID {sid.target_comp_id:<8} password "
                     f"{entry.fix.password}  {what}")
    return lines


def load(folder: Path) -> GatewayConfig:
    return load_gateway_config(folder / GATEWAY_FILE)
