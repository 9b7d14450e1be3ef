"""What the gateways' end-to-end tests share: a free port on 127.0.0.1, and a real 3-node
cluster with the demo instruments listed and the demo accounts funded."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cluster.processes import LocalCluster
from venue.cluster.nodeconfig import OPERATOR_PRINCIPAL
from venue.gateways.fix import local


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_seeded(cluster: LocalCluster, folder: Path) -> None:
    """Start every node and, once there is a leader, list BTC-USD and ETH-USD and fund
    accounts 101 and 102 (as ``venue up`` does on a fresh cluster)."""
    cluster.start_all()
    config = cluster.configs[1]
    local.seed_demo(folder, cluster.addresses, config.cluster_id, OPERATOR_PRINCIPAL,
                    config.credentials[OPERATOR_PRINCIPAL])
