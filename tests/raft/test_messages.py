"""Message encoding and the size estimate that limits are enforced on."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from venue.cluster.raft import ConfState, Message, MessageType, Snapshot, SnapshotMetadata
from venue.cluster.raft.messages import limit_size
from venue.codecs import EntryKind, LogEntry

u64 = st.integers(0, 2**64 - 1)
entries = st.builds(LogEntry, u64, u64, st.integers(-(2**63), 2**63 - 1),
                    st.sampled_from(EntryKind), st.binary(max_size=300))
snapshots = st.builds(
    Snapshot,
    st.builds(SnapshotMetadata, u64, u64,
              st.builds(ConfState, st.tuples(u64, u64), st.tuples(u64))),
    st.binary(max_size=300))
messages = st.builds(
    Message, st.sampled_from(MessageType), u64, u64, u64, log_term=u64, index=u64,
    entries=st.lists(entries, max_size=5).map(tuple), commit=u64, reject=st.booleans(),
    reject_hint=u64, snapshot=st.none() | snapshots, force=st.booleans())

ENCODER = msgspec.msgpack.Encoder()
DECODER = msgspec.msgpack.Decoder(Message)


@given(messages)
def test_size_estimate_is_an_upper_bound_on_the_encoded_size(message: Message) -> None:
    assert len(ENCODER.encode(message)) <= message.size_bytes()


@given(messages)
def test_messages_round_trip_through_msgpack(message: Message) -> None:
    assert DECODER.decode(ENCODER.encode(message)) == message


def test_message_encodes_as_an_array_with_integer_type() -> None:
    message = Message(MessageType.HEARTBEAT, to=2, sender=1, term=3, commit=4)
    assert msgspec.msgpack.decode(ENCODER.encode(message))[:4] == [8, 2, 1, 3]


def test_limit_size_keeps_at_least_one_entry() -> None:
    big = [LogEntry(i, 1, 0, EntryKind.COMMAND_BATCH, b"x" * 1000) for i in (1, 2)]
    assert limit_size(big, 10) == big[:1]
    assert limit_size([], 10) == []
