"""The single-node runtime: persist, apply, record; recovery after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from venue.cluster.recovery import ChainMismatchError, recover
from venue.cluster.single import SingleNode
from venue.cluster.store import DataStore
from venue.engine import load_modules
from venue.engine.modules.counter import Increment

COUNTER = "venue.engine.modules.counter:CounterModule"


class SteppingClock:
    """A deterministic clock for the node's sequencer: +1 µs per reading."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        self.now_ns += 1_000
        return self.now_ns


def run_some(node: SingleNode, count: int) -> int:
    session = node.open_session("tester")
    node.submit(session, [Increment(k % 3) for k in range(count)])
    return session


def test_every_entry_is_persisted_with_its_events_and_chain_hash(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock(), batch_commands_max=10) as node:
        run_some(node, 35)
        assert node.store.last_index() == node.engine.applied_index == 5
        assert node.store.last_event_index() == 5
        record = node.store.event_record(5)
        assert record is not None and record.chain_hash == node.engine.chain.head


def test_timestamps_never_go_backwards_even_if_the_clock_does(tmp_path: Path) -> None:
    readings = iter([5_000, 4_000, 3_000])
    with SingleNode(tmp_path, [COUNTER], clock=lambda: next(readings)) as node:
        node.open_session("a")
        node.open_session("b")
        node.open_session("c")
        stamps = [node.store.entry(i).timestamp_ns for i in (1, 2, 3)]
    assert stamps == [5_000, 5_000, 5_000]


def test_a_restart_recovers_the_same_state_and_continues_numbering(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock()) as node:
        session = run_some(node, 20)
        head = node.engine.chain.head
        total = node.engine.module("counter").summary()["total"]
    with SingleNode(tmp_path, clock=SteppingClock(2_000_000_000_000_000_000)) as node:
        assert node.engine.chain.head == head
        assert node.engine.module("counter").summary()["total"] == total
        node.submit(session, [Increment(9)])
        assert node.engine.sessions.last_client_seq(session) == 21


def test_restart_from_a_snapshot_gives_the_chain_of_a_full_replay(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock()) as node:
        session = run_some(node, 30)
        node.take_snapshot()
        node.submit(session, [Increment(1)] * 5)
        head = node.engine.chain.head
    with DataStore(tmp_path, readonly=True) as store:
        from_snapshot = recover(store, load_modules(store.module_specs))
        from_start = recover(store, load_modules(store.module_specs), use_snapshot=False)
    assert from_snapshot.chain.head == from_start.chain.head == head


def test_events_lost_between_log_and_event_writes_are_recomputed(tmp_path: Path) -> None:
    """A crash after the log transaction but before the events transaction."""
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock()) as node:
        run_some(node, 10)
        head = node.engine.chain.head
        last = node.store.last_index()
        with node.store._env.begin(write=True, db=node.store._events) as txn:
            txn.delete(last.to_bytes(8, "big"))
    with SingleNode(tmp_path, clock=SteppingClock()) as node:
        record = node.store.event_record(last)
        assert record is not None and record.chain_hash == head


def test_replay_detects_events_that_do_not_match_the_modules(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock()) as node:
        run_some(node, 10)
        node.store.put_events([(2, b"\x00" * 16, b"\x90")])
    with DataStore(tmp_path, readonly=True) as store, \
            pytest.raises(ChainMismatchError, match="diverged at log index 2"):
        recover(store, load_modules(store.module_specs), use_snapshot=False)


def test_snapshot_marker_entry_makes_the_node_take_a_snapshot(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock()) as node:
        run_some(node, 3)
        path = node.request_snapshot("test")
        assert path.exists()
        assert node.store.snapshot_indexes() == [node.engine.applied_index]


FAULTY = "tests.cluster.faulty:FaultyCounterModule"


def test_a_module_bug_halts_the_node_and_keeps_only_whole_entries(tmp_path: Path) -> None:
    from venue.engine import EngineHalted

    with SingleNode(tmp_path, [FAULTY], clock=SteppingClock(), batch_commands_max=2) as node:
        session = node.open_session("a")
        with pytest.raises(EngineHalted) as halted:
            node.submit(session, [Increment(1), Increment(2), Increment(3), Increment(13)])
        assert halted.value.log_index == 3
        assert "bug: unlucky key" in halted.value.traceback_text
        assert node.store.last_index() == 3  # the entry is in the log ...
        assert node.store.last_event_index() == 2  # ... but produced nothing
        good_head = node.store.event_record(2).chain_hash
    with pytest.raises(EngineHalted) as again:  # the same bug halts a restart at the same index
        SingleNode(tmp_path, clock=SteppingClock())
    assert again.value.log_index == 3
    with DataStore(tmp_path, readonly=True) as store:
        engine = recover(store, load_modules(store.module_specs), to_index=2)
    assert engine.chain.head == good_head


def test_engine_limits_are_fixed_at_creation_and_used_by_every_replay(tmp_path: Path) -> None:
    with SingleNode(tmp_path, [COUNTER], engine_options={"sessions_max": 1},
                    clock=SteppingClock()) as node:
        node.open_session("first")
        with pytest.raises(RuntimeError, match="LIMIT_REACHED"):
            node.open_session("second")
        head = node.engine.chain.head
    with DataStore(tmp_path, readonly=True) as store:
        assert store.engine_options == {"sessions_max": 1}
        engine = recover(store, load_modules(store.module_specs), use_snapshot=False)
    assert engine.sessions.sessions_max == 1
    assert engine.chain.head == head


def test_module_options_are_recorded_and_used_by_every_replay(tmp_path: Path) -> None:
    stepped = "tests.cluster.faulty:SteppedCounterModule"
    with SingleNode(tmp_path, [stepped], module_options={stepped: {"step": 10}},
                    clock=SteppingClock()) as node:
        run_some(node, 3)
        assert node.engine.module("counter").value(0) == 10
        head = node.engine.chain.head
    with DataStore(tmp_path, readonly=True) as store:
        assert store.module_options == {stepped: {"step": 10}}
        engine = recover(store, store.load_modules(), use_snapshot=False)
    assert engine.chain.head == head
