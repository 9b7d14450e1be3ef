"""The cluster's nodes as the console last saw them: each node's status report (role, term,
commit and applied index, lag, halt and divergences) or why it did not answer.

>>> table = NodeTable(["127.0.0.1:7201", "127.0.0.1:7202"])
>>> _ = table.update("127.0.0.1:7201", {"node_id": 1, "role": "leader", "term": 3,
...         "leader_id": 1, "commit_index": 9, "applied_index": 9, "last_index": 9,
...         "lag": {"2": 4}, "halted": "", "divergences": []})
>>> table.update("127.0.0.1:7202", "unreachable (ConnectionRefusedError)")
True
>>> [(view["node_id"], view["role"], view["lag"]) for view in table.view()]
[(1, 'leader', '2:4'), (0, 'unreachable (ConnectionRefusedError)', '')]
>>> table.leader_address(), table.address_of(1)
('127.0.0.1:7201', '127.0.0.1:7201')
"""

from __future__ import annotations


def node_view(address: str, status: dict | str) -> dict:
    """One row of the nodes table."""
    if isinstance(status, str):
        return {"address": address, "node_id": 0, "role": status, "reachable": False,
                "term": "", "leader_id": "", "commit_index": "", "applied_index": "",
                "last_index": "", "lag": "", "halted": "", "divergences": []}
    lag = status.get("lag", {})
    return {"address": address, "node_id": int(status.get("node_id", 0)),
            "role": str(status.get("role", "?")), "reachable": True,
            "term": status.get("term", ""), "leader_id": status.get("leader_id", ""),
            "commit_index": status.get("commit_index", ""),
            "applied_index": status.get("applied_index", ""),
            "last_index": status.get("last_index", ""),
            "lag": " ".join(f"{node}:{behind}" for node, behind in lag.items()),
            "halted": str(status.get("halted") or ""),
            "divergences": [str(d) for d in status.get("divergences", [])]}


class NodeTable:
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = list(addresses)
        self._rows = {address: node_view(address, "not asked yet") for address in addresses}

    def update(self, address: str, status: dict | str) -> bool:
        """Record one answer; True if the row changed."""
        row = node_view(address, status)
        changed = self._rows.get(address) != row
        self._rows[address] = row
        return changed

    def view(self) -> list[dict]:
        return [self._rows[address] for address in self.addresses]

    def leader_address(self) -> str | None:
        for row in self._rows.values():
            if row["role"] == "leader":
                return row["address"]
        return None

    def address_of(self, node_id: int) -> str | None:
        for row in self._rows.values():
            if row["reachable"] and row["node_id"] == node_id:
                return row["address"]
        return None

    def known_nodes(self) -> list[tuple[int, str]]:
        return sorted((row["node_id"], row["address"]) for row in self._rows.values()
                      if row["reachable"])
