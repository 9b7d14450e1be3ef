"""The peer reference for ``bench_cluster.py``: pysyncobj, 3 ``SyncObj`` processes on
127.0.0.1 replicating an append-only log of fixed-size payloads, driven closed loop and
open loop (planned send times, latency from the planned time) like venue's cluster.

pysyncobj has no client protocol: its application lives inside a node and calls the
replicated method there. The driver therefore runs inside the leader's process (a thread
beside SyncObj's own), which spares pysyncobj the client network hop venue pays: the
comparison favours the peer. Its journal is an mmap'd file that is never synced, so its
durability is venue's ``replicated`` mode, not ``fsync``.

    python scripts/pysyncobj_peer.py node --self 127.0.0.1:P --partners A B --journal F
reads one JSON request per line on stdin and answers one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_load import DRAIN_TIMEOUT_S, summarise

LEADER_TIMEOUT_S = 20


def make_log(self_address: str, partners: list[str], journal: str, batch: bool):
    from pysyncobj import SyncObj, SyncObjConf, replicated

    class ReplicatedLog(SyncObj):
        def __init__(self) -> None:
            # appendEntriesUseBatch=False wakes SyncObj's thread on every call (its
            # latency setting); with batching a call waits for the next poll wake-up
            # bindAddress: listen on 127.0.0.1 only (pysyncobj binds 0.0.0.0 by default)
            conf = SyncObjConf(journalFile=journal, appendEntriesUseBatch=batch,
                               dynamicMembershipChange=False, bindAddress=self_address)
            super().__init__(self_address, partners, conf)
            self.count = 0
            self.size_bytes = 0

        @replicated
        def append(self, payload: bytes) -> int:
            self.count += 1
            self.size_bytes += len(payload)
            return self.count

    return ReplicatedLog()


def wait_for_tail(slots: threading.Semaphore, window: int) -> None:
    """Wait for the commands in flight, ``DRAIN_TIMEOUT_S`` at most in all (a command whose
    callback never comes counts as lost)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    for _ in range(window):
        if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return


def drive_closed(log, payload: bytes, window: int, duration_s: float) -> dict:
    from pysyncobj import FAIL_REASON

    slots = threading.Semaphore(window)
    latencies: list[int] = []
    counts = [0, 0]

    def done(result, error, sent_ns: int) -> None:
        if error == FAIL_REASON.SUCCESS:
            latencies.append(time.monotonic_ns() - sent_ns)
            counts[1] += 1
        slots.release()

    started_ns = time.monotonic_ns()
    end_ns = started_ns + int(duration_s * 1e9)
    while time.monotonic_ns() < end_ns:
        if not slots.acquire(timeout=DRAIN_TIMEOUT_S):
            break
        counts[0] += 1
        sent_ns = time.monotonic_ns()
        log.append(payload, callback=lambda r, e, s=sent_ns: done(r, e, s))
    wait_for_tail(slots, window)
    elapsed_s = (time.monotonic_ns() - started_ns) / 1e9
    return {"sent": counts[0], "completed": counts[1], "elapsed_s": elapsed_s,
            **summarise(latencies, counts[0] - counts[1])}


def drive_open(log, payload: bytes, rate_per_s: float, duration_s: float,
               window: int) -> dict:
    from pysyncobj import FAIL_REASON

    slots = threading.Semaphore(window)
    latencies: list[int] = []
    counts = [0, 0]

    def done(result, error, planned_ns: int) -> None:
        if error == FAIL_REASON.SUCCESS:
            latencies.append(time.monotonic_ns() - planned_ns)
            counts[1] += 1
        slots.release()

    start_ns = time.monotonic_ns() + 20_000_000
    interval_ns = 1e9 / rate_per_s
    for k in range(int(duration_s * rate_per_s)):
        planned_ns = start_ns + int(k * interval_ns)
        delay_ns = planned_ns - time.monotonic_ns()
        if delay_ns > 0:
            time.sleep(delay_ns / 1e9)
        if not slots.acquire(timeout=DRAIN_TIMEOUT_S):
            break
        counts[0] += 1
        log.append(payload, callback=lambda r, e, p=planned_ns: done(r, e, p))
    wait_for_tail(slots, window)
    elapsed_s = (time.monotonic_ns() - start_ns) / 1e9
    return {"sent": counts[0], "completed": counts[1], "elapsed_s": elapsed_s,
            **summarise(latencies, counts[0] - counts[1])}


def serve_node(args: argparse.Namespace) -> None:
    log = make_log(args.self, args.partners, args.journal, args.batch)
    payload = os.urandom(args.payload_bytes)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "leader":
            answer = {"leader": bool(log._isLeader()), "ready": bool(log.isReady())}
        elif request["op"] == "closed":
            answer = drive_closed(log, payload, request["window"], request["duration_s"])
        elif request["op"] == "open":
            answer = drive_open(log, payload, request["rate"], request["duration_s"],
                                request["window"])
        else:
            answer = {"error": f"unknown op {request['op']!r}"}
        print(json.dumps(answer), flush=True)


class PeerCluster:
    """Three pysyncobj node processes; requests go to the leader over its stdin."""

    def __init__(self, folder: Path, base_port: int, payload_bytes: int, batch: bool,
                 nodes: int = 3) -> None:
        self.addresses = [f"127.0.0.1:{base_port + n}" for n in range(1, nodes + 1)]
        self.folder, self.payload_bytes, self.batch = folder, payload_bytes, batch
        self.processes: list[subprocess.Popen] = []
        self.leader: subprocess.Popen | None = None

    def start(self) -> None:
        for index, address in enumerate(self.addresses):
            partners = [a for a in self.addresses if a != address]
            command = [sys.executable, __file__, "node", "--self", address, "--partners",
                       *partners, "--journal", str(self.folder / f"journal-{index + 1}"),
                       "--payload-bytes", str(self.payload_bytes),
                       *(["--batch"] if self.batch else [])]
            with (self.folder / f"pysyncobj-{index + 1}.log").open("ab") as stderr:
                self.processes.append(subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                    text=True))
        deadline = time.monotonic() + LEADER_TIMEOUT_S
        while time.monotonic() < deadline and self.leader is None:
            time.sleep(0.2)
            for process in self.processes:
                answer = self.request(process, {"op": "leader"})
                if answer["leader"] and answer["ready"]:
                    self.leader = process
        if self.leader is None:
            self.stop()
            raise RuntimeError(f"pysyncobj elected no leader in {LEADER_TIMEOUT_S} s")

    @staticmethod
    def request(process: subprocess.Popen, request: dict) -> dict:
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    def run(self, request: dict) -> dict:
        return self.request(self.leader, request)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="one pysyncobj node (bench_cluster)")
    parser.add_argument("role", choices=["node"])
    parser.add_argument("--self", required=True)
    parser.add_argument("--partners", nargs="+", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--payload-bytes", type=int, required=True)
    parser.add_argument("--batch", action="store_true")
    serve_node(parser.parse_args())


if __name__ == "__main__":
    main()
