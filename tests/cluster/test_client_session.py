"""The sans-I/O client session: exactly-once application and exactly-once delivery of
replies across lost connections, redirects and refusals, against a model node."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venue.cluster.client_session import (
    BackPressure,
    ClientSession,
    CommandRefused,
    CommandResult,
    ProtocolViolation,
    Redirected,
    SessionReady,
    StreamItem,
    StreamSubscription,
)
from venue.codecs.client import (
    ClientFrame,
    Connect,
    Connected,
    Keepalive,
    Redirect,
    Reply,
    StreamEntry,
    Submit,
    SubmitRefused,
)
from venue.codecs.framing import FrameDecoder, encode_frame

encoder = msgspec.msgpack.Encoder()
decoder = msgspec.msgpack.Decoder(ClientFrame)


class ModelNode:
    """The node side as the engine behaves: a session applies seq == last + 1, drops
    duplicates; each applied command gets a position; replies after a resume position are
    replayed on reconnect. ``deliver`` decides whether a reply reaches the client."""

    def __init__(self) -> None:
        self.applied: list[tuple[int, int, bytes]] = []  # (position, seq, command)
        self.last_seq = 0
        self.session_id = 0
        self.frames = FrameDecoder()
        self.pending: list[Reply] = []
        self.keepalives = 0

    def connect(self) -> None:
        self.frames = FrameDecoder()
        self.pending = []

    def receive(self, data: bytes) -> None:
        for raw in self.frames.receive_data(data):
            frame = decoder.decode(raw)
            if isinstance(frame, Connect):
                self.session_id = self.session_id or 42
                self.pending.append(Connected(self.session_id, self.last_seq, 1))
                self.pending += [Reply(pos, seq, b"\x91" + command) for pos, seq, command
                                 in self.applied if pos > frame.resume_from_position]
            elif isinstance(frame, Submit) and frame.client_seq == self.last_seq + 1:
                self.last_seq = frame.client_seq
                position = 100 + len(self.applied)
                self.applied.append((position, frame.client_seq, frame.command))
                self.pending.append(Reply(position, frame.client_seq, b"\x91" + frame.command))
            elif isinstance(frame, Keepalive):
                self.keepalives += 1

    def send(self, count: int | None = None) -> bytes:
        if count is None:
            count = len(self.pending)
        chosen, self.pending = self.pending[:count], self.pending[count:]
        return b"".join(encode_frame(encoder.encode(frame)) for frame in chosen)


def session(**kwargs: int) -> ClientSession:
    return ClientSession(cluster_id="c", principal="alice", credential="token", **kwargs)


def test_open_submit_and_receive_replies() -> None:
    client, node = session(), ModelNode()
    client.connection_made()
    node.receive(client.data_to_send())
    assert client.receive_data(node.send()) == [SessionReady(42, 0)]
    seqs = [client.submit(b"c%d" % n) for n in range(3)]
    node.receive(client.data_to_send())
    results = client.receive_data(node.send())
    assert seqs == [1, 2, 3]
    assert [(r.client_seq, r.position) for r in results] == [(1, 100), (2, 101), (3, 102)]
    assert client.unacked == {}


def test_commands_held_while_disconnected_are_sent_on_connect() -> None:
    client, node = session(), ModelNode()
    client.submit(b"early")
    client.connection_made()
    node.receive(client.data_to_send())
    events = client.receive_data(node.send())
    node.receive(client.data_to_send())
    events += client.receive_data(node.send())
    assert events[0] == SessionReady(42, 0)
    assert events[1] == CommandResult(1, 100, b"\x91early")


def test_after_a_lost_connection_applied_commands_are_not_resent_and_replies_not_lost(
        ) -> None:
    client, node = session(), ModelNode()
    client.connection_made()
    node.receive(client.data_to_send())
    client.receive_data(node.send())
    for n in range(3):
        client.submit(b"c%d" % n)
    node.receive(client.data_to_send())  # the node applies all three ...
    got = client.receive_data(node.send(1))  # ... but only the first reply arrives
    client.connection_lost()
    node.connect()
    client.connection_made()
    node.receive(client.data_to_send())
    got += client.receive_data(node.send())
    node.receive(client.data_to_send())
    got += client.receive_data(node.send())
    results = [e for e in got if isinstance(e, CommandResult)]
    assert [r.client_seq for r in results] == [1, 2, 3]
    assert [seq for _, seq, _ in node.applied] == [1, 2, 3], "each applied exactly once"


def test_backpressure_bounds_commands_awaiting_replies() -> None:
    client = session(unacked_commands_max=2)
    client.submit(b"a")
    client.submit(b"b")
    with pytest.raises(BackPressure, match="unacked_commands_max=2"):
        client.submit(b"c")
    assert client.next_seq == 3


def test_redirect_refusal_and_resend() -> None:
    client, node = session(), ModelNode()
    client.connection_made()
    frames = encode_frame(encoder.encode(Redirect(3, "127.0.0.1:7003")))
    assert client.receive_data(frames) == [Redirected(3, "127.0.0.1:7003")]
    assert not client.ready
    client.connection_made()
    node.receive(client.data_to_send())
    client.receive_data(node.send())
    client.submit(b"x")
    client.data_to_send()  # lost: the node refuses it instead
    refused = encode_frame(encoder.encode(SubmitRefused(1, "not leader")))
    assert client.receive_data(refused) == [CommandRefused(1, "not leader")]
    client.resend_unacked()
    node.receive(client.data_to_send())
    assert client.receive_data(node.send()) == [CommandResult(1, 100, b"\x91x")]


def test_keepalives_follow_the_interval_and_garbage_is_a_violation() -> None:
    client, node = session(keepalive_interval_ns=10), ModelNode()
    client.connection_made(now_ns=0)
    node.receive(client.data_to_send())
    client.receive_data(node.send())
    for now in range(0, 35, 5):
        client.tick(now)
    node.receive(client.data_to_send())
    assert node.keepalives == 3
    (event,) = client.receive_data(encode_frame(b"\xc1"))
    assert isinstance(event, ProtocolViolation)


def test_stream_subscription_delivers_each_position_once_across_reconnects() -> None:
    stream = StreamSubscription(from_position=5)
    stream.connection_made()
    entries = b"".join(encode_frame(encoder.encode(StreamEntry(p, b"e%d" % p)))
                       for p in (5, 6, 7))
    assert [e.position for e in stream.receive_data(entries)] == [5, 6, 7]
    stream.connection_made()  # resumes at 8; a node replaying 7 again is tolerated
    again = b"".join(encode_frame(encoder.encode(StreamEntry(p, b"e%d" % p))) for p in (7, 8))
    assert stream.receive_data(again) == [StreamItem(8, b"e8")]
    (gap,) = stream.receive_data(encode_frame(encoder.encode(StreamEntry(10, b""))))
    assert isinstance(gap, ProtocolViolation) and "skipped from 9 to 10" in gap.reason


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4), st.booleans(), st.booleans()),
                max_size=25))
def test_random_disconnects_never_lose_or_duplicate(script) -> None:
    """Each step: submit some commands (maybe lost in flight), let the node deliver some
    replies, maybe drop the connection (losing the replies in flight). In the end every
    command is applied once and its reply delivered once."""
    client, node = session(), ModelNode()
    client.connection_made()
    node.receive(client.data_to_send())
    delivered: list[int] = []
    submitted = 0
    for submit_count, reply_count, drop, lose_submits in script:
        for _ in range(submit_count):
            client.submit(b"n%d" % submitted)
            submitted += 1
        outgoing = client.data_to_send()
        if not (drop and lose_submits):
            node.receive(outgoing)
        events = client.receive_data(node.send(reply_count))
        delivered += [e.client_seq for e in events if isinstance(e, CommandResult)]
        if drop:
            client.connection_lost()
            node.connect()
            client.connection_made()
            node.receive(client.data_to_send())
    for _ in range(3):  # heal: let everything through
        node.receive(client.data_to_send())
        events = client.receive_data(node.send())
        delivered += [e.client_seq for e in events if isinstance(e, CommandResult)]
    assert [seq for _, seq, _ in node.applied] == list(range(1, submitted + 1))
    assert delivered == list(range(1, submitted + 1))
    assert client.unacked == {}
