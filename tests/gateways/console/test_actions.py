"""The console's action handler: nothing reaches the cluster without the operator token;
each request becomes the right command or admin request; every outcome is described."""

from __future__ import annotations

import asyncio

import pytest

from venue.codecs import (
    Command,
    CommandRejected,
    Event,
    HaltInstrument,
    InstrumentStatus,
    InstrumentStatusChanged,
    KillSwitchSet,
    RejectReason,
    ResumeInstrument,
    SetKillSwitch,
)
from venue.gateways.console.actions import HALT_REASON, ActionHandler, TokenCheck

TOKEN = "0123456789abcdef0123"


class FakeCluster:
    def __init__(self, events: list[Event] | None = None,
                 error: BaseException | None = None) -> None:
        self.commands: list[Command] = []
        self.admin_requests: list[tuple[str, int]] = []
        self.events = events if events is not None else []
        self.error = error

    async def submit(self, command: Command) -> list[Event]:
        self.commands.append(command)
        if self.error is not None:
            raise self.error
        return self.events

    async def admin(self, action: str, node_id: int) -> list[tuple[int, bool, str]]:
        self.admin_requests.append((action, node_id))
        if self.error is not None:
            raise self.error
        return [(node_id or 1, True, f"{action} done")]


def _handle(request: dict, cluster: FakeCluster, token: str = TOKEN,
            failures_max: int = 3) -> dict:
    handler = ActionHandler(TokenCheck(token, failures_max), cluster.submit, cluster.admin,
                            timeout_s=5)
    return asyncio.run(handler.handle(request))


def _request(action: str, token: object = TOKEN, **fields: object) -> dict:
    return {"type": "action", "id": 7, "action": action, "token": token, **fields}


@pytest.mark.parametrize("token", ["", "wrong", TOKEN[:-1], TOKEN + "x", None, 12, [TOKEN]])
def test_a_wrong_or_missing_token_is_refused_and_nothing_is_sent(token: object) -> None:
    cluster = FakeCluster()
    result = _handle(_request("halt", token, instrument_id=1), cluster)
    assert result == {"type": "result", "id": 7, "action": "halt", "ok": False,
                      "text": "refused: wrong operator token"}
    assert cluster.commands == [] and cluster.admin_requests == []


def test_a_console_without_an_operator_token_is_read_only() -> None:
    cluster = FakeCluster()
    for given in ("", TOKEN):
        result = _handle(_request("snapshot", given, node_id=0), cluster, token="")
        assert not result["ok"] and "read-only" in result["text"]
    assert cluster.commands == [] and cluster.admin_requests == []


def test_token_failures_are_counted_until_the_connection_must_close() -> None:
    tokens = TokenCheck(TOKEN, failures_max=2)
    assert not tokens.accepts("nope") and not tokens.exhausted
    assert tokens.accepts(TOKEN) and not tokens.exhausted
    assert not tokens.accepts(None) and tokens.exhausted


@pytest.mark.parametrize(("request_fields", "command"), [
    ({"action": "halt", "instrument_id": 1}, HaltInstrument(1, HALT_REASON)),
    ({"action": "resume", "instrument_id": 2}, ResumeInstrument(2)),
    ({"action": "kill_switch", "account": 101, "engaged": True}, SetKillSwitch(101, True)),
    ({"action": "kill_switch", "account": 101, "engaged": False}, SetKillSwitch(101, False)),
])
def test_instrument_and_account_actions_become_commands(request_fields: dict,
                                                        command: Command) -> None:
    cluster = FakeCluster([InstrumentStatusChanged(1, InstrumentStatus.HALTED)])
    result = _handle(_request(**request_fields), cluster)
    assert cluster.commands == [command]
    assert result["ok"] and result["text"] == "applied: InstrumentStatusChanged"


def test_snapshot_and_transfer_leader_become_admin_requests() -> None:
    cluster = FakeCluster()
    snapshot = _handle(_request("snapshot", node_id=0), cluster)
    transfer = _handle(_request("transfer_leader", node_id=3), cluster)
    assert cluster.admin_requests == [("snapshot", 0), ("transfer-leader", 3)]
    assert snapshot["ok"] and snapshot["text"] == "node 1: snapshot done"
    assert transfer["ok"] and transfer["text"] == "node 3: transfer-leader done"


def test_the_engines_reject_is_shown_with_its_reason() -> None:
    cluster = FakeCluster([CommandRejected(12, RejectReason.INVALID_STATE_TRANSITION,
                                           instrument_id=1, text="not halted")])
    result = _handle(_request("resume", instrument_id=1), cluster)
    assert not result["ok"]
    assert result["text"] == "rejected by the engine: INVALID_STATE_TRANSITION: not halted"


def test_a_kill_switch_that_applied_says_so() -> None:
    cluster = FakeCluster([KillSwitchSet(101, True)])
    result = _handle(_request("kill_switch", account=101, engaged=True), cluster)
    assert result["ok"] and result["text"] == "applied: KillSwitchSet"


def test_a_cluster_error_is_shown_as_an_error() -> None:
    cluster = FakeCluster(error=ConnectionError("no leader"))
    result = _handle(_request("halt", instrument_id=1), cluster)
    assert not result["ok"] and result["text"] == "error: ConnectionError: no leader"


@pytest.mark.parametrize("fields", [
    {"action": "halt"}, {"action": "halt", "instrument_id": 0},
    {"action": "halt", "instrument_id": "1"}, {"action": "halt", "instrument_id": True},
    {"action": "kill_switch", "account": 101}, {"action": "kill_switch", "account": 101,
                                                 "engaged": 1},
    {"action": "transfer_leader", "node_id": 0}, {"action": "snapshot", "node_id": -1},
    {"action": "drop_tables"}, {"action": None},
])
def test_malformed_requests_are_errors_and_send_nothing(fields: dict) -> None:
    cluster = FakeCluster()
    result = _handle(_request(**fields), cluster)
    assert not result["ok"] and result["text"].startswith("error: ")
    assert cluster.commands == [] and cluster.admin_requests == []
