"""``venue node``: one cluster node as a process, the asyncio shell around ``NodeCore``.

It only moves bytes and time: peer messages through ``PeerTransport`` (authenticated TCP),
client connections through ``ClientIngress``, Prometheus metrics over plain HTTP, a tick
every ``tick_interval_ms``. Work is done as soon as input arrives, so latency is not bound
to the tick: the pump prepares a Ready, writes it (the synced LMDB commit; in a worker
thread while the loop goes on receiving when ``persist_in_thread`` is set), then sends and
replies; what arrived meanwhile forms the next batch (group commit).
An engine halt (a module bug, or this node's chain differing from what it stored) stops the
node with exit code 3: it must never go on applying.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import secrets
import signal
import sys
import time
from random import Random

import msgspec

from venue.engine import EngineHalted

from .divergence import CheckPayload, Checkpoint, Diverged
from .gctune import tune_gc
from .ingress import ClientIngress
from .nodeconfig import NodeConfig
from .nodecore import NodeCore, NodeSettings
from .raft import ConfChangeType, Message, MessageType
from .recovery import ChainMismatchError
from .store import DataStore, Durability
from .transport import PeerTransport

READ_SIZE_BYTES = 256 * 1024
# events and a commit index a node applied without writing (deferred.py) reach the disk
# within this long at the latest, for readers of the data directory (venue tail, diverge)
DEFERRED_AGE_NS_MAX = 100_000_000
EXIT_HALTED = 3
EXIT_CRASHED = 70  # EX_SOFTWARE: a bug in the node loop stopped the node
# peer payloads: one byte saying what follows, then msgpack
RAFT_PAYLOAD = b"R"
CHECK_PAYLOAD = b"C"
_message_encoder = msgspec.msgpack.Encoder()
_message_decoder = msgspec.msgpack.Decoder(Message)
_check_decoder = msgspec.msgpack.Decoder(CheckPayload)


class NodeServer:
    def __init__(self, config: NodeConfig, clock=time.time_ns, join: bool = False) -> None:
        self.config = config
        self.join = join
        self.clock = clock
        self.halted: BaseException | None = None
        self.crashed: BaseException | None = None  # a task of the node loop raised
        self.stopped = asyncio.Event()
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._ids = itertools.count(1)
        self._work = asyncio.Event()
        # with persist_in_thread, one thread for the synced LMDB commits: py-lmdb releases
        # the GIL while LMDB syncs, so the loop goes on receiving meanwhile
        self._disk = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="disk")
        self.elections = 0
        self.apply_seconds = 0.0  # time in process() calls that applied entries
        self.apply_rounds = 0
        self.applied_entries = 0
        self._last_role = ""

    async def start(self) -> None:
        config = self.config
        self.store = DataStore(config.data_dir, create=True, module_specs=config.modules,
                               module_options=config.module_options,
                               durability=Durability(config.durability))
        settings = NodeSettings(config.node_id, tuple(sorted(config.members)),
                                snapshot_interval_entries=config.snapshot_interval_entries,
                                snapshot_interval_bytes=config.snapshot_interval_bytes,
                                checkpoint_interval_entries=config.checkpoint_interval_entries,
                                log_retained_entries=config.log_retained_entries,
                                events_retained_entries=config.events_retained_entries)
        # election timeouts are randomised from the OS at this edge; the core stays seedable
        self.core = NodeCore(settings, self.store, Random(secrets.randbits(64)),
                             join=self.join)
        addresses = {node_id: f"{m.client[0]}:{m.client[1]}"
                     for node_id, m in config.members.items()}
        peers = {node_id: m.peer for node_id, m in config.members.items()}
        for node_id, address in self.core.members().items():  # added at run time
            parsed = json.loads(address)
            addresses[node_id] = parsed["client"]
            peers[node_id] = _split(parsed["peer"])
        self.ingress = ClientIngress(self.core, cluster_id=config.cluster_id,
                                     credentials=config.credentials,
                                     client_addresses=addresses, operators=config.operators,
                                     session_timeout_ns=config.session_timeout_s * 10**9)
        me = config.me
        self.transport = PeerTransport(node_id=config.node_id, cluster_id=config.cluster_id,
                                       secret=config.secret, on_payload=self._on_peer_payload,
                                       host=me.peer[0], port=me.peer[1])
        await self.transport.start()
        for node_id, peer in peers.items():
            if node_id != config.node_id:
                self.transport.add_peer(node_id, peer)
        self._client_server = await asyncio.start_server(self._serve_client, *me.client)
        self._metrics_server = None
        if me.metrics is not None:
            from .metrics import serve_metrics

            self._metrics_server = await asyncio.start_server(
                lambda r, w: serve_metrics(self, r, w), *me.metrics)
        loop = asyncio.get_running_loop()
        self._tick_task = loop.create_task(self._tick_loop())
        self._pump_task = loop.create_task(self._pump())
        for task in (self._tick_task, self._pump_task):
            task.add_done_callback(self._task_ended)

    def _task_ended(self, task: asyncio.Task) -> None:
        """The node loop or the ticker ended by an exception (a bug): stop loudly, do not
        go on answering as if alive."""
        if task.cancelled() or task.exception() is None:
            return
        self.crashed = task.exception()
        print(f"venue node {self.config.node_id}: INTERNAL ERROR in {task.get_coro()!r}, "
              f"stopping: {self.crashed!r}", file=sys.stderr, flush=True)
        self.stopped.set()

    async def close(self) -> None:
        for task in (self._tick_task, self._pump_task):
            if task.done():
                continue  # one that raised is what stopped us: reported by _task_ended
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._disk.shutdown(wait=True)  # a write in flight finishes before the store closes
        self.core.finish_snapshot()
        self.core.stop_cleanly()
        for server in (self._client_server, self._metrics_server):
            if server is not None:
                server.close()
        for writer in list(self._writers.values()):
            writer.close()
        await self.transport.close()
        self.store.close()

    # -- driving the core ----------------------------------------------------------------

    async def _tick_loop(self) -> None:
        interval_s = self.config.tick_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            self.core.tick()
            now_ns = self.clock()
            self.ingress.tick(now_ns)
            if self.halted is None:
                self.core.write_deferred(now_ns, DEFERRED_AGE_NS_MAX)
            self._wake()

    def _wake(self) -> None:
        """Work arrived: the pump takes it (everything that arrived meanwhile with it)."""
        self._work.set()

    async def _pump(self) -> None:
        """The node loop: prepare a Ready (apply what it commits), send a leader's
        appends and every reply, write it (in the worker thread while this loop keeps
        receiving, with ``persist_in_thread``: what arrives joins the next batch, group
        commit), then send the rest. One Ready at a time."""
        loop = asyncio.get_running_loop()
        core = self.core
        while True:
            await self._work.wait()
            self._work.clear()
            while self.halted is None:
                now_ns = self.clock()
                started = time.perf_counter()
                try:
                    pending = core.prepare(now_ns)
                    if pending is None:
                        break
                    if pending.early:  # a leader's appends: its followers write meanwhile
                        self._send_raft(pending.early)
                        self.transport.flush()
                    # Replies and stream entries are of committed entries (a majority
                    # holds them durably): they need not wait for this node's write of
                    # the NEW entries of this Ready, which under load nearly every Ready
                    # has. Their events are in that write; a crash recomputes them.
                    self.ingress.on_output(pending.output, now_ns)
                    self._flush()
                    if self.config.persist_in_thread:
                        await loop.run_in_executor(self._disk, core.write, pending)
                    else:
                        core.write(pending)
                    output = core.complete(pending)
                except (EngineHalted, ChainMismatchError) as exc:
                    self._halt(exc)
                    break
                if output.applied:
                    self.apply_seconds += time.perf_counter() - started
                    self.apply_rounds += 1
                    self.applied_entries += len(output.applied)
                self._deliver(output)
            self._flush()  # replies, status answers, refusals (also while halted)

    def _send_raft(self, messages) -> None:
        raw = self.core.raw
        for message in messages:
            sent = self.transport.send(message.to, RAFT_PAYLOAD + _message_encoder.encode(message))
            if message.type == MessageType.SNAPSHOT:
                # Queued is as far as we can tell: if it is lost, the follower's next
                # rejection brings the leader back to sending a snapshot.
                raw.report_snapshot(message.to, sent)
            elif not sent:
                raw.report_unreachable(message.to)

    def _deliver(self, output) -> None:
        self._send_raft(output.messages)
        self._checkpoints(output)
        for change in output.conf_changes:
            self._apply_membership(change)
        role = self.core.raw._raft.role.name
        if role != self._last_role:
            self.elections += role == "LEADER"
            self._last_role = role

    def _halt(self, exc: BaseException | str) -> None:
        """Stop applying for good; keep answering status and metrics as unhealthy."""
        self.halted = exc if isinstance(exc, BaseException) else RuntimeError(exc)
        self.core.halted_reason = str(exc).splitlines()[0]
        print(f"venue node {self.config.node_id}: HALTED, not applying any further: {exc}",
              file=sys.stderr, flush=True)

    def _apply_membership(self, change) -> None:
        """A membership change was applied: open or close the link to that node."""
        node_id = change.node_id
        if change.change == ConfChangeType.REMOVE:
            if node_id == self.config.node_id:
                print(f"venue node {node_id}: removed from the cluster", file=sys.stderr,
                      flush=True)
            elif node_id in self.transport.links:
                self.transport.remove_peer(node_id)
            self.ingress.client_addresses.pop(node_id, None)
            return
        if not change.address:
            return
        parsed = json.loads(change.address)
        self.ingress.client_addresses[node_id] = parsed["client"]
        if node_id != self.config.node_id and node_id not in self.transport.links:
            self.transport.add_peer(node_id, _split(parsed["peer"]))

    def _checkpoints(self, output) -> None:
        """Followers report their checkpoints to the leader; the leader judges them."""
        core = self.core
        for divergence in output.divergences:
            self._report_divergence(divergence)
        leader = core.leader_id
        if core.is_leader or not leader:
            return
        for index, chain_hash in output.checkpoints:
            report = Checkpoint(self.config.node_id, index, chain_hash)
            self.transport.send(leader, CHECK_PAYLOAD + _message_encoder.encode(report))

    def _report_divergence(self, divergence) -> None:
        print(f"venue node {self.config.node_id} (leader): DIVERGENCE: "
              f"{divergence.describe()}", file=sys.stderr, flush=True)
        verdict = Diverged(divergence.index, divergence.agreed_index, divergence.leader_hash,
                           divergence.follower_hash)
        self.transport.send(divergence.node_id, CHECK_PAYLOAD + _message_encoder.encode(verdict))

    def _on_peer_payload(self, peer_id: int, payload: bytes) -> None:
        if self.halted is not None:
            return
        try:
            kind, body = payload[:1], payload[1:]
            if kind == CHECK_PAYLOAD:
                self._on_check(peer_id, _check_decoder.decode(body))
                return
            if kind != RAFT_PAYLOAD:
                raise ValueError(f"unknown payload kind {kind!r}")
            message = _message_decoder.decode(body)
            if message.sender != peer_id:
                raise ValueError(f"message from {message.sender} on {peer_id}'s link")
            self.core.step(message)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            print(f"venue node {self.config.node_id}: dropped a bad message from peer "
                  f"{peer_id}: {exc}", file=sys.stderr, flush=True)
            return
        self._wake()

    def _on_check(self, peer_id: int, payload: Checkpoint | Diverged) -> None:
        core = self.core
        if isinstance(payload, Checkpoint):
            if core.is_leader and payload.node_id == peer_id:
                for divergence in core.checker.remote(peer_id, payload.index,
                                                      payload.chain_hash):
                    self._report_divergence(divergence)
        elif peer_id == core.leader_id:
            self._halt(f"this node's hash chain differs from the leader's (node {peer_id}) "
                       f"between log index {payload.agreed_index + 1} and {payload.index}: "
                       f"leader {payload.leader_hash.hex()}, here "
                       f"{payload.follower_hash.hex()}; compare the data directories with "
                       f"venue diverge")

    # -- clients -------------------------------------------------------------------------

    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        connection_id = next(self._ids)
        self.ingress.connection_made(connection_id)
        self._writers[connection_id] = writer
        try:
            while connection_id in self.ingress.connections:
                data = await reader.read(READ_SIZE_BYTES)
                if not data:
                    break
                self.ingress.receive_data(connection_id, data, self.clock())
                self._wake()
                await writer.drain()
        except (OSError, ConnectionError, asyncio.CancelledError):
            pass  # a cancelled handler is the server closing: end quietly
        finally:
            self.ingress.connection_lost(connection_id)
            self._writers.pop(connection_id, None)
            writer.close()

    def _flush(self) -> None:
        for connection_id, connection in list(self.ingress.connections.items()):
            writer = self._writers.get(connection_id)
            if writer is None:
                continue
            data = connection.channel.data_to_send()
            if data and not writer.is_closing():  # closing: the client resumes elsewhere
                writer.write(data)
            if connection.closed:
                self.ingress.connection_lost(connection_id)
                writer.close()


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


async def run_node(config: NodeConfig, join: bool = False) -> int:
    server = NodeServer(config, join=join)
    await server.start()
    tune_gc()  # after start-up built the engine: gctune.py
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.stopped.set)
    print(f"venue node {config.node_id}: peers on {config.me.peer[1]}, clients on "
          f"{config.me.client[1]}, data in {config.data_dir}", flush=True)
    await server.stopped.wait()
    await server.close()
    if server.crashed is not None:
        return EXIT_CRASHED
    return EXIT_HALTED if server.halted is not None else 0


def main_node(config: NodeConfig, join: bool = False) -> int:
    try:
        import uvloop  # an asyncio TCP round trip here costs ~100 us, ~31 us with uvloop
    except ImportError:
        return asyncio.run(run_node(config, join))
    return uvloop.run(run_node(config, join))
