"""Snapshots: restore + replay equals straight replay; bad snapshots are refused clearly."""

from __future__ import annotations

import struct

import msgspec
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from venue.codecs import LogEntry
from venue.engine import Engine, SnapshotError, SnapshotVersionError, replay
from venue.engine.modules.counter import CounterModule, Increment
from venue.engine.snapshot import FORMAT_VERSION, MAGIC, read_snapshot

from .helpers import AlarmModule, CancelTimer, LogBuilder, ScheduleTimer


def _modules() -> list:
    return [CounterModule(), AlarmModule()]


@st.composite
def logs(draw: st.DrawFn) -> list[LogEntry]:
    """Random sessions, counter commands (with resends and gaps), timers set, moved,
    cancelled and fired, no-ops."""
    log = LogBuilder(start_ns=1_000, step_ns=100)
    next_seq: dict[int, int] = {}
    for _ in range(draw(st.integers(1, 25))):
        op = draw(st.sampled_from(["open", "close", "batch", "batch", "batch", "timer",
                                   "noop"]))
        if op == "open" or not next_seq:
            next_seq[log.open(draw(st.sampled_from(["a", "b"])))] = 1
        elif op == "close":
            session = draw(st.sampled_from(sorted(next_seq)))
            log.close(session)
            if draw(st.booleans()):  # else keep sending on it: UNKNOWN_SESSION rejects
                del next_seq[session]
        elif op == "batch":
            rows = []
            for _ in range(draw(st.integers(0, 4))):
                session = draw(st.sampled_from(sorted(next_seq)))
                seq = next_seq[session] + draw(st.sampled_from([0, 0, 0, -1, 1]))
                next_seq[session] += seq == next_seq[session]
                rows.append((session, seq, draw(_commands(log.now_ns))))
            log.batch(*rows)
        elif op == "timer":
            log.timer()
        else:
            log.noop()
    return log.entries


def _commands(now_ns: int) -> st.SearchStrategy:
    timer_ids = st.integers(1, 4)
    return st.one_of(
        st.builds(Increment, st.integers(0, 3), st.integers(1, 5)),
        st.builds(ScheduleTimer, timer_ids, st.integers(now_ns, now_ns + 500),
                  st.sampled_from([0, 1, 2]), st.sampled_from([0, 3, 4]),
                  st.integers(now_ns, now_ns + 800)),
        st.builds(CancelTimer, timer_ids),
    )


@settings(max_examples=60, deadline=None)
@given(logs(), st.data())
def test_restore_at_any_index_then_replay_gives_the_straight_replays_chain(
        entries: list[LogEntry], data: st.DataObject) -> None:
    straight: dict[int, bytes] = {}
    engine = replay(entries, _modules(),
                    on_applied=lambda entry, applied: straight.__setitem__(entry.index,
                                                                           applied.chain_hash))
    k = data.draw(st.integers(0, len(entries)), label="snapshot index")
    snapshot = replay(entries, _modules(), to_index=k).take_snapshot()
    assert Engine(_modules(), snapshot=snapshot).take_snapshot() == snapshot, "round trip"
    resumed: dict[int, bytes] = {}
    restored = replay(entries, _modules(), snapshot=snapshot,
                      on_applied=lambda entry, applied: resumed.__setitem__(entry.index,
                                                                            applied.chain_hash))
    assert list(resumed) == list(range(k + 1, len(entries) + 1))
    assert resumed == {index: head for index, head in straight.items() if index > k}
    assert restored.take_snapshot() == engine.take_snapshot()
    assert restored.summary() == engine.summary()


# -- refusals ------------------------------------------------------------------------------


def _snapshot() -> bytes:
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Increment(1, 4)), (session, 2, ScheduleTimer(1, 10**12)))
    return replay(log.entries, _modules()).take_snapshot()


def _resealed(body_and_header: bytes) -> bytes:
    """Append a valid checksum, so only the content is wrong."""
    return body_and_header + struct.pack(">Q", xxhash.xxh3_64_intdigest(body_and_header))


def test_a_snapshot_restores_its_index_head_sessions_timers_and_modules() -> None:
    data = _snapshot()
    engine = Engine(_modules(), snapshot=data)
    state = read_snapshot(data)
    assert (engine.applied_index, engine.chain.index, engine.chain.head) == (
        2, 2, state.chain_head)
    assert engine.sessions.last_client_seq(1) == 2
    assert engine.next_timer_deadline() == 10**12
    assert engine.module("counter").value(1) == 4
    assert engine.module("alarm").plans == {1: ScheduleTimer(1, 10**12)}


@pytest.mark.parametrize("data", [b"", MAGIC, b"NOTVENUE" + bytes(40)],
                         ids=["empty", "magic only", "wrong magic"])
def test_a_snapshot_with_wrong_magic_or_too_short_is_refused(data: bytes) -> None:
    with pytest.raises(SnapshotError, match=r"not a venue snapshot \(bad magic or too short\)"):
        Engine(_modules(), snapshot=data)


@pytest.mark.parametrize("offset", [12, 20, -9, -1])
def test_a_corrupt_byte_is_caught_by_the_checksum(offset: int) -> None:
    data = bytearray(_snapshot())
    data[offset] ^= 0x40
    with pytest.raises(SnapshotError, match="snapshot checksum mismatch: the file is corrupt"):
        Engine(_modules(), snapshot=bytes(data))


def test_a_future_format_version_is_refused_with_a_clear_message() -> None:
    data = _snapshot()
    future = MAGIC + struct.pack(">I", FORMAT_VERSION + 1) + data[12:-8]
    with pytest.raises(SnapshotVersionError) as caught:
        Engine(_modules(), snapshot=_resealed(future))
    assert str(caught.value) == (
        f"snapshot format version {FORMAT_VERSION + 1} is not supported by this venue, which "
        f"reads version {FORMAT_VERSION}; replay the log with the venue that wrote it, or "
        f"start from the log without this snapshot")


def test_a_snapshot_of_a_different_module_set_is_refused() -> None:
    with pytest.raises(SnapshotVersionError, match=r"snapshot holds modules \['counter', "
                       r"'alarm'\] \(in this order\) but this node runs \['counter'\]"):
        Engine([CounterModule()], snapshot=_snapshot())


def test_a_snapshot_of_the_same_modules_in_another_order_is_refused() -> None:
    """Session callbacks run in module order, so order is part of the state machine."""
    with pytest.raises(SnapshotVersionError, match=r"but this node runs \['alarm', "
                                                   r"'counter'\]"):
        Engine([AlarmModule(), CounterModule()], snapshot=_snapshot())


class CounterModuleV2(CounterModule):
    snapshot_version = 2


def test_a_different_module_snapshot_version_is_refused() -> None:
    with pytest.raises(SnapshotVersionError,
                       match=r"module 'counter' snapshot_version 1 in the snapshot, 2 in this "
                             r"node's code"):
        Engine([CounterModuleV2(), AlarmModule()], snapshot=_snapshot())


def test_a_body_that_does_not_decode_is_refused_even_with_a_valid_checksum() -> None:
    sealed = _resealed(MAGIC + struct.pack(">I", FORMAT_VERSION) + b"\x93\x01\x02\x03")
    with pytest.raises(SnapshotError, match="snapshot body does not decode"):
        Engine(_modules(), snapshot=sealed)


def test_a_chain_head_of_the_wrong_size_is_refused() -> None:
    state = read_snapshot(_snapshot())
    body = msgspec.msgpack.encode(msgspec.structs.replace(state, chain_head=b"short"))
    with pytest.raises(SnapshotError, match="snapshot chain head is unusable"):
        Engine(_modules(), snapshot=_resealed(MAGIC + struct.pack(">I", FORMAT_VERSION) +
                                              body))
