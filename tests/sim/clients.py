"""Simulated clients: open a session, submit the workload's commands through the leader, and
retry what was not acknowledged, resending the same ``client_seq``.

A client talks to one node at a time and learns only what that node shows it: its session
id when the node applies the SESSION_OPEN it proposed (same index and term), an
acknowledgement when the node applies an ``Outcome`` for its ``(session_id, client_seq)``
with an effect, or, after a timeout or a switch of node, from the session's last applied
``client_seq`` on that node (a resumed session; a resend of an applied command is dropped
silently, so this is how a client hears about it).
"""

from __future__ import annotations

from random import Random
from typing import TYPE_CHECKING, Any

import msgspec

from venue.cluster.raft import ProposalDropped
from venue.codecs import ClientCommand, CommandBatch, EntryKind, SessionOpen

from .checker import Checker

if TYPE_CHECKING:
    from .node import SimNode

WINDOW_MAX = 3  # commands in flight per client
RETRY_STEPS = 40  # resend after this long without an acknowledgement
_encoder = msgspec.msgpack.Encoder(order="deterministic")


class SimClient:
    def __init__(self, client_id: int, rng: Random, checker: Checker,
                 commands: dict[tuple[int, int], Any], workload: Any) -> None:
        self.id = client_id
        self.rng = rng
        self.checker = checker
        self.commands = commands  # (session, seq) -> the workload's model of it, shared
        self.workload = workload
        self.node_id = 1
        self.session_id = 0
        self.opening: tuple[int, int, int] | None = None  # (index, term, step proposed)
        self.next_seq = 1
        self.pending: dict[int, bytes] = {}  # client_seq -> encoded command
        self.sent_step = 0
        self.acked_count = 0

    def act(self, nodes: dict[int, SimNode], now: int, submit: bool) -> None:
        """One turn: observe, follow the leader, open or submit or retry."""
        node = nodes[self.node_id]
        if node.up:
            self._observe(node)
        if not node.is_leader():
            node = self._find_leader(nodes)
            if node is None:
                return
            self._resume(node)  # a new leader: resume the session and resend at once
            if self.pending:
                self._send(node, sorted(self.pending), now)
        if not self.session_id:
            if submit and (self.opening is None or now - self.opening[2] > RETRY_STEPS):
                self._open(node, now)
            return
        if now - self.sent_step > RETRY_STEPS and self.pending:
            self._resume(node)
            self._send(node, sorted(self.pending), now)
        elif submit and len(self.pending) < WINDOW_MAX and self.rng.randrange(4) == 0:
            seq = self.next_seq
            self.next_seq += 1
            encoded, model = self.workload.command(self.rng, self.id, seq)
            self.commands[(self.session_id, seq)] = model
            self.pending[seq] = encoded
            self._send(node, [seq], now)

    def _find_leader(self, nodes: dict[int, SimNode]) -> SimNode | None:
        node = nodes[self.node_id]
        lead = node.lead() if node.up else 0
        if lead in nodes and nodes[lead].is_leader():
            self.node_id = lead
            return nodes[lead]
        self.node_id = self.rng.choice(sorted(nodes))  # ask someone else next time
        return None

    def _observe(self, node: SimNode) -> None:
        if self.opening is not None:
            index, term, _ = self.opening
            applied_term = node.opened.get(index)
            if applied_term == term:
                self.session_id, self.opening = index, None
            elif applied_term is not None:
                self.opening = None  # our SESSION_OPEN lost its place
        for seq in sorted(self.pending):
            seen = node.outcomes.get((self.session_id, seq))
            if seen is not None and seen[1]:
                self._acknowledge(seq, "outcome")

    def _resume(self, node: SimNode) -> None:
        """Ask the node how far our session got (a reconnecting client's first question)."""
        if not self.session_id or node.engine is None:
            return
        last = node.engine.sessions.last_client_seq(self.session_id)
        for seq in sorted(self.pending):
            if seq <= last:
                self._acknowledge(seq, "resumed")

    def _acknowledge(self, seq: int, how: str) -> None:
        del self.pending[seq]
        self.acked_count += 1
        self.checker.on_acknowledged(self.session_id, seq, how)

    def _open(self, node: SimNode, now: int) -> None:
        payload = _encoder.encode(SessionOpen(f"client-{self.id}"))
        entry = _propose(node, EntryKind.SESSION_OPEN, payload)
        if entry is not None:
            self.opening = (entry[0], entry[1], now)

    def _send(self, node: SimNode, seqs: list[int], now: int) -> None:
        rows = [ClientCommand(self.session_id, seq, self.pending[seq]) for seq in seqs]
        _propose(node, EntryKind.COMMAND_BATCH, _encoder.encode(CommandBatch(rows)))
        self.sent_step = now


def _propose(node: SimNode, kind: EntryKind, payload: bytes) -> tuple[int, int] | None:
    """Propose on ``node`` (a leader); the new entry's (index, term), or None if refused."""
    assert node.raw is not None
    try:
        entry = node.raw.propose(payload, kind=kind, timestamp_ns=node.stamp_ns())
    except ProposalDropped:
        return None
    return entry.index, entry.term
