"""The module in a real single-node venue: named by its entry point in the data directory,
run over the LMDB log, and rebuilt from that directory by ``venue replay``."""

from __future__ import annotations

from pathlib import Path

import pytest
from rfq_harness import DEALER_A, INSTRUMENT, MS, REQUESTER, START_NS
from venue_rfq import (
    AcceptQuote,
    QuoteExpired,
    QuoteReceived,
    RequestQuote,
    RfqOpened,
    RfqRejected,
    RfqRejectReason,
    SubmitQuote,
)

from venue.cluster.cli import main
from venue.cluster.single import SingleNode
from venue.codecs import Side


def _events(applied: list) -> list:
    return [event for entry in applied for outcome in entry.outcomes
            for event in outcome.events]


def test_a_single_node_runs_the_module_and_venue_replay_rebuilds_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "node"
    clock_ns = [START_NS]  # the node's clock, which only the sequencer reads
    with SingleNode(data_dir, ["rfq"], clock=lambda: clock_ns[0]) as node:
        session = node.open_session("alice")
        opened, received = _events(node.submit(session, [
            RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "r1", 10 * MS),
            SubmitQuote(DEALER_A, "r1", "a-1", 100, 1 * MS),
        ]))
        assert isinstance(opened, RfqOpened) and isinstance(received, QuoteReceived)
        assert node.fire_due_timers() is None, "nothing due yet"
        clock_ns[0] += 2 * MS
        fired = node.fire_due_timers()
        assert fired is not None and _events([fired]) == [QuoteExpired("r1", "a-1", DEALER_A)]
        node.request_snapshot()
        (rejected,) = _events(node.submit(session, [AcceptQuote(REQUESTER, "r1", "a-1")]))
        assert isinstance(rejected, RfqRejected)
        assert rejected.reason == RfqRejectReason.QUOTE_EXPIRED
        chain_head = node.engine.chain.head.hex()

    for snapshot_flags in ([], ["--no-snapshot"]):  # from the snapshot, and from index 1
        assert main(["replay", str(data_dir), *snapshot_flags, "--no-progress"]) == 0
        out = capsys.readouterr().out
        assert f"chain_hash {chain_head}" in out
        assert "chain_check matches the event store" in out
        assert "rfq: open_rfqs=1 live_quotes=0 trades=0 next_timer_id=3" in out
