"""The WebSocket gateway without I/O: connections, authentication, limits, subscriptions,
and the routing of the cluster's event stream into JSON messages.

The shell (``server.py``) calls ``connect``/``receive``/``disconnect`` for what clients do
and ``apply`` for each stream entry, then takes ``data_to_send(conn)`` (JSON text, one
message each), ``commands_to_send()`` (for the cluster) and ``closing()`` (connections to
close, with the reason). Time comes in as ``now_ns``; nothing here reads a clock.

Limits: ``messages_per_s`` per connection (a token bucket; past it each message gets a
``rate_limited`` error and is dropped, the connection stays), ``subscriptions_max`` per
connection, ``connections_max``, and the outgoing queue of a client: past
``outgoing_messages_max`` messages or ``outgoing_bytes_max`` bytes not yet taken by the
shell (a client that does not read), its queue is dropped and it is closed with a reason.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from venue.codecs import Command
from venue.gateways.instruments import Instruments
from venue.gateways.order_table import OrderTable

from .config import Limits
from .market import MarketData
from .orders import FINAL_STATUSES, order_state, order_updates
from .requests import RequestProblem, cancel_order, replace_order, submit_order
from .schema import (
    Auth,
    Authenticated,
    Cancel,
    Error,
    OpenOrders,
    Replace,
    SchemaError,
    Submit,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    decode_client,
    encode,
)

_NS = 1_000_000_000
SLOW_CONSUMER = "slow consumer: outgoing queue full"


class _Throttle:
    """A token bucket: ``rate`` messages a second, bursts up to ``rate``."""

    def __init__(self, rate: int) -> None:
        self.rate, self.tokens, self.updated_ns = rate, float(rate), 0

    def allow(self, now_ns: int) -> bool:
        if self.updated_ns:
            elapsed_s = max(0, now_ns - self.updated_ns) / _NS
            self.tokens = min(float(self.rate), self.tokens + elapsed_s * self.rate)
        self.updated_ns = now_ns
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Connection:
    __slots__ = ("account", "auth_failures", "close_reason", "conn_id", "outbox",
                 "outbox_bytes", "subscriptions", "throttle")

    def __init__(self, conn_id: int, rate: int) -> None:
        self.conn_id, self.account, self.auth_failures = conn_id, 0, 0
        self.throttle = _Throttle(rate)
        self.outbox: deque[bytes] = deque()
        self.outbox_bytes = 0
        self.subscriptions: dict[tuple[str, int], tuple] = {}  # (channel, instrument) -> key
        self.close_reason: str | None = None


class Closing(NamedTuple):
    conn_id: int
    code: int  # WebSocket close code
    reason: str


class WsGatewayCore:
    def __init__(self, tokens: dict[str, int], limits: Limits | None = None) -> None:
        self.tokens = dict(tokens)
        self.limits = limits or Limits()
        self.instruments = Instruments()
        self.market = MarketData(self.instruments)
        self.orders = OrderTable(set(self.tokens.values()))
        self.connections: dict[int, Connection] = {}
        self.by_account: dict[int, dict[int, None]] = {}
        self.subscribers: dict[tuple, dict[int, None]] = {}
        self.open_orders: dict[int, dict[int, None]] = {}  # account -> open order ids
        self.position = 0
        self._commands: list[Command] = []
        self._closing: list[Closing] = []
        self._ready: dict[int, None] = {}
        self.counts = {"connections_refused": 0, "slow_consumers_closed": 0,
                       "rate_limited": 0, "schema_errors": 0, "request_errors": 0,
                       "commands": 0, "commands_refused": 0, "messages_out": 0}

    # -- what the shell takes --------------------------------------------------------------

    def data_to_send(self, conn_id: int) -> list[bytes]:
        """The JSON messages queued for ``conn_id``, oldest first; O(messages)."""
        connection = self.connections.get(conn_id)
        if connection is None:
            return []
        out = list(connection.outbox)
        connection.outbox.clear()
        connection.outbox_bytes = 0
        return out

    def ready(self) -> list[int]:
        """Connections with queued messages since the last call."""
        out = list(self._ready)
        self._ready.clear()
        return out

    def commands_to_send(self) -> list[Command]:
        out, self._commands = self._commands, []
        return out

    def closing(self) -> list[Closing]:
        out, self._closing = self._closing, []
        return out

    def stats(self) -> dict[str, int]:
        authenticated = sum(1 for c in self.connections.values() if c.account)
        return {"connections": len(self.connections), "authenticated": authenticated,
                "position": self.position, **self.counts}

    # -- connections -------------------------------------------------------------------------

    def connect(self, conn_id: int) -> str | None:
        """Register a new connection; a reason to refuse it when the gateway is full."""
        if len(self.connections) >= self.limits.connections_max:
            self.counts["connections_refused"] += 1
            return f"too many connections (connections_max {self.limits.connections_max})"
        self.connections[conn_id] = Connection(conn_id, self.limits.messages_per_s)
        return None

    def disconnect(self, conn_id: int) -> None:
        connection = self.connections.pop(conn_id, None)
        if connection is None:
            return
        self.by_account.get(connection.account, {}).pop(conn_id, None)
        for key in connection.subscriptions.values():
            self._unsubscribe_key(conn_id, key)
        self._ready.pop(conn_id, None)

    def _send(self, connection: Connection, data: bytes) -> None:
        if connection.close_reason is not None:
            return
        connection.outbox.append(data)
        connection.outbox_bytes += len(data)
        self.counts["messages_out"] += 1
        self._ready[connection.conn_id] = None
        limits = self.limits
        if (len(connection.outbox) > limits.outgoing_messages_max
                or connection.outbox_bytes > limits.outgoing_bytes_max):
            connection.outbox.clear()
            connection.outbox_bytes = 0
            self._close(connection, 1008, SLOW_CONSUMER)
            self.counts["slow_consumers_closed"] += 1

    def _close(self, connection: Connection, code: int, reason: str) -> None:
        if connection.close_reason is None:
            connection.close_reason = reason
            self._closing.append(Closing(connection.conn_id, code, reason))

    def refuse(self, command: Command, reason: str) -> None:
        """A command the shell could not send (the cluster link is busy): every connection
        of its account gets an error naming it, so that nothing is dropped unannounced."""
        self.counts["commands_refused"] += 1
        for conn_id in self.by_account.get(command.account, {}):  # type: ignore[attr-defined]
            connection = self.connections.get(conn_id)
            if connection is not None:
                self._error(connection, "busy", reason,
                            client_order_id=getattr(command, "client_order_id", None))

    def _error(self, connection: Connection, code: str, message: str,
               field: str | None = None, client_order_id: str | None = None) -> None:
        self._send(connection, encode(Error(code, message, field, client_order_id)))

    # -- what clients send -----------------------------------------------------------------

    def receive(self, conn_id: int, data: bytes | str, now_ns: int) -> None:
        """One message from a client. Never raises for bad input: every problem becomes an
        ``error`` message to the client. O(len(data)) plus the request's own cost."""
        connection = self.connections.get(conn_id)
        if connection is None or connection.close_reason is not None:
            return
        if not connection.throttle.allow(now_ns):
            self.counts["rate_limited"] += 1
            return self._error(connection, "rate_limited", f"more than "
                               f"{self.limits.messages_per_s} messages per second; "
                               f"message dropped")
        try:
            message = decode_client(data)
        except SchemaError as error:
            self.counts["schema_errors"] += 1
            return self._error(connection, "schema", str(error), error.field)
        if isinstance(message, Auth):
            return self._auth(connection, message)
        if not connection.account:
            return self._error(connection, "not_authenticated",
                               "send {\"type\": \"auth\", \"token\": ...} first")
        try:
            self._request(connection, message)
        except RequestProblem as problem:
            self.counts["request_errors"] += 1
            self._error(connection, problem.code, str(problem), problem.field,
                        getattr(message, "client_order_id", None))

    def _auth(self, connection: Connection, message: Auth) -> None:
        if connection.account:
            return self._error(connection, "already_authenticated",
                               f"this connection acts for account {connection.account}")
        account = self.tokens.get(message.token)
        if account is None:
            connection.auth_failures += 1
            self._error(connection, "bad_token", "unknown token", "token")
            if connection.auth_failures >= self.limits.auth_attempts_max:
                self._close(connection, 1008, "authentication failed")
            return None
        connection.account = account
        self.by_account.setdefault(account, {})[connection.conn_id] = None
        self._send(connection, encode(Authenticated(account)))
        self._send(connection, encode(self._open_orders(account)))
        return None

    def _open_orders(self, account: int) -> OpenOrders:
        states = []
        for order_id in self.open_orders.get(account, {}):
            order = self.orders.open_order(order_id)
            info = None if order is None else self.instruments.by_id(order.instrument_id)
            if order is not None and info is not None:
                states.append(order_state(order, info, self.position))
        return OpenOrders(account, self.position, states)

    def _request(self, connection: Connection, message: object) -> None:
        account, limits = connection.account, self.limits
        if isinstance(message, Submit):
            command = submit_order(message, account, self.instruments,
                                   limits.client_order_id_length_max)
        elif isinstance(message, Cancel):
            command = cancel_order(message, account, self.instruments, self.orders)
        elif isinstance(message, Replace):
            command = replace_order(message, account, self.instruments, self.orders,
                                    limits.client_order_id_length_max)
        elif isinstance(message, Subscribe):
            return self._subscribe(connection, message)
        else:
            assert isinstance(message, Unsubscribe)
            return self._unsubscribe(connection, message)
        self._commands.append(command)
        self.counts["commands"] += 1
        return None

    # -- subscriptions -----------------------------------------------------------------------

    def _instrument_id(self, symbol: str) -> int:
        info = self.instruments.by_symbol(symbol)
        if info is None:
            raise RequestProblem("unknown_symbol", f"no instrument {symbol!r}", "symbol")
        return info.instrument_id

    def _subscribe(self, connection: Connection, message: Subscribe) -> None:
        instrument_id = self._instrument_id(message.symbol)
        channel = message.channel
        if (channel, instrument_id) in connection.subscriptions:
            raise RequestProblem("already_subscribed", f"already subscribed to {channel} "
                                 f"of {message.symbol}", "channel")
        if len(connection.subscriptions) >= self.limits.subscriptions_max:
            raise RequestProblem("subscription_limit", f"at most "
                                 f"{self.limits.subscriptions_max} subscriptions per "
                                 f"connection", "channel")
        depth = None
        key: tuple = (channel, instrument_id)
        if channel == "depth":
            depth = (self.limits.depth_levels_default if message.depth is None
                     else message.depth)
            if not 1 <= depth <= self.limits.depth_levels_max:
                raise RequestProblem("invalid_field", f"depth must be 1 to "
                                     f"{self.limits.depth_levels_max}", "depth")
            key = (channel, instrument_id, depth)
        connection.subscriptions[(channel, instrument_id)] = key
        self.subscribers.setdefault(key, {})[connection.conn_id] = None
        self._send(connection, encode(Subscribed(channel, message.symbol, depth)))
        if channel == "depth":
            view = self.market.open_view(instrument_id, depth)
            self._send(connection, encode(self.market.snapshot(view)))
        elif channel == "status":
            info = self.instruments.by_id(instrument_id)
            assert info is not None
            self._send(connection, encode(self.market.status(info)))

    def _unsubscribe(self, connection: Connection, message: Unsubscribe) -> None:
        instrument_id = self._instrument_id(message.symbol)
        key = connection.subscriptions.pop((message.channel, instrument_id), None)
        if key is None:
            raise RequestProblem("not_subscribed", f"not subscribed to {message.channel} "
                                 f"of {message.symbol}", "channel")
        self._unsubscribe_key(connection.conn_id, key)
        self._send(connection, encode(Unsubscribed(message.channel, message.symbol)))

    def _unsubscribe_key(self, conn_id: int, key: tuple) -> None:
        subscribers = self.subscribers.get(key)
        if subscribers is None:
            return
        subscribers.pop(conn_id, None)
        if not subscribers:
            del self.subscribers[key]
            if key[0] == "depth":
                self.market.close_view(key[1], key[2])

    # -- the stream ------------------------------------------------------------------------

    def apply(self, position: int, events: list) -> None:
        """Fold one applied log entry's events into the read model and queue the messages
        they give: order updates to every connection of the owning account, market data
        to each subscriber. O(events + messages)."""
        self.position = position
        for event in events:
            self.instruments.on_event(event)
        for account, update in order_updates(position, events, self.orders,
                                             self.instruments):
            self._track(account, update)
            targets = self.by_account.get(account)
            if targets:
                data = encode(update)
                for conn_id in targets:
                    self._send(self.connections[conn_id], data)
        for key, message in self.market.on_events(position, events):
            targets = self.subscribers.get(key)
            if targets:
                data = encode(message)
                for conn_id in targets:
                    self._send(self.connections[conn_id], data)

    def _track(self, account: int, update: object) -> None:
        """Keep ``open_orders`` in step with one order update."""
        order_id = getattr(update, "order_id", None)
        status = getattr(update, "status", None)
        if order_id is None:
            return
        if status == "accepted":
            self.open_orders.setdefault(account, {})[order_id] = None
        elif status in FINAL_STATUSES:
            self.open_orders.get(account, {}).pop(order_id, None)
