"""Single-server membership changes (Raft §6, thesis §4.1).

A CONFIG_CHANGE entry adds a voter, adds a learner (or demotes a voter), or removes a node.
It takes effect on each node when that node's application applies the committed entry
(``RawNode.advance``), so the membership always matches the applied index. Only one change
is in flight at a time, and a new leader proposes none until its own NOOP is applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from venue.codecs import ConfigChange, EntryKind, LogEntry

from . import leader
from .errors import ProposalDropped
from .messages import NONE
from .tracker import ConfChangeType, ProgressTracker

if TYPE_CHECKING:
    from .raft import Raft


def apply_conf_change(r: Raft, change: ConfigChange) -> None:
    """Make a committed membership change take effect on this node.

    Called when the application has applied the CONFIG_CHANGE entry (``advance``), so
    the membership always matches the applied index and a snapshot taken there.

    A leader cannot propose its own removal, but it can apply one proposed by an
    earlier leader. It then keeps leading (refusing proposals) and hands leadership to
    the most up-to-date voter: stepping down at once could strand the others, who may
    not yet know that the removal is committed.
    """
    r.tracker.apply_change(change, r.log.last_index())
    if not r.is_leader():
        return
    if r.lead_transferee not in r.tracker.progress:
        r.lead_transferee = NONE
    leader.after_conf_change(r)
    if not r.tracker.is_voter(r.id):
        leader.hand_over(r)


def propose_conf_change(r: Raft, change: ConfigChange, timestamp_ns: int | None) -> LogEntry:
    """Append a membership change on the leader, one at a time."""
    if not r.is_leader():
        raise ProposalDropped(f"node {r.id} is not the leader (leader: {r.lead})")
    if r.pending_conf_index > r.log.applied:
        raise ProposalDropped("a membership change is already in progress (one at a time)")
    reason = conf_change_refusal(r.tracker, change, r.id)
    if reason:
        raise ProposalDropped(reason)
    payload = msgspec.msgpack.encode(change)
    entry = leader.propose(r, EntryKind.CONFIG_CHANGE, payload, timestamp_ns)
    r.pending_conf_index = entry.index
    return entry


def decode_conf_change(entry: LogEntry) -> ConfigChange:
    return msgspec.msgpack.decode(entry.payload, type=ConfigChange)


def conf_change_refusal(tracker: ProgressTracker, change: ConfigChange, self_id: int) -> str:
    """Why ``change`` makes no sense against the current membership, or ''."""
    node_id = change.node_id
    if change.change == ConfChangeType.ADD_VOTER and tracker.is_voter(node_id):
        return f"node {node_id} is already a voter"
    if change.change == ConfChangeType.ADD_LEARNER and tracker.is_learner(node_id):
        return f"node {node_id} is already a learner"
    if change.change != ConfChangeType.ADD_VOTER and node_id == self_id:
        # A leader outside its own membership could strand a two-voter cluster: if it
        # crashes before the survivor learns the removal committed, the survivor still
        # needs its vote and cannot get it. Moving leadership first avoids all that.
        return "the leader cannot remove or demote itself: transfer leadership first"
    if change.change == ConfChangeType.REMOVE and node_id not in tracker.progress:
        return f"node {node_id} is not a member"
    return ""
