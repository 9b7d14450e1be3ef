"""Bad input from outside: garbage, oversized and mutated messages, connection floods and a
client that stops reading. None of it may crash the acceptor or touch another session."""

from __future__ import annotations

import socket
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from venue.codecs.tagvalue import encode
from venue.gateways.fix.acceptor import FixAcceptor
from venue.gateways.fix.acceptor_core import FixAcceptorCore
from venue.gateways.fix.fixtime import format_utc
from venue.gateways.fix.reflector import reflector_core

from .conftest import ThreadedAcceptor
from .fixclient import FixClient
from .sessions import Counterparty, kinds

ORDER = ((11, b"ID"), (21, b"3"), (40, b"1"), (54, b"1"), (55, b"INTC"),
         (60, b"20260101-00:00:00"))


def _logged_on(core: FixAcceptorCore, conn_id: int = 1) -> Counterparty:
    client = Counterparty(core, conn_id)
    assert kinds(client.logon()) == [(b"A", 1)]
    return client


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2_000))
def test_garbage_on_a_new_connection_never_raises_and_the_session_stays_usable(
        data: bytes) -> None:
    core = reflector_core()
    assert core.connect(9, 0)
    core.receive_data(9, data, 0)
    core.data_to_send(9)
    core.connection_lost(9, 0)
    _logged_on(core)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=8))
def test_mutated_messages_in_a_session_never_raise(mutations: list[tuple[int, int]]) -> None:
    core = reflector_core()
    client = _logged_on(core)
    raw = bytearray(encode(b"FIX.4.4", [(35, b"D"), (34, b"2"), (49, b"TW44"),
                                        (52, format_utc(client.now)), (56, b"ISLD"), *ORDER]))
    for position, value in mutations:
        raw[position % len(raw)] = value
    core.receive_data(1, bytes(raw), client.now)
    client.received()
    other = Counterparty(core, 2, sender=b"TW42", begin=b"FIX.4.2")
    assert kinds(other.logon()) == [(b"A", 1)]


def test_an_oversized_message_is_dropped_and_the_session_goes_on() -> None:
    core = reflector_core()
    client = _logged_on(core)
    client.send(b"D", *ORDER[1:], (11, b"x" * 70_000))
    assert client.received() == [] and client.close_reason is None
    client.send(b"1", (112, b"after"))  # seq 3: the dropped message used no number
    resend = client.received()
    assert kinds(resend) == [(b"2", 2)] and resend[0].get(7) == b"2"
    client.send(b"4", (36, b"3"), (123, b"Y"), seq=2)  # the client gap-fills the dropped one
    # ... and the queued test request is answered
    assert [m.get(112) for m in client.received()] == [b"after"]
    assert client.close_reason is None


def test_connections_past_the_limit_are_refused() -> None:
    core = FixAcceptorCore(reflector_core().sessions.values(), connections_max=3)
    assert [core.connect(conn_id, 0) for conn_id in range(1, 5)] == [True, True, True, False]
    assert core.refused == 1


def _message(seq: int, msg_type: bytes, *body: tuple[int, bytes]) -> bytes:
    return encode(b"FIX.4.4", [(35, msg_type), (34, b"%d" % seq), (49, b"TW44"),
                               (52, format_utc(time.time_ns())), (56, b"ISLD"), *body])


def test_a_client_that_stops_reading_is_disconnected_and_others_go_on() -> None:
    acceptor = FixAcceptor(reflector_core(), output_buffer_bytes_max=64 * 1024)
    with ThreadedAcceptor(acceptor) as running:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", running.port))
        slow.settimeout(10)
        slow.sendall(_message(1, b"A", (98, b"0"), (108, b"30")))
        closed = False
        for seq in range(2, 200_000):  # every order is echoed; the client reads none
            try:
                slow.sendall(_message(seq, b"D", *ORDER))
            except OSError:
                closed = True
                break
            if seq % 1_000 == 0 and running.call(lambda: acceptor.slow_consumers):
                closed = True
                break
        slow.close()
        assert closed and running.call(lambda: acceptor.slow_consumers) == 1
        other = FixClient("127.0.0.1", running.port, "TW42", target="ISLD", begin="FIX.4.2")
        assert other.logon().msg_type == b"A"
        other.send(b"1", (112, b"still here"))
        assert other.expect(lambda m: m.msg_type == b"0").get(112) == b"still here"
        other.close()
