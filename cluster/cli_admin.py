"""Operator commands on a running cluster: ``venue snapshot``, ``venue transfer-leader``,
``venue add-node``, ``venue remove-node``.

Each reads the cluster's config files in ``--dir`` (for the addresses and the operator
credential) and sends an ``AdminRequest`` over the client protocol: to the leader, or for
``snapshot`` to the node named by ``--node`` (every node when not given). ``add-node``
also writes the new node's config file (next id, next ports) and, with ``--start``, starts
it with ``--join`` so it waits for the leader's snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from venue.codecs.client import AdminRequest, AdminResult

from .nodeconfig import OPERATOR_PRINCIPAL, load_config


async def admin(address: str, request: AdminRequest, timeout_s: float = 5.0) -> AdminResult:
    from .client import request_once

    return await request_once(address, request, AdminResult, timeout_s)


def _cluster(folder: Path) -> tuple[dict, dict[int, str]]:
    from .cli_cluster import _configs

    configs = [load_config(path) for path in _configs(folder)]
    addresses = {c.node_id: f"{c.me.client[0]}:{c.me.client[1]}" for c in configs}
    return json.loads(configs[0].path.read_text()), addresses


def _send(folder: Path, node_id: int | None, action: str, target: int = 0,
          address: str = "") -> int:
    """Send ``action`` to ``node_id`` (None: the leader); print the result."""
    from .cli_cluster import wait_for_leader

    raw, addresses = _cluster(folder)
    to = node_id if node_id is not None else wait_for_leader(folder, 10, every_node=False)
    if not to or to not in addresses:
        print(f"venue {action}: no such node, or no leader", file=sys.stderr)
        return 1
    request = AdminRequest(OPERATOR_PRINCIPAL, raw["credentials"][OPERATOR_PRINCIPAL],
                           action, target, address)
    result = asyncio.run(admin(addresses[to], request))
    print(f"node {to}: {result.text}")
    return 0 if result.ok else 1


def cmd_snapshot(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    nodes = [args.node] if args.node else sorted(_cluster(folder)[1])
    return max(_send(folder, node_id, "snapshot") for node_id in nodes)


def cmd_transfer_leader(args: argparse.Namespace) -> int:
    return _send(Path(args.dir), None, "transfer-leader", args.to)


def cmd_remove_node(args: argparse.Namespace) -> int:
    return _send(Path(args.dir), None, "remove-node", args.node_id)


def cmd_add_node(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    raw, _ = _cluster(folder)
    node_id = args.node_id or max(int(k) for k in raw["members"]) + 1
    first = raw["members"][min(raw["members"], key=int)]
    base = int(first["peer"].rpartition(":")[2]) - int(min(raw["members"], key=int))
    member = {"peer": f"127.0.0.1:{base + node_id}",
              "client": f"127.0.0.1:{base + 100 + node_id}",
              "metrics": f"127.0.0.1:{base + 200 + node_id}"}
    path = folder / f"node-{node_id}.json"
    config = {**raw, "node_id": node_id, "data_dir": f"node-{node_id}",
              "members": {**raw["members"], str(node_id): member}}
    path.write_text(json.dumps(config, indent=2) + "\n")
    print(f"venue add-node: wrote {path}")
    if args.start:
        from .cli_cluster import start_node

        start_node(folder, path, join=True)
        print(f"venue add-node: started node {node_id} (joining)")
    action = "add-learner" if args.learner else "add-node"
    address = json.dumps({"peer": member["peer"], "client": member["client"]})
    return _send(folder, None, action, node_id, address)


def add_admin_commands(commands: argparse._SubParsersAction) -> None:
    snapshot = commands.add_parser("snapshot", help="take a snapshot now")
    snapshot.add_argument("--dir", default="venue-cluster")
    snapshot.add_argument("--node", type=int, help="only this node (default: every node)")
    snapshot.set_defaults(handler=cmd_snapshot)

    transfer = commands.add_parser("transfer-leader", help="hand leadership to a node")
    transfer.add_argument("--dir", default="venue-cluster")
    transfer.add_argument("--to", type=int, required=True)
    transfer.set_defaults(handler=cmd_transfer_leader)

    add = commands.add_parser("add-node", help="add a node (writes its config file)")
    add.add_argument("--dir", default="venue-cluster")
    add.add_argument("--node-id", type=int, default=0, help="default: the next free id")
    add.add_argument("--learner", action="store_true", help="a non-voting replica")
    add.add_argument("--start", action="store_true", help="start it (with --join)")
    add.set_defaults(handler=cmd_add_node)

    remove = commands.add_parser("remove-node", help="remove a node from the cluster")
    remove.add_argument("--dir", default="venue-cluster")
    remove.add_argument("--node-id", type=int, required=True)
    remove.set_defaults(handler=cmd_remove_node)
