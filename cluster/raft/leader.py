"""The leader's side of Raft: proposals, replication, commit, and leadership transfer.

Functions take the :class:`~venue.cluster.raft.raft.Raft` they act for. Replication
follows etcd: each follower's :class:`Progress` is probed until its log end is known, then
appends are pipelined (bounded by ``inflight_messages_max``); a rejection carries a hint so
the leader skips back a whole conflicting term at a time; a follower that needs compacted
entries gets the snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from venue.codecs import EntryKind, LogEntry

from .errors import ProposalDropped
from .messages import NONE, Message, MessageType, entry_size_bytes
from .progress import Progress, ProgressState
from .storage import CompactedError

if TYPE_CHECKING:
    from .raft import Raft

MT = MessageType


def propose(r: Raft, kind: EntryKind, payload: bytes, timestamp_ns: int | None) -> LogEntry:
    """Append one entry of this term and start replicating it; return it."""
    if not r.is_leader():
        raise ProposalDropped(f"node {r.id} is not the leader (leader: {r.lead})")
    if r.lead_transferee != NONE:
        raise ProposalDropped(f"leadership is being transferred to {r.lead_transferee}")
    if not r.tracker.is_voter(r.id):
        raise ProposalDropped(f"node {r.id} was removed from the cluster")
    timestamp_ns = r.last_timestamp_ns() if timestamp_ns is None else timestamp_ns
    entry = append_entries(r, [(kind, payload, timestamp_ns)])[0]
    broadcast_append(r)
    return entry


def append_entries(r: Raft, items: list[tuple[EntryKind, bytes, int]]) -> list[LogEntry]:
    """Append entries of the current term to the leader's own log, within the limits."""
    last_index = r.log.last_index()
    entries = [LogEntry(last_index + 1 + offset, r.term, timestamp_ns, kind, payload)
               for offset, (kind, payload, timestamp_ns) in enumerate(items)]
    for entry in entries:
        if entry_size_bytes(entry) > r.config.entries_size_bytes_max:
            raise ProposalDropped(f"entry of {entry_size_bytes(entry)} bytes cannot fit a "
                                  f"message of message_size_bytes_max "
                                  f"{r.config.message_size_bytes_max}")
    size = sum(len(entry.payload) for entry in entries if entry.kind != EntryKind.NOOP)
    if (r.uncommitted_size_bytes > 0 and size > 0
            and r.uncommitted_size_bytes + size > r.config.uncommitted_size_bytes_max):
        raise ProposalDropped(f"{r.uncommitted_size_bytes} uncommitted bytes: "
                              f"uncommitted_size_bytes_max "
                              f"{r.config.uncommitted_size_bytes_max} reached")
    r.uncommitted_size_bytes += size
    r.log.append(entries)
    # The leader counts its own entries only once the node loop has persisted them
    # (``self_acknowledge`` from ``RawNode.advance``, as etcd's raft does since 3.6), so a
    # commit index never counts an entry held only in the leader's memory, however the
    # loop overlaps its disk write with sending (``RawNode.sendable_before_persist``).
    return entries


def self_acknowledge(r: Raft, index: int, term: int) -> None:
    """Entries up to ``index`` (of ``term``) are on this leader's disk: count them."""
    if not r.is_leader() or term != r.term or not r.log.match_term(index, term):
        return
    own = r.tracker.progress.get(r.id)
    if own is not None and own.maybe_update(index) and maybe_commit(r):
        broadcast_append(r)


def reduce_uncommitted_size(r: Raft, entries: tuple[LogEntry, ...]) -> None:
    """Committed entries were applied: they no longer count against the limit."""
    size = sum(len(entry.payload) for entry in entries if entry.kind != EntryKind.NOOP)
    r.uncommitted_size_bytes = max(0, r.uncommitted_size_bytes - size)


def maybe_commit(r: Raft) -> bool:
    """Advance commit to what a majority holds, if that entry is of this term."""
    return r.log.maybe_commit(r.tracker.committed(), r.term)


def step_leader(r: Raft, m: Message) -> None:
    progress = r.tracker.progress.get(m.sender)
    if progress is None:
        return  # not (or no longer) a member
    if m.type == MT.APPEND_RESPONSE:
        progress.recent_active = True
        if m.reject:
            _handle_append_rejection(r, progress, m)
        else:
            _handle_append_success(r, progress, m)
    elif m.type == MT.HEARTBEAT_RESPONSE:
        progress.recent_active = True
        if m.reject and m.reject_hint < progress.match:
            # A recovering follower holds less than it once acknowledged (recovery.py).
            progress.match = m.reject_hint
            progress.become_probe()
        progress.msg_app_flow_paused = False
        if progress.state == ProgressState.REPLICATE and progress.inflights.full():
            progress.inflights.free_first_one()  # a lost append must not stall us forever
        if progress.match < r.log.last_index():
            send_append(r, m.sender)
    elif m.type == MT.TRANSFER_LEADER:
        transfer_leader(r, m.sender)


def _handle_append_rejection(r: Raft, progress: Progress, m: Message) -> None:
    next_probe = m.reject_hint
    if m.log_term > 0:
        next_probe = r.log.find_conflict_by_term(m.reject_hint, m.log_term)[0]
    if progress.maybe_decr_to(m.index, next_probe):
        if progress.state == ProgressState.REPLICATE:
            progress.become_probe()
        send_append(r, m.sender)


def _handle_append_success(r: Raft, progress: Progress, m: Message) -> None:
    was_paused = progress.is_paused()
    if not progress.maybe_update(m.index):
        return
    if progress.state == ProgressState.PROBE:
        progress.become_replicate()
    elif progress.state == ProgressState.SNAPSHOT and (
            progress.match >= progress.pending_snapshot
            or progress.match + 1 >= r.log.first_index()):
        progress.become_probe()
        progress.become_replicate()
    elif progress.state == ProgressState.REPLICATE:
        progress.inflights.free_le(m.index)
    if maybe_commit(r):
        broadcast_append(r)
    elif was_paused:
        send_append(r, m.sender)
    while send_append(r, m.sender, send_if_empty=False):
        pass  # pipeline: fill the in-flight window
    if m.sender == r.lead_transferee and progress.match == r.log.last_index():
        r.send(MT.TIMEOUT_NOW, m.sender)


def send_append(r: Raft, to: int, send_if_empty: bool = True) -> bool:
    """Send ``to`` the entries it lacks (or the snapshot); False if nothing was sent."""
    progress = r.tracker.progress[to]
    if progress.is_paused():
        return False
    previous_index = progress.next - 1
    try:
        previous_term = r.log.term(previous_index)
        entries = r.log.entries_from(progress.next, r.config.entries_size_bytes_max)
    except CompactedError:
        return _send_snapshot(r, to, progress)
    if not entries and not send_if_empty:
        return False
    r.send(MT.APPEND, to, index=previous_index, log_term=previous_term,
           entries=tuple(entries), commit=r.log.committed)
    progress.sent_entries(len(entries), entries[-1].index if entries else previous_index)
    return True


def _send_snapshot(r: Raft, to: int, progress: Progress) -> bool:
    if not progress.recent_active:
        return False  # wait until it answers a heartbeat: a snapshot is expensive
    snapshot = r.log.snapshot()
    if snapshot.index == 0:
        raise AssertionError("entries are compacted but there is no snapshot")
    progress.become_snapshot(snapshot.index)
    r.send(MT.SNAPSHOT, to, snapshot=snapshot)
    return True


def broadcast_append(r: Raft) -> None:
    for node_id in r.tracker.ids():
        if node_id != r.id:
            send_append(r, node_id)


def broadcast_heartbeat(r: Raft) -> None:
    for node_id in r.tracker.ids():
        if node_id != r.id:
            # Never tell a follower to commit past what it is known to hold.
            commit = min(r.tracker.progress[node_id].match, r.log.committed)
            r.send(MT.HEARTBEAT, node_id, commit=commit, index=r.log.last_index())


def transfer_leader(r: Raft, transferee: int) -> None:
    """Hand leadership to ``transferee`` once its log is current (thesis §3.10)."""
    progress = r.tracker.progress.get(transferee)
    if progress is None or progress.is_learner:
        return
    if r.lead_transferee != NONE:
        if r.lead_transferee == transferee:
            return
        r.lead_transferee = NONE
    if transferee == r.id:
        return
    r.election_elapsed = 0  # the transfer must finish within one election timeout
    r.lead_transferee = transferee
    if progress.match == r.log.last_index():
        r.send(MT.TIMEOUT_NOW, transferee)
    else:
        send_append(r, transferee)


def hand_over(r: Raft) -> None:
    """A leader that is no longer a voter transfers leadership to the voter with the
    longest log (lowest id on ties)."""
    if r.lead_transferee != NONE or not r.tracker.voters:
        return
    best = max(r.tracker.voters, key=lambda node: (r.tracker.progress[node].match, -node))
    transfer_leader(r, best)


def after_conf_change(r: Raft) -> None:
    """The membership changed on the leader: the quorum may have moved."""
    if maybe_commit(r):
        broadcast_append(r)
    else:
        for node_id in r.tracker.ids():
            if node_id != r.id:
                send_append(r, node_id, send_if_empty=False)


def report_snapshot(r: Raft, to: int, succeeded: bool) -> None:
    """The node loop finished (or failed) sending a snapshot to ``to``."""
    progress = r.tracker.progress.get(to)
    if progress is None or progress.state != ProgressState.SNAPSHOT:
        return
    if not succeeded:
        progress.pending_snapshot = 0
    progress.become_probe()
    progress.msg_app_flow_paused = True  # wait for its answer or a heartbeat round


def report_unreachable(r: Raft, to: int) -> None:
    """The node loop could not deliver to ``to``: stop streaming, probe again."""
    progress = r.tracker.progress.get(to)
    if progress is not None and progress.state == ProgressState.REPLICATE:
        progress.become_probe()
