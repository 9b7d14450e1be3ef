"""What one FIX session is: its identity (BeginString, SenderCompID, TargetCompID, as seen
from venue's side) and the settings QuickFIX users know by name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SessionID:
    """``sender_comp_id`` is venue's CompID (49 on what venue sends), ``target_comp_id`` the
    counterparty's."""

    begin_string: str
    sender_comp_id: str
    target_comp_id: str

    def __str__(self) -> str:
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"

    @property
    def key(self) -> bytes:
        return str(self).encode()


@dataclass(frozen=True)
class SessionConfig:
    session_id: SessionID
    #: checked against Password(554) of the Logon when set
    password: str | None = None
    #: each Logon starts both sequences at 1 (the acceptance scripts expect it)
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    #: SendingTime must be within this of the gateway's clock (QuickFIX's MaxLatency)
    max_latency_s: float = 120.0
    check_latency: bool = True
    #: after venue sends Logout, how long it waits for the answer before disconnecting
    logout_timeout_s: float = 2.0
    #: a connection that has not logged on by then is closed
    logon_timeout_s: float = 10.0
    #: messages above the expected MsgSeqNum kept while a resend fills the gap
    queued_messages_max: int = 10_000
    #: SendingTime with milliseconds
    millis_in_timestamp: bool = True

    def __post_init__(self) -> None:
        for name in ("max_latency_s", "logout_timeout_s", "logon_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.queued_messages_max < 1:
            raise ValueError("queued_messages_max must be at least 1")
