"""``venue node / up / down / status``: run cluster nodes and look at them.

``venue up`` writes the config files of a local cluster (3 nodes on 127.0.0.1, the built-in
reference data, risk and matching modules, a demo and an operator credential) into a
folder, or reuses the ones there, starts one ``venue node`` process per node, waits for a
leader and prints where to connect. It stays in the foreground until Ctrl-C (or SIGTERM),
then stops its nodes; with ``--detach`` it returns once the cluster is up, and
``venue down`` stops the nodes by the PIDs it recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .nodeconfig import DEMO_PRINCIPAL, OPERATOR_PRINCIPAL, load_config, write_local_cluster

UP_TIMEOUT_S = 30
DOWN_TIMEOUT_S = 10


def cmd_node(args: argparse.Namespace) -> int:
    from .server import main_node

    return main_node(load_config(args.config), join=args.join)


def _configs(folder: Path) -> list[Path]:
    paths = sorted(folder.glob("node-*.json"))
    if not paths:
        raise SystemExit(f"venue: no node-*.json config files in {folder}")
    return paths


def _client_addresses(folder: Path) -> dict[int, str]:
    configs = [load_config(path) for path in _configs(folder)]
    return {config.node_id: f"{config.me.client[0]}:{config.me.client[1]}"
            for config in configs}


def _statuses(folder: Path) -> dict[int, dict | str]:
    from .client import node_status

    async def ask_all() -> dict[int, dict | str]:
        answers: dict[int, dict | str] = {}
        for node_id, address in _client_addresses(folder).items():
            try:
                answers[node_id] = await node_status(address, timeout_s=1.0)
            except (TimeoutError, OSError, ConnectionError) as exc:
                answers[node_id] = f"unreachable ({type(exc).__name__})"
        return answers

    return asyncio.run(ask_all())


def wait_for_leader(folder: Path, timeout_s: float = UP_TIMEOUT_S,
                    every_node: bool = True) -> int:
    """The leader's node id once every node (or, without ``every_node``, every node that
    answers) agrees on one; 0 on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        statuses = _statuses(folder)
        leaders = {status["leader_id"] for status in statuses.values()
                   if isinstance(status, dict)}
        roles = [status["role"] for status in statuses.values() if isinstance(status, dict)]
        if len(leaders) == 1 and 0 not in leaders and roles.count("leader") == 1 \
                and (len(roles) == len(statuses) or not every_node):
            return leaders.pop()
        time.sleep(0.1)
    return 0


def start_node(folder: Path, path: Path, join: bool = False) -> subprocess.Popen:
    """Start one node in the background, logging to node-N.log; record its PID."""
    node_id = load_config(path).node_id
    with (folder / f"node-{node_id}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "venue.cluster.cli", "node", "--config", str(path),
             *(["--join"] if join else [])],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    from .edges import record_pid

    record_pid(folder, str(node_id), process.pid)
    return process


def start_nodes(folder: Path) -> dict[int, subprocess.Popen]:
    (folder / "pids.json").unlink(missing_ok=True)
    return {load_config(path).node_id: start_node(folder, path) for path in _configs(folder)}


def stop_pids(pids: dict[int, int] | dict[str, int], timeout_s: float = DOWN_TIMEOUT_S) -> None:
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    for pid in pids.values():
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (venue down): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return finished == 0


def cmd_up(args: argparse.Namespace) -> int:
    folder = Path(args.dir).resolve()
    paths = write_local_cluster(folder, nodes=args.nodes, base_port=args.base_port,
                                durability=args.durability)
    processes = start_nodes(folder)
    leader = wait_for_leader(folder)
    if not leader:
        print(f"venue up: no leader within {UP_TIMEOUT_S} s; see {folder}/node-*.log",
              file=sys.stderr)
        stop_pids({node_id: p.pid for node_id, p in processes.items()})
        return 1
    config = load_config(paths[0])
    addresses = ",".join(_client_addresses(folder).values())
    print(f"venue up: {len(processes)} nodes in {folder}, leader: node {leader}")
    print(f"  client protocol: {addresses}  (cluster id {config.cluster_id})")
    for principal in (DEMO_PRINCIPAL, OPERATOR_PRINCIPAL):
        print(f"  credential: principal {principal!r}, token {config.credentials[principal]}")
    for node_id, member in sorted(config.members.items()):
        if member.metrics:
            print(f"  metrics: http://{member.metrics[0]}:{member.metrics[1]}/metrics "
                  f"(node {node_id})")
    from .edges import start_edges

    if not start_edges(folder, config, addresses.split(","), args.base_port, processes):
        stop_pids({str(key): p.pid for key, p in processes.items()})
        return 1
    print(f"  status: venue status --dir {folder}    logs: {folder}/node-N.log, "
          f"{folder}/fix-gateway.log, ws-gateway.log, console.log")
    if args.detach:
        print(f"  stop: venue down --dir {folder}", flush=True)
        return 0
    print("  Ctrl-C stops the cluster", flush=True)
    try:
        signal.signal(signal.SIGTERM, _interrupt)  # stop the nodes as Ctrl-C does
        while any(process.poll() is None for process in processes.values()):
            time.sleep(0.2)
        print("venue up: every node exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        stop_pids({node_id: p.pid for node_id, p in processes.items()})
        print("venue up: stopped")
        return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_down(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    try:
        pids = {k: int(v) for k, v in json.loads((folder / "pids.json").read_text())
                .items()}
    except (OSError, ValueError) as exc:
        print(f"venue down: no pids.json in {folder}: {exc}", file=sys.stderr)
        return 2
    stop_pids(pids)
    (folder / "pids.json").unlink(missing_ok=True)
    print(f"venue down: stopped {len(pids)} processes")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    statuses = _statuses(Path(args.dir))
    print(f"{'node':>4} {'role':<10} {'term':>5} {'leader':>6} {'commit':>8} {'applied':>8} "
          f"{'last':>8}  lag")
    for node_id, status in sorted(statuses.items()):
        if isinstance(status, str):
            print(f"{node_id:>4} {status}")
            continue
        lag = " ".join(f"{k}:{v}" for k, v in status["lag"].items()) or "-"
        checked = " ".join(f"{k}@{v}" for k, v in status.get("checked", {}).items())
        print(f"{node_id:>4} {status['role']:<10} {status['term']:>5} {status['leader_id']:>6} "
              f"{status['commit_index']:>8} {status['applied_index']:>8} "
              f"{status['last_index']:>8}  {lag}"
              + (f"  checked {checked}" if checked else ""))
        if status.get("halted"):
            print(f"     HALTED: {status['halted']}")
        for divergence in status.get("divergences", []):
            print(f"     DIVERGENCE: {divergence}")
    return 0 if all(isinstance(s, dict) for s in statuses.values()) else 1


def add_cluster_commands(commands: argparse._SubParsersAction) -> None:
    node = commands.add_parser("node", help="run one cluster node from its config file")
    node.add_argument("--config", required=True, help="the node's JSON config file")
    node.add_argument("--join", action="store_true",
                      help="the data directory is new but the cluster is not (a lost disk, "
                           "a replacement machine): wait for the leader's snapshot, and do "
                           "not vote until it has arrived")
    node.set_defaults(handler=cmd_node)

    up = commands.add_parser("up", help="start a local cluster (3 nodes on 127.0.0.1)")
    up.add_argument("--dir", default="venue-cluster", help="configs, data and logs")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--base-port", type=int, default=7100,
                    help="peers on base+N, clients on base+100+N, metrics on base+200+N")
    up.add_argument("--durability", choices=("fsync", "replicated"), default="fsync")
    up.add_argument("--detach", action="store_true", help="return once the cluster is up")
    up.set_defaults(handler=cmd_up)

    down = commands.add_parser("down", help="stop a cluster started with up --detach")
    down.add_argument("--dir", default="venue-cluster")
    down.set_defaults(handler=cmd_down)

    from .cli_admin import add_admin_commands
    from .diverge import add_diverge_command

    add_diverge_command(commands)
    add_admin_commands(commands)

    status = commands.add_parser("status", help="role, term, indexes and lag of each node")
    status.add_argument("--dir", default="venue-cluster")
    status.set_defaults(handler=cmd_status)
