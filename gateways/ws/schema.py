"""The public JSON schema of the WebSocket API: readable msgspec Structs, separate from the
log format (``venue.codecs``). Every message is one JSON object with a ``"type"`` field;
prices and quantities are decimal STRINGS in the instrument's units (``"65100.50"``), never
floats, and convert exactly or are refused.

Client -> gateway: ``auth``, ``submit``, ``cancel``, ``replace``, ``subscribe``,
``unsubscribe``. Gateway -> client: ``authenticated``, ``open_orders``, ``subscribed``,
``unsubscribed``, ``order``, ``depth_snapshot``, ``depth_update``, ``trade``, ``status``, ``error``.

>>> decode_client(b'{"type": "auth", "token": "t0k"}')
Auth(token='t0k')
>>> decode_client(b'{"type": "cancel", "order_id": "7"}')
Traceback (most recent call last):
  ...
venue.gateways.ws.schema.SchemaError: Expected `int | null`, got `str` - at `$.order_id`
>>> SchemaError.of(msgspec.ValidationError("Expected `str`, got `int` - at `$.price`")).field
'price'
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

__all__ = [
    "Auth", "Authenticated", "Cancel", "ClientMessage", "DepthSnapshot", "DepthUpdate",
    "Error", "Level", "LevelChange", "OpenOrders", "OrderUpdate", "Replace", "SchemaError",
    "ServerMessage", "Status", "Submit", "Subscribe", "Subscribed", "Trade", "Unsubscribe",
    "Unsubscribed", "decode_client", "encode", "json_schema",
]

SideName = Literal["buy", "sell"]
OrderTypeName = Literal["limit", "market", "stop", "stop_limit"]
TimeInForceName = Literal["gtc", "ioc", "fok", "day", "gtd"]
Channel = Literal["depth", "trades", "status"]
#: a non-negative decimal string, ``"65100.50"``; its decimals are checked per instrument
Decimal = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,20}(\.[0-9]{1,20})?$",
                                      examples=["65100.50", "0.2500"])]
OrderStatus = Literal["accepted", "filled", "partially_filled", "cancelled", "replaced",
                      "rejected", "expired", "triggered", "restated"]


class _In(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    """A message from a client; an unknown field is an error naming it."""


class Auth(_In, tag="auth"):
    token: str


class Submit(_In, tag="submit"):
    client_order_id: str
    symbol: str
    side: SideName
    order_type: OrderTypeName  # ("type" names the message)
    quantity: Decimal
    time_in_force: TimeInForceName | None = None  # default: gtc, ioc for market orders
    price: Decimal | None = None  # limit and stop_limit only
    stop_price: Decimal | None = None  # stop and stop_limit only
    post_only: bool = False
    display_quantity: Decimal | None = None  # iceberg
    expire_time_ns: int = 0  # gtd


class Cancel(_In, tag="cancel"):
    """Names the order by ``client_order_id`` or ``order_id``; ``request_id`` is this
    request's own id (the gateway makes one when absent)."""

    client_order_id: str | None = None
    order_id: int | None = None
    symbol: str | None = None  # not needed when the gateway knows the order
    request_id: str | None = None


class Replace(_In, tag="replace"):
    orig_client_order_id: str
    client_order_id: str
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    symbol: str | None = None


class Subscribe(_In, tag="subscribe"):
    channel: Channel
    symbol: str
    depth: int | None = None  # depth channel: levels per side (default and maximum in config)


class Unsubscribe(_In, tag="unsubscribe"):
    channel: Channel
    symbol: str


ClientMessage = Auth | Submit | Cancel | Replace | Subscribe | Unsubscribe


class _Out(msgspec.Struct, frozen=True, tag_field="type", omit_defaults=True):
    """A message to a client; fields that do not apply are left out."""


class Authenticated(_Out, tag="authenticated"):
    account: int


class Subscribed(_Out, tag="subscribed"):
    channel: Channel
    symbol: str
    depth: int | None = None


class Unsubscribed(_Out, tag="unsubscribed"):
    channel: Channel
    symbol: str


class OrderUpdate(_Out, tag="order"):
    """One change of one of the account's orders. ``avg_price`` is exact to the price's
    decimals plus 4; ``last_price``/``last_quantity`` describe a fill."""

    status: OrderStatus
    client_order_id: str
    symbol: str
    position: int  # the log position of the change: orders updates by it
    order_id: int | None = None
    orig_client_order_id: str | None = None
    side: SideName | None = None
    order_type: OrderTypeName | None = None
    time_in_force: TimeInForceName | None = None
    price: str | None = None
    stop_price: str | None = None
    quantity: str | None = None
    cum_quantity: str | None = None
    leaves_quantity: str | None = None
    avg_price: str | None = None
    last_price: str | None = None
    last_quantity: str | None = None
    trade_id: int | None = None
    request: Literal["submit", "cancel", "replace"] | None = None  # what a reject answers
    reason: str | None = None
    text: str | None = None
    request_id: str | None = None  # the cancel request that cancelled or was rejected


class OpenOrders(_Out, tag="open_orders"):
    """Sent right after ``authenticated``: the account's open orders as of log
    ``position`` (each an ``order`` message with status accepted or partially_filled);
    later changes come as ``order`` messages. A client that reconnects starts from it."""

    account: int
    position: int
    orders: list[OrderUpdate]


class Level(msgspec.Struct, frozen=True, array_like=True):
    """``[price, quantity, order_count]``."""

    price: str
    quantity: str
    order_count: int


class LevelChange(msgspec.Struct, frozen=True, array_like=True):
    """``[side, price, quantity, order_count]``; quantity zero: the level is gone."""

    side: SideName
    price: str
    quantity: str
    order_count: int


class DepthSnapshot(_Out, tag="depth_snapshot"):
    symbol: str
    seq: int
    depth: int
    bids: list[Level]
    asks: list[Level]


class DepthUpdate(_Out, tag="depth_update"):
    """Apply ``changes`` in order to the book of snapshot ``seq - 1``; any other seq: a
    gap, subscribe again for a new snapshot."""

    symbol: str
    seq: int
    changes: list[LevelChange]


class Trade(_Out, tag="trade"):
    symbol: str
    trade_id: int
    price: str
    quantity: str
    taker_side: SideName
    position: int


class Status(_Out, tag="status"):
    symbol: str
    status: Literal["open", "halted", "closed"]
    reason: str | None = None


class Error(_Out, tag="error"):
    code: str
    message: str
    field: str | None = None
    client_order_id: str | None = None


class SchemaError(ValueError):
    """A message that does not fit the schema; ``field`` is the offending field's path
    (``"price"``, ``"changes[0]"``), None when the message is not JSON at all."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field

    @classmethod
    def of(cls, error: msgspec.MsgspecError) -> SchemaError:
        text = str(error)
        match = _AT_PATH.search(text)
        field = match.group(1) if match else None
        named = _NAMED_FIELD.search(text)
        if named and not field:
            field = named.group(1)
        elif named and field:
            field = f"{field}.{named.group(1)}"
        return cls(text, field or None)


ServerMessage = (Authenticated | OpenOrders | Subscribed | Unsubscribed | OrderUpdate
                 | DepthSnapshot | DepthUpdate | Trade | Status | Error)


def json_schema() -> dict:
    """The API as JSON Schema (what ``GET /schema.json`` serves): ``client`` and
    ``server`` unions, every message under ``$defs``."""
    (client, server), components = msgspec.json.schema_components(
        (ClientMessage, ServerMessage), ref_template="#/$defs/{name}")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "venue WebSocket API", "client": client, "server": server,
            "$defs": components}


_AT_PATH = re.compile(r"at `\$\.?([^`]*)`")
_NAMED_FIELD = re.compile(r"field `([^`]*)`")
_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()


def decode_client(data: bytes | str) -> ClientMessage:
    """One client message, or ``SchemaError`` naming what is wrong. O(len(data))."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as error:
        raise SchemaError.of(error) from None
    except msgspec.DecodeError as error:
        raise SchemaError(str(error), None) from None


def encode(message: _Out) -> bytes:
    """The JSON text of a gateway message. O(size of the message)."""
    return _encoder.encode(message)
