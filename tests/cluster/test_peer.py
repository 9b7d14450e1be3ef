"""The sans-I/O peer handshake: members get through, everyone else is refused."""

from __future__ import annotations

import itertools

import pytest

from venue.cluster.peer import (
    Established,
    Failed,
    PayloadReceived,
    PeerProtocol,
    Role,
    State,
    members,
)
from venue.codecs.framing import encode_frame

SECRET = b"s3cret"


def counter_nonce(start: int):
    counter = itertools.count(start)
    return lambda size: next(counter).to_bytes(size, "big")


def pair(*, initiator_secret: bytes = SECRET, initiator_cluster: str = "prod",
         dial: int = 2, initiator_id: int = 1) -> tuple[PeerProtocol, PeerProtocol]:
    initiator = PeerProtocol(Role.INITIATOR, cluster_id=initiator_cluster,
                             node_id=initiator_id, secret=initiator_secret, peer_id=dial,
                             nonce=counter_nonce(100))
    acceptor = PeerProtocol(Role.ACCEPTOR, cluster_id="prod", node_id=2, secret=SECRET,
                            accept_peer=members([1, 3]), nonce=counter_nonce(200))
    return initiator, acceptor


def exchange(a: PeerProtocol, b: PeerProtocol, rounds: int = 4) -> tuple[list, list]:
    """Shuttle bytes between two protocols; return the events each saw."""
    seen_a, seen_b = [], []
    for _ in range(rounds):
        seen_b += b.receive_data(a.data_to_send())
        seen_a += a.receive_data(b.data_to_send())
    return seen_a, seen_b


def test_members_with_the_secret_establish_and_exchange_payloads() -> None:
    initiator, acceptor = pair()
    seen_i, seen_a = exchange(initiator, acceptor)
    assert seen_i == [Established(2)] and seen_a == [Established(1)]
    initiator.send(b"x" * 5000)
    acceptor.send(b"reply")
    seen_i, seen_a = exchange(initiator, acceptor, rounds=1)
    assert seen_a == [PayloadReceived(b"x" * 5000)] and seen_i == [PayloadReceived(b"reply")]


def test_proof_and_payload_arriving_in_one_read_are_both_handled() -> None:
    initiator, acceptor = pair()
    acceptor.receive_data(initiator.data_to_send())
    assert initiator.receive_data(acceptor.data_to_send()) == [Established(2)]
    initiator.send(b"y" * 3000)
    assert acceptor.receive_data(initiator.data_to_send()) == [
        Established(1), PayloadReceived(b"y" * 3000)]


@pytest.mark.parametrize(("kwargs", "initiator_says", "acceptor_says"), [
    # the initiator checks the acceptor's proof first, so it is the one to refuse
    ({"initiator_secret": b"wrong"}, "authentication failed",
     "refused by the peer: authentication failed"),
    ({"initiator_cluster": "staging"}, "refused by the peer: cluster id 'staging'",
     "cluster id 'staging'"),
    ({"initiator_id": 9}, "refused by the peer: node 9 is not a member", "not a member"),
    ({"dial": 5}, "refused by the peer: this is node 2, not 5", "this is node 2"),
])
def test_outsiders_are_refused_with_a_reason(kwargs, initiator_says, acceptor_says) -> None:
    initiator, acceptor = pair(**kwargs)
    seen_i, seen_a = exchange(initiator, acceptor)
    assert len(seen_a) == 1 and isinstance(seen_a[0], Failed)
    assert acceptor_says in seen_a[0].reason
    assert len(seen_i) == 1 and isinstance(seen_i[0], Failed)
    assert seen_i[0].reason.startswith(initiator_says)
    assert acceptor.state is State.FAILED
    assert not any(isinstance(e, PayloadReceived) for e in seen_a + seen_i)


def test_an_acceptor_impersonating_the_dialled_node_without_the_secret_is_refused() -> None:
    initiator = PeerProtocol(Role.INITIATOR, cluster_id="prod", node_id=1, secret=SECRET,
                             peer_id=2, nonce=counter_nonce(1))
    impostor = PeerProtocol(Role.ACCEPTOR, cluster_id="prod", node_id=2, secret=b"guess",
                            nonce=counter_nonce(9))
    seen_i, seen_impostor = exchange(initiator, impostor)
    assert isinstance(seen_i[0], Failed) and "authentication failed" in seen_i[0].reason
    assert not any(isinstance(e, Established) for e in seen_impostor)


def test_payload_before_the_handshake_is_refused() -> None:
    _, acceptor = pair()
    import msgspec

    from venue.cluster.peer import Payload

    events = acceptor.receive_data(encode_frame(msgspec.msgpack.encode(Payload(b"inject"))))
    assert len(events) == 1 and "unexpected Payload during the handshake" in events[0].reason


def test_garbage_and_oversized_handshakes_are_refused() -> None:
    _, acceptor = pair()
    assert isinstance(acceptor.receive_data(encode_frame(b"\xc1garbage"))[0], Failed)
    _, acceptor = pair()
    events = acceptor.receive_data(b"\x00\x10\x00\x00" + b"a" * 2000)
    assert events and "oversized handshake frame" in events[0].reason


def test_a_recorded_proof_cannot_be_replayed_on_a_new_connection() -> None:
    initiator, acceptor = pair()
    acceptor.receive_data(initiator.data_to_send())
    initiator.receive_data(acceptor.data_to_send())
    proof = initiator.data_to_send()
    # replay the first connection's Hello and Proof to a fresh acceptor with a new nonce
    replay_initiator, _ = pair()
    recorded_hello_and_proof = replay_initiator.data_to_send() + proof
    fresh = PeerProtocol(Role.ACCEPTOR, cluster_id="prod", node_id=2, secret=SECRET,
                         accept_peer=members([1]), nonce=counter_nonce(999))
    events = fresh.receive_data(recorded_hello_and_proof)
    assert isinstance(events[-1], Failed) and "authentication failed" in events[-1].reason
