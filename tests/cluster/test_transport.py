"""Real TCP between nodes on 127.0.0.1: delivery, refusal of outsiders, reconnection,
bounded queues. Every wait is bounded by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from venue.cluster.peer import PeerProtocol, Role
from venue.cluster.transport import PeerTransport

SECRET = b"cluster-secret"
TIMEOUT_S = 10


class Inbox:
    def __init__(self) -> None:
        self.items: list[tuple[int, bytes]] = []
        self.changed = asyncio.Event()

    def __call__(self, peer_id: int, data: bytes) -> None:
        self.items.append((peer_id, data))
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        async def until() -> None:
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(until(), TIMEOUT_S)


async def until(predicate: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)  # polling a condition, bounded by the timeout
    await asyncio.wait_for(poll(), TIMEOUT_S)


async def two_nodes(**kwargs) -> tuple[PeerTransport, PeerTransport, Inbox, Inbox]:
    inbox1, inbox2 = Inbox(), Inbox()
    node1 = PeerTransport(node_id=1, cluster_id="c", secret=SECRET, on_payload=inbox1, **kwargs)
    node2 = PeerTransport(node_id=2, cluster_id="c", secret=SECRET, on_payload=inbox2, **kwargs)
    await node1.start()
    await node2.start()
    node1.add_peer(2, ("127.0.0.1", node2.port))
    node2.add_peer(1, ("127.0.0.1", node1.port))
    return node1, node2, inbox1, inbox2


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 4 * TIMEOUT_S))


def test_payloads_arrive_in_order_both_ways() -> None:
    async def scenario() -> None:
        node1, node2, inbox1, inbox2 = await two_nodes()
        try:
            for n in range(200):
                assert node1.send(2, b"to-2 %d" % n)
            node2.send(1, b"to-1")
            await inbox2.wait_for(200)
            await inbox1.wait_for(1)
            assert inbox2.items == [(1, b"to-2 %d" % n) for n in range(200)]
            assert inbox1.items == [(2, b"to-1")]
        finally:
            await node1.close()
            await node2.close()
    run(scenario)


def test_a_process_without_the_secret_cannot_inject() -> None:
    async def scenario() -> None:
        node1, node2, _, inbox2 = await two_nodes()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", node2.port)
            stray = PeerProtocol(Role.INITIATOR, cluster_id="c", node_id=1, secret=b"guess",
                                 peer_id=2, nonce=lambda n: b"\x01" * n)
            writer.write(stray.data_to_send())
            stray.receive_data(await asyncio.wait_for(reader.read(4096), TIMEOUT_S))
            writer.write(stray.data_to_send())
            rest = await asyncio.wait_for(reader.read(4096), TIMEOUT_S)
            assert rest == b"", "the node must close the connection"
            writer.close()
            await until(lambda: node2.refused)
            assert "authentication failed" in node2.refused[-1]
            node1.send(2, b"legit")
            await inbox2.wait_for(1)
            assert inbox2.items == [(1, b"legit")]
        finally:
            await node1.close()
            await node2.close()
    run(scenario)


def test_a_restarted_peer_is_redialled_and_queued_payloads_delivered() -> None:
    async def scenario() -> None:
        node1, node2, _, inbox2 = await two_nodes(backoff_ms_min=5, backoff_ms_max=50)
        port = node2.port
        try:
            node1.send(2, b"before")
            await inbox2.wait_for(1)
            await node2.close()
            await until(lambda: not node1.links[2].connected)
            for n in range(5):  # queued while the link is down: all must arrive, in order
                node1.send(2, b"while-down %d" % n)
            inbox_again = Inbox()
            node2 = PeerTransport(node_id=2, cluster_id="c", secret=SECRET,
                                  on_payload=inbox_again, port=port)
            await node2.start()
            node2.add_peer(1, ("127.0.0.1", node1.port))
            await inbox_again.wait_for(5)
            assert inbox_again.items == [(1, b"while-down %d" % n) for n in range(5)]
            assert node1.links[2].connects >= 2
        finally:
            await node1.close()
            await node2.close()
    run(scenario)


def test_a_flush_onto_a_connection_that_just_closed_keeps_the_payload_for_the_redial(
        ) -> None:
    """The node loop flushes a leader's appends itself (``flush``) right before its disk
    write; a connection that closed but whose task has not noticed yet must neither raise
    (uvloop raises on a closed transport) nor lose the payload: it goes on the redial."""
    async def scenario() -> None:
        node1, node2, _, inbox2 = await two_nodes(backoff_ms_min=5, backoff_ms_max=50)
        try:
            node1.send(2, b"first")
            await inbox2.wait_for(1)
            link = node1.links[2]
            assert link.writer is not None
            link.writer.close()  # the connection is gone; the link's task has not run
            node1.send(2, b"after")
            node1.flush()
            assert list(link.queue) == [b"after"]  # not written to the closed socket
            await inbox2.wait_for(2)
            assert inbox2.items == [(1, b"first"), (1, b"after")]
            assert link.connects >= 2
        finally:
            await node1.close()
            await node2.close()
    run(scenario)


def test_a_full_queue_refuses_instead_of_growing() -> None:
    async def scenario() -> None:
        node1 = PeerTransport(node_id=1, cluster_id="c", secret=SECRET,
                              on_payload=lambda *_: None, send_queue_messages_max=3)
        await node1.start()
        try:
            node1.add_peer(2, ("127.0.0.1", 1))  # nobody listens there
            results = [node1.send(2, b"m") for _ in range(5)]
            assert results == [True, True, True, False, False]
            assert node1.links[2].dropped == 2
            assert node1.send(7, b"unknown peer") is False
        finally:
            await node1.close()
    run(scenario)


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="send_queue_messages_max"):
        PeerTransport(node_id=1, cluster_id="c", secret=SECRET, on_payload=lambda *_: None,
                      send_queue_messages_max=0)
