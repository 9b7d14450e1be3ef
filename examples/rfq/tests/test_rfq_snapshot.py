"""Snapshots and replay: a node restored from a snapshot taken at any point, then fed the
rest of the log, produces the same events and the same hash chain as a node that applied the
whole log; and the node's schema decodes every event the module emitted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rfq_harness import DEALER_A, DEALER_B, INSTRUMENT, MS, REQUESTER, RfqVenue, scenario
from venue_rfq import RFQ_EVENTS, RequestQuote, RfqModule, SubmitQuote

from venue.codecs import Schema, Side
from venue.engine import Engine, SnapshotVersionError, replay

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def straight() -> RfqVenue:
    """The scenario applied to one engine from the start."""
    venue = RfqVenue()
    scenario(venue)
    return venue


def test_the_scenario_reaches_every_event_type_and_empties_the_timers(
        straight: RfqVenue) -> None:
    emitted = {type(event) for applied in straight.applied for outcome in applied.outcomes
               for event in outcome.events}
    assert set(RFQ_EVENTS) <= emitted
    assert straight.module.summary() == {"open_rfqs": 0, "live_quotes": 0, "trades": 1,
                                         "next_timer_id": 10}
    assert len(straight.engine.timers) == 0


def test_restoring_a_snapshot_from_any_index_gives_the_same_events_and_chain(
        straight: RfqVenue) -> None:
    entries = straight.entries
    for split in range(1, len(entries)):
        before = RfqVenue()
        assert before.entries == entries[:1], "the same SESSION_OPEN entry"
        for entry in entries[1:split]:
            before.apply(entry)
        snapshot = before.engine.take_snapshot()

        after = RfqVenue(snapshot=snapshot)
        for entry, expected in zip(entries[split:], straight.applied[split:], strict=True):
            applied = after.apply(entry)
            assert (applied.event_bytes, applied.chain_hash) == (
                expected.event_bytes, expected.chain_hash), f"split {split}, entry {entry.index}"
        assert after.module_state() == straight.module_state()
        assert after.engine.summary() == straight.engine.summary()


def test_a_restored_node_continues_with_fresh_timer_ids(straight: RfqVenue) -> None:
    """The timer id counter is in the snapshot: a restored node must not hand out an id that
    a pending timer still holds."""
    venue = RfqVenue()
    venue.send(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "r1", 10 * MS),
               SubmitQuote(DEALER_A, "r1", "a-1", 100, 2 * MS))
    restored = RfqVenue(snapshot=venue.engine.take_snapshot())
    for node in (venue, restored):
        node.send(SubmitQuote(DEALER_B, "r1", "b-1", 101, 1 * MS))
        node.fire_timers(node.now_ns + 2 * MS)
    assert restored.module.summary() == venue.module.summary()
    assert restored.chain_head == venue.chain_head
    assert restored.module._timer_targets == venue.module._timer_targets


def test_a_restored_node_keeps_the_rfqs_in_the_order_they_opened() -> None:
    venue = RfqVenue()
    venue.send(RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "zeta", 10 * MS),
               RequestQuote(REQUESTER, INSTRUMENT, Side.BUY, 5, "alpha", 10 * MS))
    restored = RfqVenue(snapshot=venue.engine.take_snapshot())
    assert restored.module.open_rfq_ids() == ["zeta", "alpha"]
    assert restored.module_state() == venue.module_state()


def test_replay_of_the_log_into_fresh_modules_reaches_the_same_chain_head(
        straight: RfqVenue) -> None:
    engine = replay(straight.entries, [RfqModule()])
    assert engine.chain.head == straight.chain_head
    assert engine.module("rfq").take_snapshot() == straight.module_state()


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242"])
def test_the_chain_head_does_not_depend_on_the_hash_seed(straight: RfqVenue,
                                                         hash_seed: str) -> None:
    """Nothing in the module may depend on ``hash()``: string hashing changes with
    PYTHONHASHSEED, so a set or a hash-keyed order would show up here."""
    program = ("import rfq_harness as h; venue = h.RfqVenue(); h.scenario(venue); "
               "print(venue.chain_head.hex())")
    result = subprocess.run([sys.executable, "-c", program], cwd=TESTS_DIR, timeout=60,
                            env={**os.environ, "PYTHONHASHSEED": hash_seed},
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == straight.chain_head.hex()


def test_a_snapshot_with_another_snapshot_version_is_refused(straight: RfqVenue) -> None:
    class RfqModuleV2(RfqModule):
        snapshot_version = 2

    with pytest.raises(SnapshotVersionError, match="snapshot_version"):
        Engine([RfqModuleV2()], snapshot=straight.engine.take_snapshot())


@pytest.mark.parametrize("schema_of", [
    lambda engine: engine.schema,
    lambda engine: Schema(events=RFQ_EVENTS),  # what a tool builds from the module's emits
], ids=["engine schema", "tool schema"])
def test_the_schema_decodes_the_plugin_events_from_the_event_bytes(
        straight: RfqVenue, schema_of: Callable[[Engine], Schema]) -> None:
    schema = schema_of(straight.engine)
    for applied in straight.applied:
        assert schema.decode_outcomes(applied.event_bytes) == applied.outcomes
    for event_type in RFQ_EVENTS:
        assert schema.events[event_type.__struct_config__.tag] is event_type
