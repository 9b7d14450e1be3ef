"""The session layer without sockets: a counterparty feeds the acceptor core on a test clock."""

from __future__ import annotations

from pathlib import Path

from venue.codecs.tagvalue import FixMessage
from venue.gateways.fix.acceptor_core import FixAcceptorCore
from venue.gateways.fix.config import SessionConfig, SessionID
from venue.gateways.fix.dictionary import DataDictionary
from venue.gateways.fix.session import FixSession
from venue.gateways.fix.store import LmdbSessionStores, MemorySessionStore

from .sessions import Counterparty, kinds

FIX44 = DataDictionary.for_version("FIX.4.4")
ORDER = ((11, b"C1"), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10.5"), (54, b"1"),
         (55, b"ABC"), (60, b"20260101-00:00:00"))


class Recorder:
    def __init__(self) -> None:
        self.messages: list[FixMessage] = []
        self.logons = self.logouts = 0

    def on_logon(self, session: FixSession) -> None:
        self.logons += 1

    def on_logout(self, session: FixSession) -> None:
        self.logouts += 1

    def from_app(self, session: FixSession, message: FixMessage) -> None:
        self.messages.append(message)


def make_core(app: Recorder, store=None, **settings) -> tuple[FixAcceptorCore, FixSession]:
    session = FixSession(SessionConfig(SessionID("FIX.4.4", "ISLD", "TW44"), **settings),
                         store or MemorySessionStore(), FIX44, app)
    other = FixSession(SessionConfig(SessionID("FIX.4.4", "ISLD", "OTHER")),
                       MemorySessionStore(), FIX44, app)
    return FixAcceptorCore([session, other]), session


def test_logon_is_answered_and_application_messages_reach_the_application() -> None:
    app = Recorder()
    core, session = make_core(app)
    client = Counterparty(core)
    reply = client.logon(30)
    assert kinds(reply) == [(b"A", 1)]
    assert reply[0].get(108) == b"30" and reply[0].get(49) == b"ISLD"
    assert session.logged_on and app.logons == 1
    client.send(b"D", *ORDER)
    assert [m.get(11) for m in app.messages] == [b"C1"]
    assert session.store.next_target == 3


def test_heartbeat_then_test_request_then_disconnect_when_the_counterparty_goes_quiet() -> None:
    core, _ = make_core(Recorder())
    client = Counterparty(core)
    client.logon(10)
    assert client.advance(9.9) == []
    assert kinds(client.advance(0.1)) == [(b"0", 2)]       # nothing sent for 10 s
    test_request = client.advance(2.0)                      # nothing received for 12 s
    assert kinds(test_request) == [(b"1", 3)] and test_request[0].get(112) == b"TEST"
    assert client.advance(11.0) == [] and client.close_reason is None
    client.advance(1.0)                                     # 24 s = 2.4 intervals
    assert client.close_reason == "timed out waiting for a heartbeat"


def test_a_gap_asks_for_a_resend_and_queued_messages_apply_in_order() -> None:
    app = Recorder()
    core, _ = make_core(app)
    client = Counterparty(core)
    client.logon()
    client.send(b"D", *ORDER[1:], (11, b"C3"), seq=3)
    resend = client.received()
    assert kinds(resend) == [(b"2", 2)]
    assert (resend[0].get(7), resend[0].get(16)) == (b"2", b"0")
    assert app.messages == []
    client.send(b"D", *ORDER[1:], (11, b"C2"), seq=2)
    assert [m.get(11) for m in app.messages] == [b"C2", b"C3"]


def test_a_resend_request_replays_application_messages_and_gap_fills_admin_ones() -> None:
    core, session = make_core(Recorder())
    client = Counterparty(core)
    client.logon()
    session.send(b"8", [(37, b"O1"), (11, b"C1")])             # seq 2
    client.send(b"1", (112, b"hi"))                            # heartbeat: seq 3
    session.send(b"8", [(37, b"O2"), (11, b"C2")])             # seq 4
    client.received()
    client.send(b"2", (7, b"1"), (16, b"0"))
    replay = client.received()
    assert kinds(replay) == [(b"4", 1), (b"8", 2), (b"4", 3), (b"8", 4)]
    assert [m.get(36) for m in replay if m.msg_type == b"4"] == [b"2", b"4"]
    assert all(m.get(43) == b"Y" and m.get(122) for m in replay)
    assert [m.get(37) for m in replay if m.msg_type == b"8"] == [b"O1", b"O2"]


def test_sequence_numbers_and_sent_messages_survive_a_gateway_restart(tmp_path: Path) -> None:
    stores = LmdbSessionStores(tmp_path / "fix")
    core, session = make_core(Recorder(), stores.store(b"TW44"))
    client = Counterparty(core)
    client.logon()
    session.send(b"8", [(37, b"O1")])
    client.received()
    stores.close()  # the gateway stops; a new one opens the same files

    stores = LmdbSessionStores(tmp_path / "fix")
    core, session = make_core(Recorder(), stores.store(b"TW44"))
    assert (session.store.next_sender, session.store.next_target) == (3, 2)
    client = Counterparty(core)
    client.seq = 2
    assert kinds(client.logon()) == [(b"A", 3)]
    client.send(b"2", (7, b"2"), (16, b"2"))
    replay = client.received()
    assert kinds(replay) == [(b"8", 2)] and replay[0].get(37) == b"O1"
    stores.close()


def test_unknown_compids_and_a_non_logon_first_message_close_only_that_connection() -> None:
    app = Recorder()
    core, session = make_core(app)
    stranger = Counterparty(core, conn_id=7, sender=b"NOBODY")
    stranger.logon()
    assert stranger.close_reason is not None and "NOBODY" in stranger.close_reason
    early = Counterparty(core, conn_id=8)
    early.send(b"0")
    assert early.close_reason == "first message is not a Logon"
    client = Counterparty(core, conn_id=9)
    assert kinds(client.logon()) == [(b"A", 1)] and session.logged_on


def test_a_second_logon_for_a_connected_session_is_refused_and_the_first_goes_on() -> None:
    app = Recorder()
    core, _ = make_core(app)
    first = Counterparty(core, conn_id=1)
    first.logon()
    second = Counterparty(core, conn_id=2)
    assert second.logon() == []
    assert second.close_reason is not None and "already connected" in second.close_reason
    first.send(b"1", (112, b"still"))
    answer = first.received()
    assert kinds(answer) == [(b"0", 2)] and answer[0].get(112) == b"still"


def test_a_garbled_message_is_dropped_without_using_a_sequence_number() -> None:
    app = Recorder()
    core, session = make_core(app)
    client = Counterparty(core)
    client.logon()
    core.receive_data(1, b"8=FIX.4.4\x019=5\x0135=0\x0134=2\x0110=000\x01", client.now)
    assert client.received() == [] and client.close_reason is None
    assert session.store.next_target == 2
    client.send(b"D", *ORDER)
    assert [m.get(11) for m in app.messages] == [b"C1"]


def test_a_wrong_password_is_refused_with_a_logout() -> None:
    core, session = make_core(Recorder(), password="secret")
    client = Counterparty(core)
    answer = client.logon(30, (554, b"guess"))
    assert kinds(answer) == [(b"5", 1)] and b"password" in (answer[0].get(58) or b"")
    assert client.close_reason == "invalid password" and not session.logged_on
    core.connection_lost(client.conn_id, client.now)
    again = Counterparty(core, conn_id=2)
    again.seq = 1
    assert kinds(again.logon(30, (554, b"secret"))) == [(b"A", 2)]


def test_a_connection_that_never_logs_on_is_closed() -> None:
    core, _ = make_core(Recorder())
    idle = Counterparty(core, conn_id=3)
    idle.advance(9.0)
    assert idle.close_reason is None
    idle.advance(1.0)
    assert idle.close_reason == "no Logon in time"
