"""The event hash chain, checked independently of venue.engine.hashing."""

from __future__ import annotations

import struct

import msgspec
import pytest
import xxhash

from venue.codecs import (
    ConfigChange,
    EntryKind,
    LogEntry,
    NoOp,
    Outcome,
    SnapshotMarker,
)
from venue.engine import Engine, HashChain, chain_step
from venue.engine.hashing import GENESIS
from venue.engine.modules.counter import CounterModule, Increment

from .helpers import AlarmModule, LogBuilder, ScheduleTimer, encode


def _independent_link(previous: bytes, index: int, event_bytes: bytes) -> bytes:
    return xxhash.xxh3_128(previous + struct.pack(">Q", index) + event_bytes).digest()


def _mixed_log() -> LogBuilder:
    log = LogBuilder()
    one = log.open("alice")
    two = log.open("bob")
    log.batch((one, 1, Increment(1, 2)), (two, 1, Increment(1, 3)), (one, 3, Increment(9)))
    log.batch((two, 2, ScheduleTimer(4, log.now_ns + 1)))
    log.noop()
    log.timer()
    log.close(one)
    return log


def test_each_head_is_xxh3_128_of_previous_head_big_endian_index_and_event_bytes() -> None:
    engine = Engine([CounterModule(), AlarmModule()])
    canonical = msgspec.msgpack.Encoder(order="deterministic")
    head = bytes(16)
    for entry in _mixed_log().entries:
        applied = engine.apply(entry)
        assert applied.event_bytes == canonical.encode(applied.outcomes)
        head = _independent_link(head, entry.index, applied.event_bytes)
        assert applied.chain_hash == head == engine.chain.head
    assert engine.chain.index == len(_mixed_log().entries)


def test_event_bytes_are_array_like_outcome_rows() -> None:
    engine = Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    log.batch((session, 1, Increment(5, 2)))
    engine.apply(log.entries[0])
    applied = engine.apply(log.entries[1])
    assert msgspec.msgpack.decode(applied.event_bytes) == [[session, 1, [[900, 5, 2]]]]
    assert engine.schema.decode_outcomes(applied.event_bytes) == applied.outcomes


def test_chain_step_and_hash_chain_agree_with_the_definition() -> None:
    assert GENESIS == bytes(16)
    assert chain_step(GENESIS, 1, b"\x90") == _independent_link(GENESIS, 1, b"\x90")
    chain = HashChain()
    chain.advance(1, b"\x90")
    assert chain.advance(2, b"\x91\x01") == _independent_link(chain_step(GENESIS, 1, b"\x90"),
                                                             2, b"\x91\x01")
    with pytest.raises(ValueError, match="hash chain at 2 cannot take index 4"):
        chain.advance(4, b"")
    with pytest.raises(ValueError, match="chain head must be 16 bytes"):
        HashChain(0, b"short")


KINDS = {
    EntryKind.NOOP: encode(NoOp()),
    EntryKind.SNAPSHOT_MARKER: encode(SnapshotMarker("operator")),
    EntryKind.CONFIG_CHANGE: encode(ConfigChange(1, 4, "127.0.0.1:7004")),
    EntryKind.TIMER: encode([0]),
}


def test_every_entry_kind_advances_the_chain_even_without_events() -> None:
    engine = Engine([CounterModule()])
    log = _mixed_log()
    heads = [GENESIS]
    for entry in log.entries:
        heads.append(engine.apply(entry).chain_hash)
    index = len(log.entries)
    for kind, payload in KINDS.items():
        index += 1
        applied = engine.apply(LogEntry(index, 2, log.now_ns + index, kind, payload))
        assert applied.outcomes == [] and applied.event_bytes == b"\x90"
        heads.append(applied.chain_hash)
    assert len(dict.fromkeys(heads)) == len(heads), "every entry moved the head somewhere new"
    assert engine.applied_index == engine.chain.index == index


def test_the_index_is_part_of_each_link() -> None:
    assert chain_step(GENESIS, 1, b"\x90") != chain_step(GENESIS, 2, b"\x90")


def test_the_order_of_events_changes_the_hash() -> None:
    """Same final state, events in a different order: different chains."""
    heads = []
    for rows in ([(1, Increment(1)), (2, Increment(2))], [(1, Increment(2)), (2, Increment(1))]):
        engine = Engine([CounterModule()])
        log = LogBuilder()
        session = log.open()
        log.batch(*[(session, seq, command) for seq, command in rows])
        heads.append([engine.apply(entry).chain_hash for entry in log.entries])
        assert engine.module("counter").values == {1: 1, 2: 1}
    assert heads[0][0] == heads[1][0]
    assert heads[0][1] != heads[1][1]
    swapped = [Outcome(1, 1, []), Outcome(1, 2, [])]
    assert chain_step(GENESIS, 1, encode(swapped)) != chain_step(GENESIS, 1,
                                                                 encode(swapped[::-1]))


def test_identical_logs_give_identical_chains_and_a_changed_entry_diverges_from_there() -> None:
    first, second = Engine([CounterModule()]), Engine([CounterModule()])
    log = LogBuilder()
    session = log.open()
    for seq in range(1, 6):
        log.batch((session, seq, Increment(seq)))
    heads_a = [first.apply(entry).chain_hash for entry in log.entries]
    altered = list(log.entries)
    altered[3] = LogEntry(4, 1, altered[3].timestamp_ns, EntryKind.COMMAND_BATCH,
                          LogBuilder().batch((session, 3, Increment(99))).payload)
    heads_b = [second.apply(entry).chain_hash for entry in altered]
    assert heads_a[:3] == heads_b[:3]
    assert all(a != b for a, b in zip(heads_a[3:], heads_b[3:], strict=True))
