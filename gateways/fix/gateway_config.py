"""The FIX gateway's configuration (a JSON file): which cluster, where to listen, and the
sessions it accepts, each mapped to exactly one account (order entry) or to the accounts it
copies (drop copy).

    {"cluster": {"addresses": ["127.0.0.1:7201"], "cluster_id": "venue-local",
                 "principal": "fix-gateway", "credential": "..."},
     "listen": ["127.0.0.1", 9878], "data_dir": "fix-gateway", "sender_comp_id": "VENUE",
     "sessions": [{"target_comp_id": "DEMO", "account": 101, "password": "...",
                   "throttle_per_s": 500, "cancel_on_disconnect": true},
                  {"target_comp_id": "DEMO-DC", "kind": "drop_copy", "accounts": [101]}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from venue.gateways.edgeconfig import cluster_settings

from .config import SessionConfig, SessionID

ORDER_ENTRY, DROP_COPY = "order_entry", "drop_copy"


class GatewayConfigError(ValueError):
    pass


@dataclass(frozen=True)
class GatewaySession:
    fix: SessionConfig
    kind: str = ORDER_ENTRY
    account: int = 0                     # order entry: the only account it acts for
    accounts: tuple[int, ...] = ()       # drop copy: the accounts copied; () = every account
    throttle_per_s: int = 1_000          # application messages per second, then rejects
    cancel_on_disconnect: bool = False


@dataclass(frozen=True)
class GatewayConfig:
    addresses: tuple[str, ...]
    cluster_id: str
    principal: str
    credential: str
    host: str
    port: int
    data_dir: Path
    sender_comp_id: str
    sessions: tuple[GatewaySession, ...]
    message_size_max: int = 65_536
    connections_max: int = 1_000
    # the session store's commit is synced before output goes on the wire; False: written,
    # not synced (QuickFIX's FileStore default, FileStoreSync=N): a crash of the gateway
    # loses nothing, a crash of the machine may lose the last messages sent
    store_sync: bool = True

    def session(self, session_id: SessionID) -> GatewaySession:
        """The configured session (KeyError if none): asked for every application
        message, so a lookup, not a scan of the sessions."""
        return self._by_id[session_id]

    @cached_property
    def _by_id(self) -> dict[SessionID, GatewaySession]:
        return {session.fix.session_id: session for session in self.sessions}


def _session(raw: dict, sender: str, begin: str) -> GatewaySession:
    target = str(raw["target_comp_id"])
    fix = SessionConfig(SessionID(begin, sender, target), password=raw.get("password"),
                        reset_on_logon=bool(raw.get("reset_on_logon", False)))
    kind = str(raw.get("kind", ORDER_ENTRY))
    if kind == ORDER_ENTRY:
        account = int(raw["account"])
        if account <= 0:
            raise GatewayConfigError(f"session {target}: account must be positive")
        return GatewaySession(fix, kind, account=account,
                              throttle_per_s=int(raw.get("throttle_per_s", 1_000)),
                              cancel_on_disconnect=bool(raw.get("cancel_on_disconnect",
                                                                False)))
    if kind == DROP_COPY:
        return GatewaySession(fix, kind, accounts=tuple(int(a) for a in
                                                        raw.get("accounts", ())))
    raise GatewayConfigError(f"session {target}: kind must be {ORDER_ENTRY} or {DROP_COPY}")


def _flag(raw: dict, key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def load_gateway_config(path: str | Path) -> GatewayConfig:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        sender = str(raw.get("sender_comp_id", "VENUE"))
        begin = str(raw.get("begin_string", "FIX.4.4"))
        sessions = tuple(_session(s, sender, begin) for s in raw["sessions"])
        host, port = raw.get("listen", ["127.0.0.1", 9878])
        data_dir = Path(raw.get("data_dir", "fix-gateway"))
        config = GatewayConfig(
            **cluster_settings(raw), host=str(host), port=int(port),
            data_dir=data_dir if data_dir.is_absolute() else path.parent / data_dir,
            sender_comp_id=sender, sessions=sessions,
            message_size_max=int(raw.get("message_size_max", 65_536)),
            connections_max=int(raw.get("connections_max", 1_000)),
            store_sync=_flag(raw, "store_sync", True))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GatewayConfigError(f"{path}: {type(exc).__name__}: {exc}") from None
    targets = [s.fix.session_id.target_comp_id for s in config.sessions]
    if len(set(targets)) != len(targets):
        raise GatewayConfigError(f"{path}: a target_comp_id appears twice")
    return config
