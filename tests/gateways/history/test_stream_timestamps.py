"""Entry timestamps reach the event stream: stored beside each entry's events, carried by
``StreamEntry`` and yielded by ``EventStream.entries()``."""

from __future__ import annotations

import msgspec

from venue.cluster.client_session import StreamItem, StreamSubscription
from venue.cluster.store import DataStore
from venue.codecs.client import StreamEntry
from venue.codecs.framing import FramedChannel


def test_event_records_keep_their_timestamp_and_old_records_read_as_zero(tmp_path):
    with DataStore(tmp_path, create=True, module_specs=[]) as store:
        store.put_events([(1, b"a" * 16, b"\x90", 1_700_000_000_123_456_789),
                          (2, b"b" * 16, b"\x91\x01")])  # a record from before timestamps
        first, second = store.events()
        assert (first.event_bytes, first.timestamp_ns) == (b"\x90", 1_700_000_000_123_456_789)
        assert (second.event_bytes, second.timestamp_ns) == (b"\x91\x01", 0)
        assert store.event_record(1).chain_hash == b"a" * 16


def test_a_stream_entry_without_the_field_still_decodes():
    """A node from before the field sends two-field frames; the client reads timestamp 0."""
    old = msgspec.msgpack.encode([24, 5, b"\x90"])  # tag, position, event_bytes
    assert msgspec.msgpack.decode(old, type=StreamEntry) == StreamEntry(5, b"\x90", 0)


def test_the_subscription_hands_on_the_timestamp():
    subscription = StreamSubscription(from_position=3)
    subscription.connection_made()
    channel = FramedChannel()
    channel.write(StreamEntry(3, b"\x90", 42))
    channel.write(StreamEntry(4, b"\x90", 43))
    items = subscription.receive_data(channel.data_to_send())
    assert items == [StreamItem(3, b"\x90", 42), StreamItem(4, b"\x90", 43)]
