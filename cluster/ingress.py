"""The node side of the client protocol, sans-I/O: client connections in, replies and
event streams out.

``ClientIngress`` knows every client connection of one node by an integer id; the asyncio
shell hands it bytes (``receive_data``), hands it what the node core produced
(``on_output``) and writes out what ``data_to_send`` returns. A follower answers a
``Connect`` with ``Redirect`` to the leader's client address. On the leader, a new session
is proposed as a SESSION_OPEN entry and confirmed with ``Connected`` once applied; a resumed
session is told its last applied ``client_seq`` and gets the replies it may have missed,
replayed from the event store. Submits go to the sequencer, or come back as
``SubmitRefused`` (not leader, back-pressure). A subscription catches up from the event
store and then follows live, each position once. Sessions whose client stays silent for
``session_timeout_ns`` are closed by the leader (SESSION_CLOSE, reason TIMEOUT).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field

import msgspec

from venue.codecs import ConfigChange, SessionCloseReason
from venue.codecs.client import (
    AdminRequest,
    AdminResult,
    ClientFrame,
    Connect,
    Connected,
    ConnectRefused,
    Disconnect,
    GetStatus,
    Keepalive,
    NodeStatus,
    Redirect,
    Reply,
    StreamEntry,
    Submit,
    SubmitRefused,
    Subscribe,
)
from venue.codecs.errors import FrameError
from venue.codecs.framing import FramedChannel

from .nodecore import NodeCore, NotLeader, Output, Overloaded

SESSION_TIMEOUT_NS_DEFAULT = 30_000_000_000
CATCH_UP_ENTRIES_PER_CALL = 2_048  # a subscriber's catch-up is paced, not one long stall
REFUSED_CREDENTIAL = "unknown cluster, principal or credential"
OUTPUT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024  # a client that does not read is dropped

_decoder = msgspec.msgpack.Decoder(ClientFrame)
_events_encoder = msgspec.msgpack.Encoder(order="deterministic")


@dataclass
class Connection:
    channel: FramedChannel = field(default_factory=FramedChannel)
    session_id: int = 0
    opening_token: int = 0
    subscribed_from: int = 0  # > 0: a subscriber; the next position it needs
    live: bool = False  # a subscriber that has caught up
    closed: str = ""  # why the shell should close it ("" while open)


class ClientIngress:
    def __init__(self, core: NodeCore, *, cluster_id: str, credentials: dict[str, str],
                 client_addresses: dict[int, str], operators: tuple[str, ...] = (),
                 session_timeout_ns: int = SESSION_TIMEOUT_NS_DEFAULT,
                 output_bytes_max: int = OUTPUT_BYTES_MAX_DEFAULT) -> None:
        self.core = core
        self.cluster_id = cluster_id
        self._credentials = credentials
        self.client_addresses = client_addresses
        self.operators = operators
        self.session_timeout_ns = session_timeout_ns
        self.output_bytes_max = output_bytes_max
        self.connections: dict[int, Connection] = {}
        self._by_session: dict[int, int] = {}  # session id -> connection id
        self._last_heard_ns: dict[int, int] = {}  # session id -> when (on this leader)
        self._was_leader = False

    # -- connections ---------------------------------------------------------------------

    def connection_made(self, connection_id: int) -> None:
        self.connections[connection_id] = Connection()

    def connection_lost(self, connection_id: int) -> None:
        connection = self.connections.pop(connection_id, None)
        if connection is not None and self._by_session.get(connection.session_id) == \
                connection_id:
            del self._by_session[connection.session_id]

    def data_to_send(self, connection_id: int) -> bytes:
        connection = self.connections.get(connection_id)
        return b"" if connection is None else connection.channel.data_to_send()

    def receive_data(self, connection_id: int, data: bytes, now_ns: int) -> None:
        connection = self.connections[connection_id]
        try:
            frames = connection.channel.receive_data(data)
        except FrameError as exc:
            connection.closed = f"bad framing: {exc}"
            return
        for raw in frames:
            try:
                frame = _decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                connection.channel.write(ConnectRefused(f"undecodable frame: {exc}"))
                connection.closed = "undecodable frame"
                return
            self._handle(connection_id, connection, frame, now_ns)
            if connection.closed:
                return

    def _handle(self, connection_id: int, connection: Connection, frame: object,
                now_ns: int) -> None:
        if isinstance(frame, Submit):
            self._submit(connection, frame, now_ns)
        elif isinstance(frame, Keepalive):
            if connection.session_id:
                self._last_heard_ns[connection.session_id] = now_ns
        elif isinstance(frame, Connect):
            self._connect(connection_id, connection, frame, now_ns)
        elif isinstance(frame, Subscribe):
            if not self._authentic(frame.principal, frame.credential):
                connection.channel.write(ConnectRefused(REFUSED_CREDENTIAL))
                connection.closed = "refused"
                return
            connection.subscribed_from = max(1, frame.from_position)
            connection.live = False
            self.pump(connection)
        elif isinstance(frame, GetStatus):
            report = json.dumps(self.core.status(), sort_keys=True).encode()
            connection.channel.write(NodeStatus(report))
        elif isinstance(frame, AdminRequest):
            ok, text = self._admin(frame, now_ns)
            connection.channel.write(AdminResult(ok, text))
        elif isinstance(frame, Disconnect):
            if connection.session_id and self.core.is_leader:
                self.core.close_session(connection.session_id, SessionCloseReason.CLIENT,
                                        now_ns)
            connection.closed = "client disconnected"

    def _connect(self, connection_id: int, connection: Connection, frame: Connect,
                 now_ns: int) -> None:
        if (frame.cluster_id != self.cluster_id
                or not self._authentic(frame.principal, frame.credential)):
            connection.channel.write(ConnectRefused(REFUSED_CREDENTIAL))
            connection.closed = "refused"
            return
        core = self.core
        if core.halted_reason:
            connection.channel.write(ConnectRefused(f"node halted: {core.halted_reason}"))
            connection.closed = "refused"
            return
        if not core.is_leader:
            leader = core.leader_id
            connection.channel.write(Redirect(leader, self.client_addresses.get(leader, "")))
            connection.closed = "redirected"
            return
        if frame.session_id == 0:
            try:
                core.open_session(frame.principal, connection_id, now_ns)
            except (NotLeader, Overloaded) as exc:
                connection.channel.write(ConnectRefused(str(exc)))
                connection.closed = "refused"
                return
            connection.opening_token = connection_id
            return
        sessions = core.engine.sessions
        if (not sessions.is_open(frame.session_id)
                or sessions.principal(frame.session_id) != frame.principal):
            connection.channel.write(ConnectRefused(f"no open session {frame.session_id} "
                                                    f"for {frame.principal}"))
            connection.closed = "refused"
            return
        self._attach(connection_id, connection, frame.session_id, now_ns)
        self._replay_replies(connection, frame.session_id, frame.resume_from_position)

    def _authentic(self, principal: str, credential: str) -> bool:
        expected = self._credentials.get(principal)
        return expected is not None and hmac.compare_digest(expected.encode(),
                                                            credential.encode())

    def _admin(self, frame: AdminRequest, now_ns: int) -> tuple[bool, str]:
        """Carry out an operator action; (done or proposed, what happened)."""
        if frame.principal not in self.operators or not self._authentic(frame.principal,
                                                                        frame.credential):
            return False, "not an operator of this cluster"
        core = self.core
        action = frame.action
        try:
            if action == "snapshot":
                index = core.take_snapshot()
                return True, (f"node {core.settings.node_id}: snapshot at index {index}"
                              if index else "nothing applied since the last snapshot")
            if action == "transfer-leader":
                core.transfer_leader(frame.node_id)
                return True, f"leadership transfer to node {frame.node_id} started"
            if action in ("add-node", "add-learner", "remove-node"):
                change = {"add-node": 1, "add-learner": 2, "remove-node": 3}[action]
                if change != 3:
                    _check_member_address(frame.address)
                core.change_membership(ConfigChange(change, frame.node_id, frame.address),
                                       now_ns)
                return True, f"{action} {frame.node_id} proposed; watch venue status"
        except NotLeader as exc:
            return False, f"not the leader (node {exc.leader_id or 'unknown'} is)"
        except (Overloaded, ValueError) as exc:
            return False, str(exc)
        return False, f"unknown action {action!r}"

    def _attach(self, connection_id: int, connection: Connection, session_id: int,
                now_ns: int) -> None:
        other = self._by_session.get(session_id)
        if other is not None and other != connection_id and other in self.connections:
            self.connections[other].closed = "the session resumed on another connection"
        connection.session_id = session_id
        self._by_session[session_id] = connection_id
        self._last_heard_ns[session_id] = now_ns
        sessions = self.core.engine.sessions
        connection.channel.write(Connected(session_id, sessions.last_client_seq(session_id),
                                           self.core.settings.node_id))

    def _replay_replies(self, connection: Connection, session_id: int, position: int) -> None:
        """The session's replies from ``position`` on, from the event store. No reply is
        older than the session (its id is its SESSION_OPEN's index), so a client that saw
        none yet does not make the node read the whole store. O(entries since then)."""
        schema = self.core.engine.schema
        for record in self.core.events(max(position, session_id + 1)):
            for outcome in schema.decode_outcomes(record.event_bytes):
                if outcome.session_id == session_id and outcome.client_seq:
                    connection.channel.write(Reply(record.index, outcome.client_seq,
                                                   _events_encoder.encode(outcome.events)))

    def _submit(self, connection: Connection, frame: Submit, now_ns: int) -> None:
        if not connection.session_id:
            connection.channel.write(SubmitRefused(frame.client_seq, "no session: Connect"))
            return
        self._last_heard_ns[connection.session_id] = now_ns
        try:
            self.core.submit(connection.session_id, frame.client_seq, frame.command)
        except (NotLeader, Overloaded) as exc:
            connection.channel.write(SubmitRefused(frame.client_seq, str(exc)))

    # -- what the core produced ----------------------------------------------------------

    def on_output(self, output: Output, now_ns: int) -> None:
        for token, session_id in output.opened:
            connection = self.connections.get(token)
            if connection is not None and connection.opening_token == token:
                connection.opening_token = 0
                self._attach(token, connection, session_id, now_ns)
        for token in output.lost_opens:
            connection = self.connections.get(token)
            if connection is not None:
                connection.channel.write(ConnectRefused("the session open was lost in a "
                                                        "leader change: connect again"))
                connection.closed = "refused"
        for applied, timestamp_ns in zip(output.applied, output.applied_timestamps_ns,
                                         strict=True):
            for outcome in applied.outcomes:
                if not outcome.client_seq:
                    continue
                connection_id = self._by_session.get(outcome.session_id)
                if connection_id is not None:
                    self.connections[connection_id].channel.write(Reply(
                        applied.index, outcome.client_seq,
                        _events_encoder.encode(outcome.events)))
            for connection in self.connections.values():
                if connection.live and connection.subscribed_from == applied.index:
                    connection.channel.write(StreamEntry(applied.index, applied.event_bytes,
                                                         timestamp_ns))
                    connection.subscribed_from += 1

    def pump(self, connection: Connection) -> bool:
        """Send a subscriber's next catch-up chunk; True once it is live."""
        if not connection.subscribed_from or connection.live:
            return connection.live
        applied_index = self.core.engine.applied_index
        end = min(applied_index, connection.subscribed_from + CATCH_UP_ENTRIES_PER_CALL - 1)
        for record in self.core.events(connection.subscribed_from, end):
            if record.index != connection.subscribed_from:
                connection.channel.write(ConnectRefused(
                    f"position {connection.subscribed_from} is no longer stored"))
                connection.closed = "refused"
                return False
            connection.channel.write(StreamEntry(record.index, record.event_bytes,
                                                 record.timestamp_ns))
            connection.subscribed_from += 1
        connection.live = connection.subscribed_from > applied_index
        return connection.live

    def tick(self, now_ns: int) -> None:
        """Pace catch-ups; on the leader, close sessions that went silent."""
        for connection in self.connections.values():
            if connection.subscribed_from and not connection.live and not connection.closed:
                self.pump(connection)
            if connection.channel.output_bytes > self.output_bytes_max:
                connection.closed = "the client does not read its output"
        core = self.core
        if not core.is_leader:
            self._was_leader = False
            return
        if not self._was_leader:  # a new leader gives every session a full timeout
            self._was_leader = True
            self._last_heard_ns = dict.fromkeys(core.engine.sessions.session_ids(), now_ns)
        sessions = core.engine.sessions
        for session_id in sessions.session_ids():
            if not sessions.is_open(session_id):
                continue
            heard = self._last_heard_ns.setdefault(session_id, now_ns)
            if now_ns - heard > self.session_timeout_ns:
                try:
                    core.close_session(session_id, SessionCloseReason.TIMEOUT, now_ns)
                except (NotLeader, Overloaded):
                    return
                self._last_heard_ns[session_id] = now_ns  # proposed; not again at once


def _check_member_address(address: str) -> None:
    """A new member's address: {"peer": "host:port", "client": "host:port"}."""
    try:
        parsed = json.loads(address)
        for key in ("peer", "client"):
            host, _, port = parsed[key].rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(key)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError('address must be {"peer": "host:port", "client": "host:port"}, '
                         f"got {address!r}") from None
