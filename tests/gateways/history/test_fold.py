"""The folding core on its own: stream entries from the real engine in, rows out."""

from __future__ import annotations

import pytest

from venue.gateways.history.fold import (
    CANCELLED,
    FILLED,
    OPEN,
    PARTIALLY_FILLED,
    HistoryFolder,
)

from .feed import scripted_feed


def fold_all(rows, start: int = 1) -> HistoryFolder:
    folder = HistoryFolder(start)
    for position, timestamp_ns, outcomes in rows:
        folder.add(position, timestamp_ns, outcomes)
    return folder


def test_one_batch_holds_each_order_in_its_latest_state():
    batch = fold_all(scripted_feed().rows).take()
    by_client_id = {row.client_order_id: row for row in batch.new_orders.values()}
    assert set(by_client_id) == {"s1", "b1", "s2r", "b2", "b3"}
    s1, b1, s2r, b2, b3 = (by_client_id[k] for k in ("s1", "b1", "s2r", "b2", "b3"))
    assert (s1.status, s1.filled_quantity, s1.leaves_quantity) == (FILLED, 20_000, 0)
    assert (b1.status, b1.filled_quantity) == (FILLED, 5_000)
    assert (s2r.status, s2r.price, s2r.quantity, s2r.filled_quantity) == (
        FILLED, 100_200, 8_000, 8_000)
    # the IOC took 1.5 + 0.8 and its 0.2 remainder was cancelled
    assert (b2.status, b2.filled_quantity, b2.leaves_quantity) == (CANCELLED, 23_000, 0)
    assert (b3.status, b3.leaves_quantity) == (CANCELLED, 0)
    assert not batch.order_updates  # every order was accepted inside this batch


def test_fills_carry_both_sides_position_and_time():
    feed = scripted_feed()
    batch = fold_all(feed.rows).take()
    assert [(f.price, f.quantity) for f in batch.fills] == [
        (100_050, 5_000), (100_050, 15_000), (100_200, 8_000)]
    times = {position: timestamp_ns for position, timestamp_ns, _ in feed.rows}
    for fill in batch.fills:
        assert fill.timestamp_ns == times[fill.position]
        assert fill.maker_account != 0 and fill.taker_account != 0
    assert len({(f.instrument_id, f.trade_id) for f in batch.fills}) == 3


def test_an_order_from_an_earlier_batch_becomes_one_coalesced_update():
    rows = scripted_feed().rows
    first_fill = next(i for i, row in enumerate(rows)
                      if any(type(e).__name__ == "OrderFilled" for o in row[2] for e in o.events))
    folder = fold_all(rows[:first_fill])  # s1 is accepted and rests
    [s1] = folder.take().new_orders.values()
    assert (s1.status, s1.leaves_quantity) == (OPEN, 20_000)
    for position, timestamp_ns, outcomes in rows[first_fill:]:
        folder.add(position, timestamp_ns, outcomes)
    later = folder.take()
    update = later.order_updates[s1.order_id]
    assert (update.filled_add, update.leaves_quantity, update.status) == (20_000, 0, FILLED)
    assert update.updated_position > s1.accepted_position
    partial = fold_all(rows[:first_fill + 1]).take()
    b1 = next(r for r in partial.new_orders.values() if r.client_order_id == "b1")
    assert b1.status == FILLED
    assert partial.new_orders[s1.order_id].status == PARTIALLY_FILLED


def test_instrument_events_and_state():
    batch = fold_all(scripted_feed().rows).take()
    assert [(e.kind, e.status, e.price, e.text) for e in batch.instrument_events] == [
        ("added", 1, 0, "BTC-USD"), ("status", 2, 0, "news"), ("status", 1, 0, ""),
        ("reference_price", 0, 100_000, "")]
    [instrument] = batch.instruments.values()
    assert (instrument.symbol, instrument.price_decimals, instrument.quantity_decimals,
            instrument.status, instrument.reference_price) == ("BTC-USD", 2, 4, 1, 100_000)


def test_a_gap_or_a_repeat_is_refused():
    rows = scripted_feed().rows
    folder = fold_all(rows[:3])
    with pytest.raises(ValueError, match="expected 4"):
        folder.add(*rows[4])
    with pytest.raises(ValueError, match="expected 4"):
        folder.add(*rows[2])


def test_take_counts_entries_and_events_and_starts_empty():
    rows = scripted_feed().rows
    folder = fold_all(rows)
    batch = folder.take()
    assert batch.entries == len(rows)
    assert batch.events == sum(len(o.events) for row in rows for o in row[2])
    assert (batch.position, batch.timestamp_ns) == rows[-1][:2]
    empty = folder.take()
    assert (empty.entries, empty.new_orders, empty.fills) == (0, {}, [])
