"""The invariants a history must keep, checked as it runs. Any breach raises ``Violation``.

- Election Safety: at most one leader per term.
- Leader Completeness: a node that becomes leader holds every committed entry.
- Committed entries are never lost or changed: one canonical committed log; every entry any
  node applies must equal the canonical entry at its index. Timestamps never go backwards.
- One canonical hash chain: the chain hash every node computes (or restores from a snapshot)
  at an index is the same.
- Exactly once: no ``(session_id, client_seq)`` has an applied effect twice in the canonical
  chain, and every command the cluster acknowledged has exactly one. A command has an
  effect when the engine applied it: it has an outcome that is not a session refusal (a
  business reject is an effect too; a dropped resend has no outcome at all).
- Balances are conserved (with the risk module): on every node, after every entry, each
  asset's total over all accounts equals the deposits less the withdrawals the canonical
  log made up to that entry, and the ledger's own invariants hold.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from venue.codecs import BalanceChanged, BalanceReason, LogEntry, Outcome, SessionRejected
from venue.engine.dispatcher import Applied

TRANSFERS = (BalanceReason.DEPOSIT, BalanceReason.WITHDRAW)


def has_effect(outcome: Outcome) -> bool:
    """The engine applied the command (a session refusal is the only outcome without)."""
    events = outcome.events
    return not (len(events) == 1 and type(events[0]) is SessionRejected)


class Violation(AssertionError):
    """A safety or liveness property did not hold."""


class Checker:
    def __init__(self) -> None:
        self.leaders: dict[int, int] = {}  # term -> leader
        self.entries: dict[int, LogEntry] = {}  # canonical committed log
        self.chain: dict[int, bytes] = {}  # canonical chain hash per index
        self.effects: dict[tuple[int, int], int] = {}  # (session, seq) -> index applied
        self.acknowledged: dict[tuple[int, int], str] = {}  # (session, seq) -> how
        self.last_index = 0
        self.timestamp_max_ns = 0
        # balance totals per asset after each index where a transfer applied, in order
        self.transfer_indexes: list[int] = [0]
        self.transfer_totals: list[dict[int, int]] = [{}]

    # -- Raft ------------------------------------------------------------------------------

    def note_leader(self, term: int, node_id: int) -> bool:
        """Record that ``node_id`` leads ``term``; True the first time this term is seen."""
        if term not in self.leaders:
            self.leaders[term] = node_id
            return True
        seen = self.leaders[term]
        if seen != node_id:
            raise Violation(f"election safety: nodes {seen} and {node_id} both lead term {term}")
        return False

    def check_leader_completeness(self, node_id: int, term: int, first_index: int,
                                  term_at: object) -> None:
        """A new leader's log holds every committed entry from its first index on."""
        for index in range(max(first_index, 2), self.last_index + 1):
            entry = self.entries.get(index)
            if entry is not None and term_at(index) != entry.term:  # type: ignore[operator]
                raise Violation(f"leader completeness: leader {node_id} of term {term} lacks "
                                f"committed entry {index} (term {entry.term})")

    # -- applying --------------------------------------------------------------------------

    def on_apply(self, node_id: int, entry: LogEntry, applied: Applied) -> None:
        """A node applied ``entry`` with result ``applied``."""
        index = entry.index
        canonical = self.entries.get(index)
        if canonical is None:
            self._check_timestamp(entry)
            self.entries[index] = entry
            self.last_index = max(self.last_index, index)
            self._record_effects(index, applied.outcomes)
            self._record_transfers(index, applied.outcomes)
        elif canonical != entry:
            raise Violation(f"committed entry changed: node {node_id} applied {_show(entry)} "
                            f"where {_show(canonical)} was committed")
        self.on_chain(node_id, index, applied.chain_hash)

    def _check_timestamp(self, entry: LogEntry) -> None:
        """Committed timestamps never go backwards (NOOPs included: a leader elected with
        its log compacted to the snapshot stamps from the snapshot, seed 43 found that)."""
        if entry.timestamp_ns < self.timestamp_max_ns:
            raise Violation(f"timestamp went backwards at {entry.index} ({entry.kind.name}): "
                            f"{entry.timestamp_ns} after {self.timestamp_max_ns}")
        self.timestamp_max_ns = entry.timestamp_ns

    def on_chain(self, node_id: int, index: int, chain_hash: bytes) -> None:
        seen = self.chain.setdefault(index, chain_hash)
        if seen != chain_hash:
            raise Violation(f"hash chain diverged at index {index} on node {node_id}: "
                            f"{chain_hash.hex()} vs canonical {seen.hex()}")

    def _record_effects(self, index: int, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if not outcome.client_seq or not has_effect(outcome):
                continue
            key = (outcome.session_id, outcome.client_seq)
            earlier = self.effects.setdefault(key, index)
            if earlier != index:
                raise Violation(f"command {key} applied twice: at {earlier} and {index}")

    def _record_transfers(self, index: int, outcomes: list[Outcome]) -> None:
        totals = None
        for outcome in outcomes:
            for event in outcome.events:
                if type(event) is BalanceChanged and event.reason in TRANSFERS:
                    if totals is None:
                        if index <= self.transfer_indexes[-1]:
                            raise Violation(f"canonical entry {index} recorded out of order")
                        totals = dict(self.transfer_totals[-1])
                    totals[event.asset] = totals.get(event.asset, 0) + event.delta
        if totals is not None:
            self.transfer_indexes.append(index)
            self.transfer_totals.append(totals)

    def check_conservation(self, node_id: int, index: int, risk: Any) -> None:
        """After ``index``, the node's balances add up to what was transferred so far."""
        position = bisect_right(self.transfer_indexes, index) - 1
        expected = {asset: total for asset, total in
                    sorted(self.transfer_totals[position].items()) if total}
        actual = {asset: total for asset, total in risk.totals().items() if total}
        if actual != expected:
            raise Violation(f"balances not conserved on node {node_id} at {index}: "
                            f"{actual} != transferred {expected}")
        try:
            risk._check()
        except AssertionError as exc:
            raise Violation(f"risk ledger broken on node {node_id} at {index}: {exc}") from None

    def forget_after(self, index: int) -> None:
        """A power loss in ``replicated`` mode may lose the committed entries after
        ``index`` (powerloss.py): forget them, their chain hashes and effects, and the
        acknowledgements of their commands. Everything up to ``index`` stays checked."""
        self.entries = {i: entry for i, entry in self.entries.items() if i <= index}
        self.chain = {i: chain_hash for i, chain_hash in self.chain.items() if i <= index}
        lost = {key for key, at in self.effects.items() if at > index}
        self.effects = {key: at for key, at in self.effects.items() if key not in lost}
        self.acknowledged = {key: how for key, how in self.acknowledged.items()
                             if key not in lost}
        self.last_index = min(self.last_index, index)
        self.timestamp_max_ns = self.entries[index].timestamp_ns if index in self.entries else 0
        keep = bisect_right(self.transfer_indexes, index)
        self.transfer_indexes = self.transfer_indexes[:keep]
        self.transfer_totals = self.transfer_totals[:keep]

    # -- clients ---------------------------------------------------------------------------

    def on_acknowledged(self, session_id: int, client_seq: int, how: str) -> None:
        """A client learnt its command took effect; it must have exactly one effect."""
        key = (session_id, client_seq)
        if key not in self.effects:
            raise Violation(f"command {key} acknowledged ({how}) but never applied")
        self.acknowledged[key] = how

    def check_acknowledged(self) -> None:
        for key in sorted(self.acknowledged):
            if key not in self.effects:
                raise Violation(f"acknowledged command {key} has no applied effect")


def _show(entry: LogEntry) -> str:
    return (f"{entry.index}/term {entry.term}/{entry.kind.name}/"
            f"{entry.payload[:16].hex()}@{entry.timestamp_ns}")
