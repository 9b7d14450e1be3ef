"""Frames of the client protocol: how gateways and scripts talk to a cluster node.

Length-prefixed (``venue.codecs.framing``) msgpack frames, one tagged union each way. Tags are
permanent; fields are only appended with defaults.

A client opens a session (``Connect`` with ``session_id`` 0) or resumes one (its id, and the
position of the last reply it saw). The node answers ``Connected`` with the session's last
applied ``client_seq``: everything up to it was applied exactly once, and the replies the
client has not seen are replayed from the event store, in position order, before live ones.
A follower answers ``Redirect`` (the leader's address). ``Subscribe`` opens a read-only
stream of every applied entry's events from a position (catch-up, then live).
``GetStatus`` asks any node for its ``NodeStatus`` (role, term, indexes, lag), for tools.

A reply's position is the log index of the entry that applied the command: the commands of
one batch share it. On resume the node replays the session's replies at positions from
``resume_from_position`` on (inclusive), and the client drops those it has seen.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AdminRequest",
    "AdminResult",
    "ClientFrame",
    "Connect",
    "ConnectRefused",
    "Connected",
    "Disconnect",
    "GetStatus",
    "Keepalive",
    "NodeFrame",
    "NodeStatus",
    "Redirect",
    "Reply",
    "StreamEntry",
    "Submit",
    "SubmitRefused",
    "Subscribe",
]


class _Frame(msgspec.Struct, frozen=True, array_like=True, tag_field="type"):
    pass


# -- client -> node ------------------------------------------------------------------------


class Connect(_Frame, tag=1):
    cluster_id: str
    principal: str
    credential: str
    session_id: int = 0  # 0: open a new session
    resume_from_position: int = 0  # replay replies after this log position


class Submit(_Frame, tag=2):
    client_seq: int
    command: bytes  # an encoded venue command


class Keepalive(_Frame, tag=3):
    pass


class Subscribe(_Frame, tag=4):
    """Read-only: every applied entry's events from ``from_position`` on. The stream holds
    every account's orders, so it takes a principal and credential of the cluster as
    ``Connect`` does (refused with ``ConnectRefused`` otherwise)."""

    from_position: int
    principal: str = ""
    credential: str = ""


class Disconnect(_Frame, tag=5):
    """Close the session for good (without it, the session outlives the connection until
    its keepalive timeout)."""


class GetStatus(_Frame, tag=6):
    """Ask the node for a ``NodeStatus`` (no session needed)."""


class AdminRequest(_Frame, tag=7):
    """An operator action on the node that receives it (no session needed; the principal
    must be an operator of the node's config): ``snapshot`` (take one now),
    ``transfer-leader`` (hand leadership to ``node_id``; sent to the leader),
    ``add-node`` / ``add-learner`` (``node_id`` at ``address``, a JSON object with its
    "peer" and "client" host:port), ``remove-node`` (``node_id``)."""

    principal: str
    credential: str
    action: str
    node_id: int = 0
    address: str = ""


# -- node -> client ------------------------------------------------------------------------


class Connected(_Frame, tag=20):
    session_id: int
    last_client_seq: int  # every command up to this one was applied exactly once
    leader_id: int


class Redirect(_Frame, tag=21):
    leader_id: int
    address: str  # "host:port"; empty if the leader is not known yet


class ConnectRefused(_Frame, tag=22):
    reason: str


class Reply(_Frame, tag=23):
    """The events one of the session's commands produced, at log ``position``."""

    position: int
    client_seq: int
    events: bytes  # msgpack array of the command's events


class StreamEntry(_Frame, tag=24):
    """One applied entry: the canonical bytes of its outcomes (as in the event store), and
    the entry's log timestamp (0 from a node whose store predates it)."""

    position: int
    event_bytes: bytes
    timestamp_ns: int = 0


class SubmitRefused(_Frame, tag=25):
    """Not accepted for the log (not leader, back-pressure); resend later, same seq."""

    client_seq: int
    reason: str


class AdminResult(_Frame, tag=27):
    ok: bool
    text: str


class NodeStatus(_Frame, tag=26):
    """The node's view of the cluster, as a JSON object (keys: node_id, role, term,
    leader_id, commit_index, applied_index, last_index, lag, ...): for tools, not parsing
    on hot paths, and free to gain keys."""

    report: bytes


ClientFrame = Connect | Submit | Keepalive | Subscribe | Disconnect | GetStatus | AdminRequest
NodeFrame = (Connected | Redirect | ConnectRefused | Reply | StreamEntry | SubmitRefused
             | NodeStatus | AdminResult)
