"""``NodeCore``: one cluster node without I/O: the Raft core, its LMDB storage, the engine,
the sequencer and the leader's timer entries.

The asyncio shell (``cluster/server.py``) feeds it time (``tick``), peer messages
(``step``) and client requests (``open_session``, ``submit``, ``close_session``), then calls
``process(now_ns)``, which honours every Ready in order: 1 persist entries and hard state in
one LMDB transaction (synced or not as the data directory's durability mode says), 2 hand
out the messages to send, 3 apply committed entries through the engine and store their
events and chain hashes, 4 advance.
What it produced comes back in ``Output`` for the shell to deliver.

The sequencer, on the leader only, stamps ``timestamp_ns`` (never before the last stamp, so
time never goes backwards across a failover) and batches queued client commands into
COMMAND_BATCH entries of at most ``batch_commands_max``. When a module's timer deadline has
passed, the leader appends a TIMER entry. A restarting node loads its newest engine
snapshot file and Raft hands it the committed entries after it again; each recomputed chain
hash is checked against the one it stored before (``ChainMismatchError``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from random import Random

import msgspec

from venue.codecs import (
    ClientCommand,
    CommandBatch,
    ConfigChange,
    EntryKind,
    LogEntry,
    SessionClose,
    SessionCloseReason,
    SessionOpen,
    TimerFire,
)
from venue.engine import Engine

from . import runs
from .deferred import DeferredWrites
from .divergence import DivergenceChecker
from .nodesnapshots import Snapshotting
from .nodetypes import NodeSettings, NotLeader, Output, Overloaded, Pending
from .raft import (
    ConfChangeType,
    Config,
    ConfState,
    Message,
    MessageType,
    ProposalDropped,
    RawNode,
    Role,
)
from .raft.storage import bootstrap_snapshot
from .raftstore import LmdbRaftStorage
from .recovery import GENESIS_ENTRY, ChainMismatchError
from .snapshotter import SnapshotChild
from .store import DataStore, StoredEvents

_encoder = msgspec.msgpack.Encoder(order="deterministic")
_VOTE_REQUESTS = (MessageType.VOTE, MessageType.PRE_VOTE)


class NodeCore(Snapshotting):
    """One node. Not thread-safe; the shell drives it from one task."""

    def __init__(self, settings: NodeSettings, store: DataStore, rng: Random,
                 join: bool = False) -> None:
        """``join``: this node's disk was lost (or it is new to a running cluster): start
        with no membership and no log, wait for the leader's snapshot, and refuse to vote
        until then (a vote cast before the disk was lost could otherwise be cast twice in
        one term). Otherwise a new directory bootstraps as a founding member."""
        self.settings = settings
        self.store = store
        bootstrap = None if join else bootstrap_snapshot(ConfState(settings.voters))
        self.storage = LmdbRaftStorage(store, bootstrap)
        self.engine = self._load_engine(fresh=self.storage.snapshot_metadata().index == 0)
        config = Config(id=settings.node_id,
                        election_timeout_ticks=settings.election_timeout_ticks,
                        heartbeat_interval_ticks=settings.heartbeat_interval_ticks,
                        message_size_bytes_max=settings.message_size_bytes_max,
                        applied=self.engine.applied_index,
                        recovering=runs.begin_run(store))  # raft/recovery.py
        self.raw = RawNode(config, self.storage, rng)
        self._queue: list[ClientCommand] = []
        self._opening: dict[tuple[int, int], int] = {}  # (index, term) -> token
        self._timer_proposed_for = 0  # the deadline of the TIMER entry in flight
        self._stamp_floor_ns = self.engine.last_timestamp_ns
        self._last_snapshot_index = self.engine.applied_index
        self.applied_bytes_since_snapshot = 0  # entry payload bytes (snapshot_interval_bytes)
        self._stored_event_index = store.last_event_index()
        self.heartbeats_ignored = 0
        self.batches_proposed = 0  # COMMAND_BATCH entries this node proposed as leader
        self.batched_commands = 0  # the client commands in them
        self.checker = DivergenceChecker(settings.checkpoint_interval_entries)
        self._snapshot_child = SnapshotChild()
        self._writing = False  # a Ready's transaction is in flight (see ``prepare``)
        self._snapshot_wanted = False  # asked for while writing
        self.deferred = DeferredWrites()  # events and commit index not yet written
        self.halted_reason = ""  # set by the shell when this node stops applying

    def _load_engine(self, fresh: bool) -> Engine:
        """The newest snapshot file's engine, else the state after the bootstrap entry;
        ``fresh`` (joining): an empty engine the leader's snapshot will replace."""
        modules = self.store.load_modules()
        if fresh:
            return Engine(modules, **self.store.engine_options)
        index = self.store.latest_snapshot_index()
        if index is not None:
            return Engine(modules, snapshot=self.store.read_snapshot(index),
                          **self.store.engine_options)
        return self._genesis_engine()

    def _genesis_engine(self) -> Engine:
        """An engine past the bootstrap snapshot's index 1, whose events are stored so that
        the event stream starts at position 1."""
        engine = Engine(self.store.load_modules(), **self.store.engine_options)
        applied = engine.apply(GENESIS_ENTRY)
        if self.store.event_record(1) is None:
            self.store.put_events([(1, applied.chain_hash, applied.event_bytes)])
        return engine

    # -- queries -------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self.raw._raft.role == Role.LEADER

    @property
    def leader_id(self) -> int:
        return self.raw._raft.lead

    def status(self) -> dict[str, object]:
        status = self.raw.status()
        return {"node_id": status.id, "role": status.role.name.lower(), "term": status.term,
                "leader_id": status.lead, "commit_index": status.commit,
                "applied_index": self.engine.applied_index,
                "last_index": status.last_index, "queued_commands": len(self._queue),
                "halted": self.halted_reason, "recovering": status.recovering,
                "checked": {str(node): index for node, index in
                            sorted(self.checker.agreed.items())},
                "divergences": [d.describe() for d in self.checker.divergences],
                "lag": {node_id: status.last_index - progress.match
                        for node_id, progress in sorted(status.progress.items())}}

    # -- input ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.raw.tick()

    def step(self, message: Message) -> None:
        if message.type in _VOTE_REQUESTS and self.storage.snapshot_metadata().index == 0:
            return  # joining with nothing: no vote until a leader has sent a snapshot
        last_index = self.raw._raft.log.last_index()
        if (message.type == MessageType.HEARTBEAT and message.commit > last_index
                and self.raw._raft.recovery is None):  # a recovering core answers it itself
            # The leader remembers this node holding entries it no longer has (its disk
            # was lost and it rejoined). With an empty log, answer as if the heartbeat
            # named no commit: the answer makes the leader probe, find the log gone and
            # send a snapshot. With entries, ignore it (they might not be the leader's).
            self.heartbeats_ignored += 1
            if last_index:
                return
            message = msgspec.structs.replace(message, commit=0)
        self.raw.step(message)

    def open_session(self, principal: str, token: int, now_ns: int) -> None:
        """Propose a SESSION_OPEN; ``Output.opened`` names its session id once applied."""
        entry = self._propose(EntryKind.SESSION_OPEN, SessionOpen(principal), now_ns)
        self._opening[(entry.index, entry.term)] = token

    def close_session(self, session_id: int, reason: SessionCloseReason, now_ns: int) -> None:
        self._propose(EntryKind.SESSION_CLOSE, SessionClose(session_id, reason), now_ns)

    def submit(self, session_id: int, client_seq: int, command: bytes) -> None:
        """Queue one client command for the next batch (leader only)."""
        if not self.is_leader:
            raise NotLeader(self.leader_id)
        if len(self._queue) >= self.settings.queued_commands_max:
            raise Overloaded(f"{len(self._queue)} commands queued")
        self._queue.append(ClientCommand(session_id, client_seq, command))

    def _propose(self, kind: EntryKind, payload: msgspec.Struct, now_ns: int) -> LogEntry:
        if not self.is_leader:
            raise NotLeader(self.leader_id)
        try:
            return self.raw.propose(_encoder.encode(payload), kind=kind,
                                    timestamp_ns=self._stamp(now_ns))
        except ProposalDropped:
            raise Overloaded("the leader cannot take proposals now") from None

    def _stamp(self, now_ns: int) -> int:
        self._stamp_floor_ns = max(now_ns, self.raw._raft.last_timestamp_ns(),
                                   self._stamp_floor_ns)
        return self._stamp_floor_ns

    # -- operations ----------------------------------------------------------------------

    def transfer_leader(self, to: int) -> None:
        if not self.is_leader:
            raise NotLeader(self.leader_id)
        if to not in self.raw._raft.tracker.conf_state().voters:
            raise ValueError(f"node {to} is not a voter")
        self.raw.transfer_leader(to)

    def change_membership(self, change: ConfigChange, now_ns: int) -> None:
        """Propose one membership change (the core refuses a second before the first
        applied, or one that makes no sense): raises NotLeader, Overloaded, ValueError."""
        if not self.is_leader:
            raise NotLeader(self.leader_id)
        try:
            self.raw.propose_config_change(change, timestamp_ns=self._stamp(now_ns))
        except ProposalDropped as exc:
            raise ValueError(f"membership change refused: {exc}") from None

    def members(self) -> dict[int, str]:
        """Addresses of members added at run time (``DataStore.members``)."""
        return self.store.members()

    # -- the node loop -------------------------------------------------------------------

    def process(self, now_ns: int) -> Output:
        """Sequence what is queued, append a due TIMER entry, then honour every Ready."""
        output = Output()
        for _ in range(64):  # bounded: each Ready is finite; the rest waits for next call
            pending = self.prepare(now_ns)
            if pending is None:
                break
            output.messages.extend(pending.early)
            self.write(pending)
            output.extend(self.complete(pending))
        return output

    # The three steps of one Ready, for a shell that runs ``write`` (the synced disk
    # transaction) in a worker thread while its loop goes on receiving: ``prepare`` and
    # ``complete`` on the loop's thread, ``write`` anywhere, one Ready at a time.

    def prepare(self, now_ns: int) -> Pending | None:
        """Sequence, propose due timers, take a Ready and apply what it commits.

        Committed entries are applied before this Ready's new entries are persisted (they
        are committed: a quorum holds them), so that the entries, the hard state and the
        events applied go to disk in ONE synced transaction; a Ready with nothing Raft
        needs on disk writes nothing (``deferred.py``). A leader's appends and heartbeats
        (``Pending.early``) may leave before the write; other messages and replies go out
        after ``complete``."""
        if self.is_leader:
            self._flush_queue(now_ns)
            self._propose_due_timer(now_ns)
        elif self._queue:
            self._queue.clear()  # lost leadership: the clients resend, same seq
        ready = self.raw.ready()
        if ready is None:
            return None
        output = Output()
        if ready.snapshot is not None:
            self._install(ready.snapshot.index, ready.snapshot.data)
        records = self._apply(ready.committed_entries, output)
        deferred = self.deferred
        deferred.hold(records, ready.hard_state, now_ns)
        self._writing = True
        early = self.raw.sendable_before_persist(ready)
        if not (ready.must_sync or deferred.full):
            return Pending(ready, [], output, writes=False, early=early)
        hard_state, held = deferred.taken()
        return Pending(ready, held, output, hard_state=hard_state, early=early)

    def write(self, pending: Pending) -> None:
        """The Ready's one LMDB transaction (synced in ``fsync`` mode), if it has one."""
        if pending.writes:
            ready = pending.ready
            pending.written = self.storage.write(pending.hard_state, ready.entries,
                                                 ready.snapshot, pending.records)

    def complete(self, pending: Pending) -> Output:
        """After the write: publish it, hand out the messages, advance."""
        ready = pending.ready
        if pending.writes:
            self._written(pending.written, pending.records, pending.hard_state)
        self._writing = False
        for entry in ready.entries:
            self._stamp_floor_ns = max(self._stamp_floor_ns, entry.timestamp_ns)
        output = pending.output
        early = {id(message) for message in pending.early}
        output.messages.extend(m for m in ready.messages if id(m) not in early)
        self.raw.advance(ready)
        if self._snapshot_wanted:
            self._snapshot_wanted = False
            self.take_snapshot()
        self._maybe_snapshot()
        return output

    def _written(self, written: tuple, records: list, hard_state) -> None:
        self.storage.publish(written)
        self.deferred.written(records, hard_state)
        if records:
            self._stored_event_index = records[-1][0]

    def write_deferred(self, now_ns: int | None = None, age_ns_min: int = 0) -> bool:
        """Write what waits in ``deferred`` (held at least ``age_ns_min`` by ``now_ns``),
        unless a Ready's write is in flight; True if it wrote."""
        if self._writing or not self.deferred:
            return False
        if now_ns is not None and now_ns - self.deferred.since_ns < age_ns_min:
            return False
        hard_state, records = self.deferred.taken()
        self._written(self.storage.write(hard_state, (), None, records), records, hard_state)
        return True

    def events(self, lo: int, hi: int | None = None) -> Iterator[StoredEvents]:
        """Event records ``lo``..``hi`` of this node: stored, then still deferred."""
        return self.deferred.events(self.store, lo, hi)

    def _flush_queue(self, now_ns: int) -> None:
        batch_max = self.settings.batch_commands_max
        while self._queue:
            rows, self._queue = self._queue[:batch_max], self._queue[batch_max:]
            try:
                self._propose(EntryKind.COMMAND_BATCH, CommandBatch(rows), now_ns)
            except Overloaded:
                self._queue = rows + self._queue  # try again at the next call
                return
            self.batches_proposed += 1
            self.batched_commands += len(rows)

    def _propose_due_timer(self, now_ns: int) -> None:
        deadline = self.engine.next_timer_deadline()
        if deadline is None or deadline > now_ns or deadline <= self._timer_proposed_for:
            return
        try:
            self._propose(EntryKind.TIMER, TimerFire(deadline), max(now_ns, deadline))
        except Overloaded:
            return
        self._timer_proposed_for = deadline

    def _install(self, index: int, data: bytes) -> None:
        """A leader sent a snapshot: the engine restarts from it."""
        if not data:  # the bootstrap snapshot: the state before the first entry
            self.engine = self._genesis_engine()
            self._stored_event_index = max(self._stored_event_index, 1)
            return
        modules = self.store.load_modules()
        self.engine = Engine(modules, snapshot=data, **self.store.engine_options)
        if self.engine.applied_index != index:
            raise AssertionError(f"snapshot at {index} holds an engine at "
                                 f"{self.engine.applied_index}")
        self.store.write_snapshot(index, data)
        self._last_snapshot_index = index
        self.applied_bytes_since_snapshot = 0

    def _apply(self, entries: Sequence[LogEntry], output: Output
               ) -> list[tuple[int, bytes, bytes, int]]:
        """Apply committed entries; return the event records to store."""
        records = []
        for entry in entries:
            if entry.index <= self.engine.applied_index:
                continue  # covered by the snapshot the engine started from
            applied = self.engine.apply(entry)
            self.applied_bytes_since_snapshot += len(entry.payload)
            if entry.index <= self._stored_event_index:
                self._check_stored(entry.index, applied.chain_hash)
            else:
                records.append((entry.index, applied.chain_hash, applied.event_bytes,
                                entry.timestamp_ns))
            output.applied.append(applied)
            output.applied_timestamps_ns.append(entry.timestamp_ns)
            if entry.kind == EntryKind.CONFIG_CHANGE:
                change = msgspec.msgpack.decode(entry.payload, type=ConfigChange)
                self.store.remember_member(change.node_id, None if change.change ==
                                           ConfChangeType.REMOVE else change.address)
                output.conf_changes.append(change)
            if self.checker.is_checkpoint(entry.index):
                output.checkpoints.append((entry.index, applied.chain_hash))
                output.divergences.extend(self.checker.local(entry.index, applied.chain_hash))
            if entry.kind == EntryKind.SESSION_OPEN:
                token = self._opening.pop((entry.index, entry.term), None)
                if token is not None:
                    output.opened.append((token, entry.index))
        if self._opening and entries:
            last = entries[-1].index
            for key in [key for key in self._opening if key[0] <= last]:
                output.lost_opens.append(self._opening.pop(key))
        return records

    def _check_stored(self, index: int, chain_hash: bytes) -> None:
        stored = self.store.event_record(index)
        if stored is not None and stored.chain_hash != chain_hash:
            raise ChainMismatchError(index, stored.chain_hash, chain_hash)

    def stop_cleanly(self) -> None:
        """Before the store closes on a clean stop: write what was deferred, sync, and
        record the stop as clean."""
        self.write_deferred()
        runs.end_run(self.store, caught_up=not self.raw.status().recovering)
