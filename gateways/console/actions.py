"""The console's operator actions (no I/O of its own): check the operator token, turn a
request from the page into a cluster command or an admin request, and describe the outcome
(``ok``, the engine's reject, or an error) for the page.

A request is a JSON object ``{"type": "action", "id": 7, "action": "halt", "token": "...",
"instrument_id": 1}``; actions: ``halt`` / ``resume`` (``instrument_id``), ``kill_switch``
(``account``, ``engaged``), ``snapshot`` (``node_id``, 0 for every node) and
``transfer_leader`` (``node_id``). Without the operator token nothing is sent anywhere.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

from venue.codecs import (
    Command,
    CommandRejected,
    Event,
    HaltInstrument,
    OrderRejected,
    ResumeInstrument,
    SetKillSwitch,
)

Submit = Callable[[Command], Awaitable[list[Event]]]
#: (action, node_id) -> [(node_id, ok, text)]: "snapshot" with node 0 asks every node
Admin = Callable[[str, int], Awaitable[list[tuple[int, bool, str]]]]
ACTIONS = ("halt", "resume", "kill_switch", "snapshot", "transfer_leader")
HALT_REASON = "operator console"


class TokenCheck:
    """The operator token of one console connection: constant-time comparison, and a
    bounded number of failures (then the connection is closed)."""

    def __init__(self, operator_token: str, failures_max: int) -> None:
        self._token = operator_token.encode()
        self.failures = 0
        self.failures_max = failures_max

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    @property
    def exhausted(self) -> bool:
        return self.failures >= self.failures_max

    def accepts(self, given: object) -> bool:
        if not self._token or not isinstance(given, str):
            self.failures += 1
            return False
        if hmac.compare_digest(given.encode(), self._token):
            return True
        self.failures += 1
        return False


def _positive_int(request: dict, name: str, *, zero_ok: bool = False) -> int:
    value = request.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero_ok else 1):
        raise ValueError(f"{name} must be a {'non-negative' if zero_ok else 'positive'} "
                         f"integer")
    return value


def command_of(request: dict) -> Command | None:
    """The cluster command a request asks for; None for admin actions. Raises ValueError
    for a malformed request."""
    action = request.get("action")
    if action == "halt":
        return HaltInstrument(_positive_int(request, "instrument_id"), HALT_REASON)
    if action == "resume":
        return ResumeInstrument(_positive_int(request, "instrument_id"))
    if action == "kill_switch":
        engaged = request.get("engaged")
        if not isinstance(engaged, bool):
            raise ValueError("engaged must be true or false")
        return SetKillSwitch(_positive_int(request, "account"), engaged)
    if action == "snapshot":
        _positive_int(request, "node_id", zero_ok=True)
        return None
    if action == "transfer_leader":
        _positive_int(request, "node_id")
        return None
    raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")


def describe_events(events: list[Event]) -> tuple[bool, str]:
    """Whether the engine accepted a command, from the events it produced."""
    for event in events:
        if isinstance(event, CommandRejected | OrderRejected):
            text = f": {event.text}" if event.text else ""
            return False, f"rejected by the engine: {event.reason.name}{text}"
    return True, "applied: " + (", ".join(type(e).__name__ for e in events) or "no events")


class ActionHandler:
    """Runs one connection's action requests; ``handle`` returns the result message."""

    def __init__(self, tokens: TokenCheck, submit: Submit, admin: Admin,
                 timeout_s: float) -> None:
        self.tokens = tokens
        self._submit = submit
        self._admin = admin
        self._timeout_s = timeout_s

    async def handle(self, request: dict) -> dict:
        action = request.get("action")
        result = {"type": "result", "id": request.get("id"),
                  "action": action if isinstance(action, str) else ""}
        if not self.tokens.enabled:
            return {**result, "ok": False, "text": "refused: this console is read-only "
                    "(no operator_token in its config)"}
        if not self.tokens.accepts(request.get("token")):
            return {**result, "ok": False, "text": "refused: wrong operator token"}
        try:
            command = command_of(request)
        except ValueError as exc:
            return {**result, "ok": False, "text": f"error: {exc}"}
        try:
            if command is not None:
                events = await asyncio.wait_for(self._submit(command), self._timeout_s)
                ok, text = describe_events(events)
            else:
                answers = await asyncio.wait_for(
                    self._admin(action.replace("_", "-"), request["node_id"]), self._timeout_s)
                ok = bool(answers) and all(answer[1] for answer in answers)
                text = "; ".join(f"node {node}: {said}" for node, _, said in answers) or (
                    "no node to ask")
        except Exception as exc:  # shown on the page: the operator must see every failure
            return {**result, "ok": False, "text": f"error: {type(exc).__name__}: {exc}"}
        return {**result, "ok": ok, "text": text}
