"""Sans-I/O peer protocol between cluster nodes: an authenticated handshake, then frames.

Every frame is length-prefixed (``venue.codecs.framing``) and holds one msgpack ``PeerFrame``.
The dialling node (initiator) and the accepting node (acceptor) prove to each other that
they hold the cluster's shared secret without sending it, each over the other's fresh nonce
(so a recorded handshake cannot be replayed), and that they belong to the same cluster::

    initiator -> Hello(cluster_id, node_id, to_node_id, nonce_i)
    acceptor  -> Welcome(cluster_id, node_id, nonce_a,
                         HMAC(secret, "welcome" | ids | nonce_i | nonce_a))
    initiator -> Proof(HMAC(secret, "proof" | ids | nonce_a | nonce_i))

A process that is not of the cluster, or misconfigured (other cluster id, other secret, a
node id the acceptor does not know, a wrong target) is refused with a reason and its
connection is closed; nothing it sends reaches the node. After the handshake, ``Payload``
frames carry opaque bytes (Raft messages, checkpoints) for the node to decode.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Iterable
from hashlib import sha256
from typing import NamedTuple

import msgspec

from venue.codecs.errors import FrameError
from venue.codecs.framing import FramedChannel

NONCE_SIZE_BYTES = 16
HANDSHAKE_FRAME_SIZE_BYTES_MAX = 1024
PEER_FRAME_SIZE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024


class Hello(msgspec.Struct, frozen=True, array_like=True, tag=1):
    cluster_id: str
    node_id: int
    to_node_id: int
    nonce: bytes


class Welcome(msgspec.Struct, frozen=True, array_like=True, tag=2):
    cluster_id: str
    node_id: int
    nonce: bytes
    proof: bytes


class Proof(msgspec.Struct, frozen=True, array_like=True, tag=3):
    proof: bytes


class Refused(msgspec.Struct, frozen=True, array_like=True, tag=4):
    reason: str


class Payload(msgspec.Struct, frozen=True, array_like=True, tag=5):
    data: bytes


PeerFrame = Hello | Welcome | Proof | Refused | Payload
_decoder = msgspec.msgpack.Decoder(PeerFrame)


class Role(enum.Enum):
    INITIATOR = 1
    ACCEPTOR = 2


class State(enum.Enum):
    HANDSHAKE = 1
    ESTABLISHED = 2
    FAILED = 3


class Established(NamedTuple):
    peer_id: int


class PayloadReceived(NamedTuple):
    data: bytes


class Failed(NamedTuple):
    reason: str


PeerEvent = Established | PayloadReceived | Failed


def _mac(secret: bytes, label: bytes, cluster_id: str, initiator: int, acceptor: int,
         first: bytes, second: bytes) -> bytes:
    message = b"|".join((label, cluster_id.encode(), b"%d" % initiator, b"%d" % acceptor,
                         first, second))
    return hmac.new(secret, message, sha256).digest()


class PeerProtocol:
    """One connection's protocol state. Feed it bytes with ``receive_data``; write out what
    ``data_to_send`` returns; after a ``Failed`` event, send the pending bytes (the reason)
    and close the connection."""

    def __init__(self, role: Role, *, cluster_id: str, node_id: int, secret: bytes,
                 nonce: Callable[[int], bytes], peer_id: int = 0,
                 accept_peer: Callable[[int], bool] | None = None,
                 frame_size_bytes_max: int = PEER_FRAME_SIZE_BYTES_MAX_DEFAULT) -> None:
        if not secret:
            raise ValueError("the cluster secret must not be empty")
        if role is Role.INITIATOR and peer_id <= 0:
            raise ValueError("an initiator must name the peer it dials")
        self.role = role
        self.cluster_id = cluster_id
        self.node_id = node_id
        self.peer_id = peer_id
        self._secret = secret
        self._nonce = nonce
        self._accept_peer = accept_peer or (lambda _peer: True)
        self._channel = FramedChannel(frame_size_bytes_max)
        self._my_nonce = b""
        self._their_nonce = b""
        self.state = State.HANDSHAKE
        if role is Role.INITIATOR:
            self._my_nonce = nonce(NONCE_SIZE_BYTES)
            self._write(Hello(cluster_id, node_id, peer_id, self._my_nonce))

    def _write(self, frame: msgspec.Struct) -> None:
        self._channel.write(frame)

    def data_to_send(self) -> bytes:
        return self._channel.data_to_send()

    def send(self, data: bytes) -> None:
        """Queue one payload; only once established."""
        if self.state is not State.ESTABLISHED:
            raise RuntimeError(f"cannot send on a connection in state {self.state.name}")
        self._write(Payload(data))

    def receive_data(self, data: bytes) -> list[PeerEvent]:
        if self.state is State.FAILED:
            return []
        try:
            frames = self._channel.receive_data(data)
        except FrameError as exc:
            return [self._fail(f"bad framing: {exc}")]
        events: list[PeerEvent] = []
        for frame in frames:
            if self.state is State.HANDSHAKE and len(frame) > HANDSHAKE_FRAME_SIZE_BYTES_MAX:
                events.append(self._fail("oversized handshake frame", True))
                return events
            try:
                decoded = _decoder.decode(frame)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
                events.append(self._fail(f"undecodable frame: {exc}"))
                return events
            event = self._handle(decoded)
            if event is not None:
                events.append(event)
            if self.state is State.FAILED:
                return events
        if self.state is State.HANDSHAKE and (
                self._channel.buffered_bytes > HANDSHAKE_FRAME_SIZE_BYTES_MAX):
            events.append(self._fail("oversized handshake frame", True))
        return events

    def eof(self) -> list[PeerEvent]:
        if self.state is State.FAILED:
            return []
        return [self._fail("connection closed by the peer")]

    def _fail(self, reason: str, tell_peer: bool = False) -> Failed:
        self.state = State.FAILED
        if tell_peer:
            self._write(Refused(reason))
        return Failed(reason)

    def _handle(self, frame: msgspec.Struct) -> PeerEvent | None:
        if isinstance(frame, Refused):
            return self._fail(f"refused by the peer: {frame.reason}")
        if self.state is State.ESTABLISHED:
            if isinstance(frame, Payload):
                return PayloadReceived(frame.data)
            return self._fail(f"unexpected {type(frame).__name__} after the handshake", True)
        if self.role is Role.ACCEPTOR:
            return self._acceptor_step(frame)
        return self._initiator_step(frame)

    def _acceptor_step(self, frame: msgspec.Struct) -> PeerEvent | None:
        if isinstance(frame, Hello) and not self._their_nonce:
            if frame.cluster_id != self.cluster_id:
                return self._fail(f"cluster id {frame.cluster_id!r} is not "
                                  f"{self.cluster_id!r}", True)
            if frame.to_node_id != self.node_id:
                return self._fail(f"this is node {self.node_id}, not {frame.to_node_id}", True)
            if frame.node_id == self.node_id or not self._accept_peer(frame.node_id):
                return self._fail(f"node {frame.node_id} is not a member", True)
            if len(frame.nonce) != NONCE_SIZE_BYTES:
                return self._fail("bad nonce", True)
            self.peer_id = frame.node_id
            self._their_nonce = frame.nonce
            self._my_nonce = self._nonce(NONCE_SIZE_BYTES)
            proof = _mac(self._secret, b"welcome", self.cluster_id, self.peer_id, self.node_id,
                         self._their_nonce, self._my_nonce)
            self._write(Welcome(self.cluster_id, self.node_id, self._my_nonce, proof))
            return None
        if isinstance(frame, Proof) and self._their_nonce:
            expected = _mac(self._secret, b"proof", self.cluster_id, self.peer_id, self.node_id,
                            self._my_nonce, self._their_nonce)
            if not hmac.compare_digest(frame.proof, expected):
                return self._fail("authentication failed (wrong cluster secret?)", True)
            return self._establish()
        return self._fail(f"unexpected {type(frame).__name__} during the handshake", True)

    def _initiator_step(self, frame: msgspec.Struct) -> PeerEvent | None:
        if not isinstance(frame, Welcome) or self._their_nonce:
            return self._fail(f"unexpected {type(frame).__name__} during the handshake", True)
        if frame.cluster_id != self.cluster_id or frame.node_id != self.peer_id:
            return self._fail(f"dialled node {self.peer_id} of {self.cluster_id!r}, reached "
                              f"node {frame.node_id} of {frame.cluster_id!r}", True)
        expected = _mac(self._secret, b"welcome", self.cluster_id, self.node_id, self.peer_id,
                        self._my_nonce, frame.nonce)
        if len(frame.nonce) != NONCE_SIZE_BYTES or not hmac.compare_digest(frame.proof,
                                                                          expected):
            return self._fail("authentication failed (wrong cluster secret?)", True)
        self._their_nonce = frame.nonce
        self._write(Proof(_mac(self._secret, b"proof", self.cluster_id, self.node_id,
                               self.peer_id, self._their_nonce, self._my_nonce)))
        return self._establish()

    def _establish(self) -> Established:
        self.state = State.ESTABLISHED
        return Established(self.peer_id)


def members(ids: Iterable[int]) -> Callable[[int], bool]:
    """An ``accept_peer`` predicate for a fixed set of node ids."""
    allowed = dict.fromkeys(ids)
    return allowed.__contains__
