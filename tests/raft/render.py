"""Text rendering of Raft entries, messages, Readies and node state for scenario files."""

from __future__ import annotations

import msgspec

from venue.cluster.raft import (
    ConfChangeType,
    ConfState,
    Message,
    MessageType,
    RawNode,
    Ready,
    Snapshot,
)
from venue.codecs import ConfigChange, EntryKind, LogEntry

MT = MessageType
CHANGE_LETTER = {ConfChangeType.ADD_VOTER: "v", ConfChangeType.ADD_LEARNER: "l",
                 ConfChangeType.REMOVE: "r"}


def entry(e: LogEntry) -> str:
    text = f"{e.term}/{e.index} {e.kind.name}"
    if e.kind == EntryKind.CONFIG_CHANGE:
        change = msgspec.msgpack.decode(e.payload, type=ConfigChange)
        return f"{text} {CHANGE_LETTER[ConfChangeType(change.change)]}{change.node_id}"
    if e.kind == EntryKind.NOOP:
        return text
    return f"{text} {e.payload.decode(errors='replace')!r}"


def ids(values: tuple[int, ...] | list[int]) -> str:
    return "(" + " ".join(str(value) for value in values) + ")"


def conf(c: ConfState) -> str:
    text = f"voters={ids(c.voters)}"
    return f"{text} learners={ids(c.learners)}" if c.learners else text


def snapshot(s: Snapshot) -> str:
    return f"Index:{s.index} Term:{s.term} {conf(s.metadata.conf_state)}"


def message(m: Message) -> str:
    text = f"{m.sender}->{m.to} {m.type.name} Term:{m.term}"
    if m.type == MT.APPEND:
        text += f" Log:{m.log_term}/{m.index} Commit:{m.commit}"
        if m.entries:
            text += " Entries:[" + ", ".join(entry(e) for e in m.entries) + "]"
    elif m.type == MT.APPEND_RESPONSE:
        text += f" Index:{m.index}"
        if m.reject:
            text += f" Rejected (Hint: {m.log_term}/{m.reject_hint})"
    elif m.type in (MT.VOTE, MT.PRE_VOTE):
        text += f" Log:{m.log_term}/{m.index}" + (" Force" if m.force else "")
    elif m.type in (MT.VOTE_RESPONSE, MT.PRE_VOTE_RESPONSE):
        text += " Rejected" if m.reject else ""
    elif m.type == MT.HEARTBEAT:
        text += f" Commit:{m.commit}"
    elif m.type == MT.HEARTBEAT_RESPONSE and m.reject:
        text += f" Rejected (Last: {m.reject_hint})"
    elif m.type == MT.RECOVERY_POLL:
        text += f" Round:{m.index}"
    elif m.type == MT.RECOVERY_POLL_RESPONSE:
        text += f" Round:{m.index}" + (" No" if m.reject else " Yes")
    elif m.type == MT.SNAPSHOT and m.snapshot is not None:
        text += f" Snapshot: {snapshot(m.snapshot)}"
    return text


def ready(node_id: int, rd: Ready) -> list[str]:
    lines = [f"> {node_id} handling Ready", f"  Ready MustSync={str(rd.must_sync).lower()}:"]
    if rd.soft_state is not None:
        lines.append(f"  State:{rd.soft_state.role.name} Lead:{rd.soft_state.lead}")
    if rd.hard_state is not None:
        hs = rd.hard_state
        lines.append(f"  HardState Term:{hs.term} Vote:{hs.vote} Commit:{hs.commit}")
    if rd.entries:
        lines += ["  Entries:", *(f"  {entry(e)}" for e in rd.entries)]
    if rd.snapshot is not None:
        lines.append(f"  Snapshot {snapshot(rd.snapshot)}")
    if rd.committed_entries:
        lines += ["  CommittedEntries:", *(f"  {entry(e)}" for e in rd.committed_entries)]
    if rd.messages:
        lines += ["  Messages:", *(f"  {message(m)}" for m in rd.messages)]
    return lines


def state(node: RawNode) -> str:
    status = node.status()
    membership = ("Voter" if status.id in status.conf_state.voters
                  else "Learner" if status.id in status.conf_state.learners else "Non-member")
    return (f"{status.id}: {status.role.name} ({membership}) Term:{status.term} "
            f"Lead:{status.lead}" + (" Recovering" if status.recovering else ""))


def progress(node: RawNode) -> list[str]:
    lines = []
    for node_id, p in node.status().progress.items():
        text = f"{node_id}: {p.state.name} match={p.match} next={p.next}"
        if p.is_learner:
            text += " learner"
        if p.paused:
            text += " paused"
        if p.inflight_count:
            text += f" inflight={p.inflight_count}"
        lines.append(text)
    return lines or [f"{node.id} is not the leader"]
