"""The WS API's JSON schema: round trips of every message, and decoding errors that name
the offending field."""

from __future__ import annotations

import json

import msgspec
import pytest

from venue.gateways.ws import schema
from venue.gateways.ws.schema import (
    Auth,
    Cancel,
    DepthSnapshot,
    DepthUpdate,
    Error,
    Level,
    LevelChange,
    OrderUpdate,
    Replace,
    SchemaError,
    Submit,
    Subscribe,
    Unsubscribe,
    decode_client,
    encode,
)

CLIENT_MESSAGES = [
    Auth("secret-token"),
    Submit("a1", "BTC-USD", "buy", "limit", "0.5000", time_in_force="gtc", price="65100.50"),
    Submit("a2", "BTC-USD", "sell", "stop_limit", "1", price="1.00", stop_price="2.00",
           post_only=True, display_quantity="0.1"),
    Submit("a3", "ETH-USD", "buy", "market", "3.000"),
    Cancel(client_order_id="a1"),
    Cancel(order_id=42, symbol="BTC-USD", request_id="c9"),
    Replace("a1", "a1-b", "0.2500", price="65000.00"),
    Subscribe("depth", "BTC-USD", depth=5),
    Subscribe("trades", "BTC-USD"),
    Unsubscribe("status", "ETH-USD"),
]


@pytest.mark.parametrize("message", CLIENT_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_client_message_round_trips_through_json(message: object) -> None:
    data = msgspec.json.encode(message)
    assert json.loads(data)["type"] == type(message).__struct_config__.tag
    assert decode_client(data) == message


def test_gateway_messages_use_readable_names_and_decimal_strings() -> None:
    update = OrderUpdate("partially_filled", "a1", "BTC-USD", 17, order_id=3, side="buy",
                         price="65100.50", cum_quantity="0.2000", last_price="65100.50")
    raw = json.loads(encode(update))
    assert raw == {"type": "order", "status": "partially_filled", "client_order_id": "a1",
                   "symbol": "BTC-USD", "position": 17, "order_id": 3, "side": "buy",
                   "price": "65100.50", "cum_quantity": "0.2000",
                   "last_price": "65100.50"}
    snapshot = DepthSnapshot("BTC-USD", 4, 10, [Level("100.00", "1.0000", 2)], [])
    assert json.loads(encode(snapshot)) == {
        "type": "depth_snapshot", "symbol": "BTC-USD", "seq": 4, "depth": 10,
        "bids": [["100.00", "1.0000", 2]], "asks": []}
    update = DepthUpdate("BTC-USD", 5, [LevelChange("sell", "101.00", "0.0000", 0)])
    assert json.loads(encode(update))["changes"] == [["sell", "101.00", "0.0000", 0]]
    assert json.loads(encode(Error("schema", "bad", "price"))) == {
        "type": "error", "code": "schema", "message": "bad", "field": "price"}


@pytest.mark.parametrize(("data", "field"), [
    ({"type": "submit", "client_order_id": "a", "symbol": "X", "side": "buy",
      "order_type": "limit", "quantity": "1", "price": 65100.5}, "price"),
    ({"type": "submit", "client_order_id": "a", "symbol": "X", "side": "buy",
      "order_type": "limit"}, "quantity"),
    ({"type": "submit", "client_order_id": "a", "symbol": "X", "side": "up",
      "order_type": "limit", "quantity": "1"}, "side"),
    ({"type": "submit", "client_order_id": "a", "symbol": "X", "side": "buy",
      "order_type": "iceberg", "quantity": "1"}, "order_type"),
    ({"type": "cancel", "order_id": "7"}, "order_id"),
    ({"type": "subscribe", "channel": "depth", "symbol": "X", "depth": "5"}, "depth"),
    ({"type": "subscribe", "channel": "news", "symbol": "X"}, "channel"),
    ({"type": "auth", "token": "x", "account": 102}, "account"),
    ({"type": "buy_everything"}, "type"),
    ({"token": "x"}, "type"),
])
def test_a_message_off_the_schema_names_the_offending_field(data: dict, field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        decode_client(json.dumps(data))
    assert caught.value.field == field, str(caught.value)
    assert field in str(caught.value)


def test_text_that_is_not_json_is_a_schema_error_without_a_field() -> None:
    with pytest.raises(SchemaError) as caught:
        decode_client(b'{"type": "auth", "tok')
    assert caught.value.field is None
    assert "malformed" in str(caught.value) or "truncated" in str(caught.value)


def test_the_client_union_covers_exactly_the_documented_types() -> None:
    tags = {cls.__struct_config__.tag for cls in schema.ClientMessage.__args__}
    assert tags == {"auth", "submit", "cancel", "replace", "subscribe", "unsubscribe"}


def test_a_decimal_that_is_not_plain_digits_is_a_schema_error_on_its_field() -> None:
    for text in ("1e5", "-1", "1.", ".5", "1,5", " 1"):
        with pytest.raises(SchemaError) as caught:
            decode_client(json.dumps({"type": "replace", "orig_client_order_id": "a",
                                      "client_order_id": "b", "quantity": text}))
        assert caught.value.field == "quantity", text


def test_the_json_schema_documents_every_message_and_decimal_strings() -> None:
    document = schema.json_schema()
    client_tags = set(document["client"]["discriminator"]["mapping"])
    server_tags = set(document["server"]["discriminator"]["mapping"])
    assert client_tags == {"auth", "submit", "cancel", "replace", "subscribe", "unsubscribe"}
    assert server_tags == {"authenticated", "open_orders", "subscribed", "unsubscribed",
                           "order", "depth_snapshot", "depth_update", "trade", "status",
                           "error"}
    price = document["$defs"]["Submit"]["properties"]["price"]["anyOf"][0]
    assert price["type"] == "string" and "pattern" in price
    json.dumps(document)  # serialisable as served
