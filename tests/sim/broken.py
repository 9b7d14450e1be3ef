"""Deliberately broken variants, to show the checker catches what it claims to catch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from venue.cluster.raft import Ready, recovery
from venue.cluster.raft.log import RaftLog
from venue.codecs import Event, OrderFilled, Side
from venue.engine import ApplyContext, Module
from venue.engine.modules.counter import CounterModule, Increment, Incremented
from venue.engine.modules.matching import MatchingModule
from venue.engine.modules.refdata import ReferenceDataModule
from venue.engine.modules.risk import RiskModule

from .node import SimNode


class EagerNode(SimNode):
    """Applies every entry as soon as it is persisted, before it is committed. (It takes
    no snapshots: one past the commit index would break its own restarts first.)"""

    def take_snapshot(self) -> int:
        return 0

    def apply_ready(self, ready: Ready) -> None:
        if ready.snapshot is not None:
            self.engine = self._engine_from(ready.snapshot)
        assert self.engine is not None
        for entry in (*ready.entries, *ready.committed_entries):
            if entry.index == self.engine.applied_index + 1:
                self.apply(entry)


@contextmanager
def figure8_commit() -> Iterator[None]:
    """Let a leader commit an entry of an earlier term by counting replicas (the error of
    Figure 8 in the Raft paper, §5.4.2)."""
    original = RaftLog.maybe_commit

    def maybe_commit(self: RaftLog, index: int, term: int) -> bool:
        if index > self.committed and self.term_or_zero(index) > 0:
            self.commit_to(index)
            return True
        return False

    RaftLog.maybe_commit = maybe_commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        RaftLog.maybe_commit = original  # type: ignore[method-assign]


@contextmanager
def recovering_votes() -> Iterator[None]:
    """Let a recovering node vote (replicated mode): it may have forgotten entries it
    acknowledged, so its vote can elect a leader that lacks a committed entry."""
    original = recovery.may_vote
    recovery.may_vote = lambda r, m: True  # type: ignore[assignment]
    try:
        yield
    finally:
        recovery.may_vote = original  # type: ignore[assignment]


class NodeDependentCounter(CounterModule):
    """A non-deterministic module: the value it reports depends on the node it runs on."""

    def __init__(self, node_id: int) -> None:
        super().__init__()
        self.node_id = node_id

    def on_command(self, ctx: ApplyContext, command: Increment) -> None:
        value = self.values.get(command.key, 0) + command.amount
        self.values[command.key] = value
        ctx.emit(Incremented(command.key, value + self.node_id))


def one_rogue_node(node_id: int) -> list[Module]:
    """Node 2 runs the non-deterministic counter; the others the real one."""
    return [NodeDependentCounter(node_id) if node_id == 2 else CounterModule()]


class LeakyRisk(RiskModule):
    """A risk module that credits every seller one unit of the quote asset too many: the
    books and chains agree on every node, but money appears from nowhere."""

    def on_event(self, ctx: ApplyContext, event: Event) -> None:
        super().on_event(ctx, event)
        if type(event) is OrderFilled:
            seller = (event.maker_account if event.taker_side == Side.BUY
                      else event.taker_account)
            self.ledger.row(seller, 1)[0] += 1


def leaky_trading_node(node_id: int) -> list[Module]:
    return [ReferenceDataModule(), LeakyRisk(), MatchingModule()]
