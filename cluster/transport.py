"""The asyncio shell around ``PeerProtocol``: TCP between cluster nodes.

Each node listens for its peers and dials each of them: a dialled connection carries this
node's messages to that peer, an accepted one carries the peer's messages here (as etcd's
raft transport does with its streams). ``send`` never blocks: it puts the payload on the
peer's bounded queue and returns False when the queue is full (back-pressure: Raft treats
the peer as unreachable and retries later). A lost connection is redialled with exponential
backoff; queued payloads wait for it. Only bytes move here; the protocol is in ``peer.py``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .peer import Established, Failed, PayloadReceived, PeerProtocol, Role

SEND_QUEUE_MESSAGES_MAX_DEFAULT = 4096
BACKOFF_MS_MIN_DEFAULT = 20
BACKOFF_MS_MAX_DEFAULT = 2000
CONNECT_TIMEOUT_MS_DEFAULT = 2000
READ_SIZE_BYTES = 256 * 1024
FLUSH_BUFFER_BYTES_MAX = 1 << 20  # flush() leaves a link with more unsent than this alone


@dataclass
class PeerLink:
    """The outbound side towards one peer."""

    address: tuple[str, int]
    queue: collections.deque = field(default_factory=collections.deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    connected: bool = False
    dropped: int = 0
    sent: int = 0
    connects: int = 0
    last_error: str = ""
    task: asyncio.Task | None = None
    writer: asyncio.StreamWriter | None = None  # while connected
    protocol: PeerProtocol | None = None


class PeerTransport:
    """Authenticated TCP links to a node's peers."""

    def __init__(self, *, node_id: int, cluster_id: str, secret: bytes,
                 on_payload: Callable[[int, bytes], None],
                 host: str = "127.0.0.1", port: int = 0,
                 send_queue_messages_max: int = SEND_QUEUE_MESSAGES_MAX_DEFAULT,
                 backoff_ms_min: int = BACKOFF_MS_MIN_DEFAULT,
                 backoff_ms_max: int = BACKOFF_MS_MAX_DEFAULT) -> None:
        if send_queue_messages_max < 1:
            raise ValueError("send_queue_messages_max must be at least 1")
        self.node_id = node_id
        self.cluster_id = cluster_id
        self._secret = secret
        self._on_payload = on_payload
        self.host = host
        self.port = port
        self.send_queue_messages_max = send_queue_messages_max
        self.backoff_ms_min = backoff_ms_min
        self.backoff_ms_max = backoff_ms_max
        self.links: dict[int, PeerLink] = {}
        self.refused: list[str] = []  # reasons inbound connections were refused (bounded)
        self._server: asyncio.Server | None = None
        self._inbound: dict[asyncio.StreamWriter, None] = {}

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for link in self.links.values():
            if link.task is not None:
                link.task.cancel()
        for link in self.links.values():
            if link.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await link.task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._inbound):
            writer.close()

    def add_peer(self, peer_id: int, address: tuple[str, int]) -> None:
        if peer_id == self.node_id:
            raise ValueError("a node is not its own peer")
        self.remove_peer(peer_id)
        link = PeerLink(address)
        self.links[peer_id] = link
        link.task = asyncio.get_running_loop().create_task(self._dial_forever(peer_id, link))

    def remove_peer(self, peer_id: int) -> None:
        link = self.links.pop(peer_id, None)
        if link is not None and link.task is not None:
            link.task.cancel()

    # -- sending -------------------------------------------------------------------------

    def send(self, peer_id: int, payload: bytes) -> bool:
        """Queue ``payload`` for ``peer_id``; False if unknown or its queue is full."""
        link = self.links.get(peer_id)
        if link is None:
            return False
        if len(link.queue) >= self.send_queue_messages_max:
            link.dropped += 1
            return False
        link.queue.append(payload)
        link.wakeup.set()
        return True

    def flush(self) -> None:
        """Write what is queued to every connected peer now, without waiting for the
        links' tasks to run (the node loop is about to block in a synced disk write and
        wants its appends on the wire meanwhile). A link whose socket buffer is full is
        left to its task, which waits for it to drain."""
        for link in self.links.values():
            writer, protocol = link.writer, link.protocol
            if not link.queue or writer is None or protocol is None or writer.is_closing():
                continue  # a lost connection: its task redials, the queue waits for it
            if writer.transport.get_write_buffer_size() > FLUSH_BUFFER_BYTES_MAX:
                continue
            _frame_queue(link, protocol)
            writer.write(protocol.data_to_send())

    async def _dial_forever(self, peer_id: int, link: PeerLink) -> None:
        backoff_ms = self.backoff_ms_min
        while True:
            try:
                await self._dial_once(peer_id, link)
                backoff_ms = self.backoff_ms_min
            except (OSError, asyncio.IncompleteReadError, ConnectionError) as exc:
                link.last_error = f"{type(exc).__name__}: {exc}"
            except _HandshakeFailed as exc:
                link.last_error = str(exc)
            link.connected = False
            await asyncio.sleep(backoff_ms / 1000)
            backoff_ms = min(self.backoff_ms_max, backoff_ms * 2)

    async def _dial_once(self, peer_id: int, link: PeerLink) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*link.address), CONNECT_TIMEOUT_MS_DEFAULT / 1000)
        protocol = PeerProtocol(Role.INITIATOR, cluster_id=self.cluster_id,
                                node_id=self.node_id, secret=self._secret, peer_id=peer_id,
                                nonce=os.urandom)
        watch: asyncio.Task | None = None
        try:
            _write(writer, protocol.data_to_send())
            while not link.connected:
                data = await reader.read(READ_SIZE_BYTES)
                events = protocol.receive_data(data) if data else protocol.eof()
                _write(writer, protocol.data_to_send())
                for event in events:
                    if isinstance(event, Failed):
                        await writer.drain()
                        raise _HandshakeFailed(event.reason)
                    if isinstance(event, Established):
                        link.connected = True
                        link.connects += 1
            watch = asyncio.get_running_loop().create_task(reader.read(1))
            link.writer, link.protocol = writer, protocol
            while not watch.done():
                _frame_queue(link, protocol)  # everything queued, then one write (syscall)
                data = protocol.data_to_send()
                if data:
                    _write(writer, data)
                await writer.drain()  # back-pressure: a slow peer slows this link only
                link.wakeup.clear()
                if not link.queue:
                    waiter = asyncio.ensure_future(link.wakeup.wait())
                    await asyncio.wait([watch, waiter], return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
            raise ConnectionError("the peer closed the connection")
        finally:
            link.writer = link.protocol = None
            if watch is not None:
                watch.cancel()
            writer.close()

    # -- receiving -----------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        protocol = PeerProtocol(Role.ACCEPTOR, cluster_id=self.cluster_id,
                                node_id=self.node_id, secret=self._secret,
                                accept_peer=lambda peer: peer in self.links, nonce=os.urandom)
        self._inbound[writer] = None
        try:
            while True:
                data = await reader.read(READ_SIZE_BYTES)
                events = protocol.receive_data(data) if data else protocol.eof()
                pending = protocol.data_to_send()
                if pending:
                    _write(writer, pending)
                for event in events:
                    if isinstance(event, PayloadReceived):
                        self._on_payload(protocol.peer_id, event.data)
                    elif isinstance(event, Failed):
                        if data:  # a refusal, not a peer going away
                            self.refused = [*self.refused[-63:], event.reason]
                        await writer.drain()
                        return
        except (OSError, ConnectionError):
            return
        except asyncio.CancelledError:  # closing: end quietly (asyncio's stream callback
            return  # would log a cancelled handler task as an error)
        finally:
            self._inbound.pop(writer, None)
            writer.close()


def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Write, or raise ConnectionError if the connection is closing (uvloop raises
    RuntimeError for a write to a closed transport, which would end the link's task)."""
    if writer.is_closing():
        raise ConnectionError("the connection is closed")
    writer.write(data)


def _frame_queue(link: PeerLink, protocol: PeerProtocol) -> None:
    while link.queue:
        protocol.send(link.queue.popleft())
        link.sent += 1


class _HandshakeFailed(Exception):
    pass
