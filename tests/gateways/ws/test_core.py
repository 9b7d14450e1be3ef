"""The WS gateway's sans-I/O core in front of a real engine: authentication, the account
taken from the token, order updates routed to the owning account only, limits, and depth
views whose sequence numbers let a client detect a gap."""

from __future__ import annotations

import json
import random

from venue.codecs.commands import HaltInstrument, SubmitOrder
from venue.gateways.ws.core import SLOW_CONSUMER
from venue.gateways.ws.schema import encode

from .coreharness import ALICE, BOB, NS, SYMBOL, CoreLoop, apply_depth, book_of


def test_every_request_before_auth_is_answered_not_authenticated() -> None:
    loop = CoreLoop()
    conn = loop.connect()
    [reply] = loop.order(conn, "a1", "buy", "100.00", "1")
    assert reply["type"] == "error" and reply["code"] == "not_authenticated"
    assert loop.commands == []


def test_a_wrong_token_is_an_error_and_too_many_close_with_a_reason() -> None:
    loop = CoreLoop(auth_attempts_max=2)
    conn = loop.connect()
    [reply] = loop.send(conn, {"type": "auth", "token": "guess"})
    assert (reply["code"], reply["field"]) == ("bad_token", "token")
    assert loop.core.closing() == []
    loop.send(conn, {"type": "auth", "token": "guess2"})
    [closing] = loop.core.closing()
    assert (closing.conn_id, closing.code, closing.reason) == (conn, 1008,
                                                               "authentication failed")


def test_a_schema_error_names_the_field_and_keeps_the_connection() -> None:
    loop = CoreLoop()
    conn = loop.connect("alice-token")
    [reply] = loop.order(conn, "a1", "buy", 100.0, "1")  # a float, not a decimal string
    assert (reply["code"], reply["field"]) == ("schema", "price")
    [reply] = loop.send(conn, "{not json")
    assert reply["code"] == "schema" and "field" not in reply
    assert loop.core.closing() == [] and conn in loop.core.connections
    assert loop.order(conn, "a1", "buy", "100.00", "1")[0]["status"] == "accepted"


def test_a_price_with_too_many_decimals_is_refused_never_rounded() -> None:
    loop = CoreLoop()
    conn = loop.connect("alice-token")
    [reply] = loop.order(conn, "a1", "buy", "100.001", "1")
    assert (reply["code"], reply["field"], reply["client_order_id"]) == (
        "invalid_decimal", "price", "a1")
    [reply] = loop.order(conn, "a2", "buy", "100.00", "1", symbol="NOPE")
    assert (reply["code"], reply["field"]) == ("unknown_symbol", "symbol")
    assert loop.commands == []


def test_the_account_comes_from_the_token_and_crossing_orders_update_both() -> None:
    loop = CoreLoop()
    alice, bob = loop.connect("alice-token"), loop.connect("bob-token")
    [accepted] = loop.order(alice, "s1", "sell", "100.00", "5")
    assert isinstance(loop.commands[-1], SubmitOrder) and loop.commands[-1].account == ALICE
    assert (accepted["status"], accepted["leaves_quantity"], accepted["price"]) == (
        "accepted", "5", "100.00")
    assert loop.take(bob) == []  # bob never sees alice's orders
    bob_updates = loop.order(bob, "b1", "buy", "100.05", "3")
    assert loop.commands[-1].account == BOB
    assert [u["status"] for u in bob_updates] == ["accepted", "filled"]
    fill = bob_updates[-1]
    assert (fill["cum_quantity"], fill["leaves_quantity"], fill["last_price"],
            fill["avg_price"]) == ("3", "0", "100.00", "100.000000")
    [maker] = loop.take(alice)
    assert (maker["status"], maker["client_order_id"], maker["cum_quantity"],
            maker["leaves_quantity"]) == ("partially_filled", "s1", "3", "2")


def test_a_rejected_submit_is_reported_with_the_terms_it_asked_for() -> None:
    """The reject carries the request's own side, type, price and quantity (from the
    event: a gateway restarted after forwarding the order has no other record of it)."""
    loop = CoreLoop()
    alice = loop.connect("alice-token")
    loop.order(alice, "d1", "buy", "99.00", "4")
    [reject] = loop.order(alice, "d1", "buy", "98.00", "2")  # d1 is open: a duplicate
    assert (reject["status"], reject["request"], reject["client_order_id"]) == (
        "rejected", "submit", "d1")
    assert (reject["side"], reject["order_type"], reject["time_in_force"], reject["price"],
            reject["quantity"]) == ("buy", "limit", "gtc", "98.00", "2")
    assert "order_id" not in reject and "stop_price" not in reject


def test_cancel_and_replace_own_orders_but_never_another_accounts() -> None:
    loop = CoreLoop()
    alice, bob = loop.connect("alice-token"), loop.connect("bob-token")
    order_id = loop.order(alice, "a1", "buy", "99.00", "4")[0]["order_id"]
    [reply] = loop.send(bob, {"type": "cancel", "order_id": order_id})
    assert (reply["code"], reply["field"]) == ("unknown_order", "order_id")
    [reject] = loop.send(bob, {"type": "cancel", "order_id": order_id, "symbol": SYMBOL})
    assert (reject["status"], reject["reason"], reject["request"]) == (
        "rejected", "unknown_order", "cancel")
    assert "order_id" not in reject  # bob learns nothing of alice's order
    assert loop.take(alice) == []
    [replaced] = loop.send(alice, {"type": "replace", "orig_client_order_id": "a1",
                                   "client_order_id": "a1-2", "price": "98.50",
                                   "quantity": "2"})
    assert (replaced["status"], replaced["client_order_id"], replaced["orig_client_order_id"],
            replaced["price"], replaced["leaves_quantity"]) == (
        "replaced", "a1-2", "a1", "98.50", "2")
    [cancelled] = loop.send(alice, {"type": "cancel", "client_order_id": "a1-2"})
    assert (cancelled["status"], cancelled["order_id"], cancelled["reason"]) == (
        "cancelled", order_id, "user")


def test_past_messages_per_s_each_message_gets_an_error_and_is_dropped() -> None:
    loop = CoreLoop(messages_per_s=3)
    conn = loop.connect("alice-token")  # 1 of 3
    loop.order(conn, "a1", "buy", "99.00", "1")
    loop.order(conn, "a2", "buy", "99.00", "1")
    [reply] = loop.order(conn, "a3", "buy", "99.00", "1")
    assert reply["code"] == "rate_limited"
    assert [c.client_order_id for c in loop.commands] == ["a1", "a2"]
    assert loop.core.closing() == []
    loop.now_ns += NS  # a second later the bucket is full again
    assert loop.order(conn, "a3", "buy", "99.00", "1")[0]["status"] == "accepted"


def test_subscriptions_per_connection_are_limited() -> None:
    loop = CoreLoop(subscriptions_max=2)
    conn = loop.connect("alice-token")
    for channel in ("trades", "status"):
        assert loop.send(conn, {"type": "subscribe", "channel": channel,
                                "symbol": SYMBOL})[0]["type"] == "subscribed"
    [reply] = loop.send(conn, {"type": "subscribe", "channel": "depth", "symbol": SYMBOL})
    assert reply["code"] == "subscription_limit"
    loop.send(conn, {"type": "unsubscribe", "channel": "trades", "symbol": SYMBOL})
    assert loop.send(conn, {"type": "subscribe", "channel": "depth",
                            "symbol": SYMBOL})[1]["type"] == "depth_snapshot"


def test_depth_updates_have_consecutive_seq_and_rebuild_the_book() -> None:
    """A client that applies every update to its snapshot holds what a new snapshot shows,
    at every step; each update is exactly one more than the last seq seen."""
    loop = CoreLoop()
    trader, watcher = loop.connect("alice-token"), loop.connect("bob-token")
    loop.order(trader, "pre", "buy", "99.00", "2")
    _, snapshot = loop.send(watcher, {"type": "subscribe", "channel": "depth",
                                      "symbol": SYMBOL, "depth": 3})
    book, seq = book_of(snapshot), snapshot["seq"]
    rng = random.Random(7)
    for n in range(60):
        side = rng.choice(["buy", "sell"])
        ticks = rng.randrange(0, 8) * 5 + (9_700 if side == "buy" else 9_950)
        price, quantity = f"{ticks // 100}.{ticks % 100:02d}", str(rng.randrange(1, 4))
        answers = loop.order(trader if n % 2 else watcher, f"o{n}", side, price, quantity)
        for message in (loop.take(watcher) if n % 2 else answers):
            if message["type"] == "depth_update":
                assert message["seq"] == seq + 1, "a gap"
                seq = message["seq"]
                apply_depth(book, message["changes"])
        view = loop.core.market.views[(1, 3)]
        fresh = book_of(json.loads(encode(loop.core.market.snapshot(view))))
        assert book == fresh and view.seq == seq
        assert len(book["bids"]) <= 3 and len(book["asks"]) <= 3
    assert seq > 10


def test_a_client_that_does_not_read_is_closed_and_the_others_go_on() -> None:
    loop = CoreLoop(outgoing_messages_max=5)
    reader, sleeper = loop.connect("alice-token"), loop.connect("bob-token")
    for conn in (reader, sleeper):
        loop.send(conn, {"type": "subscribe", "channel": "trades", "symbol": SYMBOL})
    for n in range(8):
        loop.order(reader, f"s{n}", "sell", "100.00", "1")
        answers = loop.order(reader, f"b{n}", "buy", "100.00", "1")
        assert len([m for m in answers if m["type"] == "trade"]) == 1
    [closing] = loop.core.closing()
    assert (closing.conn_id, closing.code, closing.reason) == (sleeper, 1008, SLOW_CONSUMER)
    assert loop.core.data_to_send(sleeper) == []  # its queue was dropped, not kept
    assert loop.core.counts["slow_consumers_closed"] == 1


def test_status_channel_sends_the_current_status_then_changes() -> None:
    loop = CoreLoop()
    conn = loop.connect("alice-token")
    _, status = loop.send(conn, {"type": "subscribe", "channel": "status", "symbol": SYMBOL})
    assert status == {"type": "status", "symbol": SYMBOL, "status": "open"}
    loop.execute(HaltInstrument(1, reason="news"))
    assert loop.take(conn) == [{"type": "status", "symbol": SYMBOL, "status": "halted",
                                "reason": "news"}]


def test_disconnect_forgets_subscriptions_and_closes_unused_views() -> None:
    loop = CoreLoop()
    conn = loop.connect("alice-token")
    loop.send(conn, {"type": "subscribe", "channel": "depth", "symbol": SYMBOL})
    assert loop.core.market.views
    loop.core.disconnect(conn)
    assert loop.core.market.views == {} and loop.core.subscribers == {}
    assert loop.core.by_account[ALICE] == {}


def test_auth_is_followed_by_the_accounts_open_orders_as_they_stand() -> None:
    """What a client reconnecting (say after a gateway restart) starts from."""
    loop = CoreLoop()
    alice, bob = loop.connect("alice-token"), loop.connect("bob-token")
    assert loop.last_open_orders == []
    loop.order(alice, "rest", "sell", "100.00", "5")
    loop.order(alice, "gone", "sell", "101.00", "1")
    loop.send(alice, {"type": "cancel", "client_order_id": "gone"})
    loop.order(bob, "take", "buy", "100.00", "2")
    loop.connect("alice-token")
    [state] = loop.last_open_orders
    assert (state["client_order_id"], state["status"], state["cum_quantity"],
            state["leaves_quantity"], state["position"]) == (
        "rest", "partially_filled", "2", "3", loop.driver.index)
    loop.connect("bob-token")
    assert loop.last_open_orders == []  # bob's order filled; alice's are not his


def test_one_log_entry_that_changes_several_levels_is_one_update_one_seq() -> None:
    loop = CoreLoop()
    maker, watcher = loop.connect("alice-token"), loop.connect("bob-token")
    loop.order(maker, "m1", "sell", "100.00", "1")
    loop.order(maker, "m2", "sell", "100.05", "1")
    _, snapshot = loop.send(watcher, {"type": "subscribe", "channel": "depth",
                                      "symbol": SYMBOL})
    assert [level[0] for level in snapshot["asks"]] == ["100.00", "100.05"]
    loop.order(maker, "sweep", "buy", "100.05", "2")  # takes both levels in one entry
    [update] = [m for m in loop.take(watcher) if m["type"] == "depth_update"]
    assert update["seq"] == snapshot["seq"] + 1
    assert update["changes"] == [["sell", "100.00", "0", 0], ["sell", "100.05", "0", 0]]


def test_subscribe_refuses_bad_depths_unknown_symbols_and_repeats() -> None:
    loop = CoreLoop(depth_levels_max=20)
    conn = loop.connect("alice-token")
    for depth in (0, 21):
        [reply] = loop.send(conn, {"type": "subscribe", "channel": "depth",
                                   "symbol": SYMBOL, "depth": depth})
        assert (reply["code"], reply["field"]) == ("invalid_field", "depth")
    [reply] = loop.send(conn, {"type": "subscribe", "channel": "trades", "symbol": "X"})
    assert (reply["code"], reply["field"]) == ("unknown_symbol", "symbol")
    loop.send(conn, {"type": "subscribe", "channel": "trades", "symbol": SYMBOL})
    [reply] = loop.send(conn, {"type": "subscribe", "channel": "trades", "symbol": SYMBOL})
    assert reply["code"] == "already_subscribed"
    [reply] = loop.send(conn, {"type": "unsubscribe", "channel": "depth", "symbol": SYMBOL})
    assert reply["code"] == "not_subscribed"


def test_connections_past_connections_max_are_refused_with_a_reason() -> None:
    loop = CoreLoop(connections_max=2)
    loop.connect(), loop.connect()
    assert "connections_max 2" in loop.core.connect(99)
    assert 99 not in loop.core.connections


def test_a_command_the_shell_cannot_send_is_refused_to_its_account_only() -> None:
    loop = CoreLoop()
    alice, bob = loop.connect("alice-token"), loop.connect("bob-token")
    loop.core.receive(alice, json.dumps({"type": "submit", "client_order_id": "s1",
                                         "symbol": SYMBOL, "side": "sell",
                                         "order_type": "limit", "price": "100.00",
                                         "quantity": "5"}), loop.now_ns)
    [command] = loop.core.commands_to_send()
    loop.core.refuse(command, "venue busy")  # what the shell does when the link is busy
    [error] = loop.take(alice)
    assert (error["type"], error["code"], error["client_order_id"]) == ("error", "busy", "s1")
    assert loop.take(bob) == [] and loop.core.stats()["commands_refused"] == 1
