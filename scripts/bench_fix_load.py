"""The load generator of ``bench_fix.py``: its own process, several FIX 4.4 initiator
connections (uvloop, venue's codec: ``encode`` out, ``FixParser`` in) sending
NewOrderSingle and timing each one to its first ExecutionReport.

Open loop: ``rate`` orders a second in total, split over the connections, each order with
a planned send time (``start + k / rate``); an order is written when its time comes, whatever
came back, and its latency is measured from the planned time to the first ExecutionReport
with its ClOrdID (a stall anywhere, including in this process, shows up as latency, not as
a lower send rate). Closed loop: each connection keeps ``window`` orders in flight (the
throughput step). Orders: GTC limits of one lot at one price; even connections buy, odd
ones sell, so about half of the orders rest and half cross them (each account is on one
side only: no self-trade prevention). Bounded: every step has an order count and a
deadline; reports still missing after the drain timeout (``drain_s``, at most 10 s)
are counted as missing.

    python scripts/bench_fix_load.py --port 9900 --sessions LOAD1=pw,LOAD2=pw \
        --plan '[{"kind": "open", "rate": 1000, "duration_s": 5}]'

Prints one JSON object a step (``{"step": ...}``) and ``{"done": true}`` last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_load import summarise

from venue.codecs.tagvalue import FixMessage, FixParser, encode
from venue.gateways.fix.fixtime import format_utc

BEGIN_STRING = b"FIX.4.4"
LOGON_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 10.0
STEP_DURATION_S_MAX = 120.0
SATURATED_P99_MS = 1_000.0  # an open step past this (or missing reports): higher rates skipped
PRICE, QUANTITY, SYMBOL = b"65000.00", b"0.0100", b"BTC-USD"


class FixConnection(asyncio.Protocol):
    """One initiator session: writes orders, matches execution reports to ClOrdIDs."""

    def __init__(self, sender: str, password: str, index: int, target: bytes) -> None:
        self.sender, self.target, self.password = sender.encode(), target, password
        self.side = b"1" if index % 2 == 0 else b"2"
        self.prefix = b"%s-" % self.sender
        self.seq = 1
        self.counter = 0
        self.parser = FixParser()
        self.transport: asyncio.Transport | None = None
        self.logged_on = asyncio.Event()
        self.closed = asyncio.Event()
        self.pending: dict[bytes, int] = {}   # ClOrdID -> start ns (planned or sent)
        self.latencies_ns: list[int] = []
        self.last_answer_ns = 0
        self.first_exec_types: dict[str, int] = {}
        self.answered_ids: set[bytes] = set()  # every step's: fills come in later steps
        self.counts = {"reports": 0, "duplicate_first": 0, "session_rejects": 0,
                       "business_rejects": 0, "unknown_reports": 0}
        #: closed loop: called after each first report
        self.on_answer: Callable[[FixConnection], None] | None = None
        self._time_ms = -1
        self._time_text = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def _sending_time(self) -> bytes:
        now_ns = time.time_ns()
        if now_ns // 1_000_000 != self._time_ms:
            self._time_ms, self._time_text = now_ns // 1_000_000, format_utc(now_ns)
        return self._time_text

    def message(self, msg_type: bytes, body: list[tuple[int, bytes]]) -> bytes:
        seq, self.seq = self.seq, self.seq + 1
        return encode(BEGIN_STRING, [(35, msg_type), (49, self.sender), (56, self.target),
                                     (34, seq), (52, self._sending_time()), *body])

    def logon(self) -> None:
        self.transport.write(self.message(b"A", [(98, b"0"), (108, b"30"),
                                                 (554, self.password.encode())]))

    def order(self, start_ns: int) -> bytes:
        """The next NewOrderSingle; its latency will count from ``start_ns``."""
        self.counter += 1
        cl_ord_id = self.prefix + b"%d" % self.counter
        self.pending[cl_ord_id] = start_ns
        sending_time = self._sending_time()
        return self.message(b"D", [(11, cl_ord_id), (55, SYMBOL), (54, self.side),
                                   (60, sending_time), (38, QUANTITY), (40, b"2"),
                                   (44, PRICE), (59, b"1")])

    def data_received(self, data: bytes) -> None:
        now_ns = time.monotonic_ns()
        self.parser.feed(data)
        while (message := self.parser.next()) is not None:
            msg_type = message.msg_type
            if msg_type == b"8":
                self._report(message, now_ns)
            elif msg_type == b"A":
                self.logged_on.set()
            elif msg_type == b"1":
                self.transport.write(self.message(b"0", [(112, message.get(112) or b"")]))
            elif msg_type == b"3":
                self.counts["session_rejects"] += 1
            elif msg_type == b"j":
                self.counts["business_rejects"] += 1
            elif msg_type == b"5":
                self.transport.close()

    def _report(self, message: FixMessage, now_ns: int) -> None:
        self.counts["reports"] += 1
        cl_ord_id = message.get(11) or b""
        start_ns = self.pending.pop(cl_ord_id, None)
        if start_ns is None:  # a later report (a fill), a repeated New, or a stranger
            if cl_ord_id not in self.answered_ids:
                self.counts["unknown_reports"] += 1
            elif message.get(150) == b"0":
                self.counts["duplicate_first"] += 1
            return
        self.answered_ids.add(cl_ord_id)
        self.latencies_ns.append(now_ns - start_ns)
        self.last_answer_ns = now_ns
        exec_type = (message.get(150) or b"?").decode()
        self.first_exec_types[exec_type] = self.first_exec_types.get(exec_type, 0) + 1
        if self.on_answer is not None:
            self.on_answer(self)

    def reset_step(self) -> None:
        self.pending.clear()
        self.latencies_ns = []
        self.last_answer_ns = 0
        self.first_exec_types = {}
        self.counts = dict.fromkeys(self.counts, 0)


async def connect_all(host: str, port: int, sessions: list[tuple[str, str]],
                      target: bytes) -> list[FixConnection]:
    loop = asyncio.get_running_loop()
    connections = []
    for index, (sender, password) in enumerate(sessions):
        _, connection = await loop.create_connection(
            lambda s=sender, p=password, i=index: FixConnection(s, p, i, target), host, port)
        connection.logon()
        await asyncio.wait_for(connection.logged_on.wait(), LOGON_TIMEOUT_S)
        connections.append(connection)
    return connections


async def drain(connections: list[FixConnection], drain_s: float) -> None:
    deadline = time.monotonic() + min(drain_s, DRAIN_TIMEOUT_S)
    while any(c.pending for c in connections) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def open_loop(connections: list[FixConnection], rate: float, duration_s: float,
                    drain_s: float) -> tuple[int, float]:
    """Send ``rate * duration_s`` orders on schedule; (orders sent, s from the first
    planned send to the last report received, or to the send deadline if later)."""
    count = len(connections)
    interval_ns = count * 1e9 / rate
    per_connection = max(1, int(duration_s * rate / count))
    start_ns = time.monotonic_ns() + 20_000_000
    deadline_ns = start_ns + int(min(duration_s * 3 + 5, STEP_DURATION_S_MAX) * 1e9)

    async def sender(index: int, connection: FixConnection) -> None:
        offset_ns = start_ns + int(interval_ns * index / count)  # connections interleave
        sent = 0
        while sent < per_connection and time.monotonic_ns() < deadline_ns:
            now_ns = time.monotonic_ns()
            due = min(per_connection, int((now_ns - offset_ns) // interval_ns) + 1)
            if due > sent:
                connection.transport.write(b"".join(
                    connection.order(offset_ns + int(k * interval_ns))
                    for k in range(sent, due)))
                sent = due
            else:
                await asyncio.sleep((offset_ns + sent * interval_ns - now_ns) / 1e9)

    await asyncio.gather(*(sender(i, c) for i, c in enumerate(connections)))
    sent_ns = time.monotonic_ns()
    await drain(connections, drain_s)
    end_ns = max([sent_ns, *(c.last_answer_ns for c in connections)])
    return per_connection * count, (end_ns - start_ns) / 1e9


async def closed_loop(connections: list[FixConnection], window: int, duration_s: float,
                      drain_s: float) -> tuple[int, float, int]:
    """Each connection keeps ``window`` orders in flight for ``duration_s``; (orders
    sent, elapsed s, orders answered within it)."""
    end_ns = time.monotonic_ns() + int(min(duration_s, STEP_DURATION_S_MAX) * 1e9)
    sent = [0]

    def next_order(connection: FixConnection) -> None:
        now_ns = time.monotonic_ns()
        if now_ns < end_ns:
            sent[0] += 1
            connection.transport.write(connection.order(now_ns))

    started_ns = time.monotonic_ns()
    for connection in connections:
        connection.on_answer = next_order
        sent[0] += window
        connection.transport.write(b"".join(connection.order(started_ns)
                                            for _ in range(window)))
    while time.monotonic_ns() < end_ns:
        await asyncio.sleep(0.01)
    elapsed_s = (time.monotonic_ns() - started_ns) / 1e9
    answered = sum(len(c.latencies_ns) for c in connections)
    for connection in connections:
        connection.on_answer = None
    await drain(connections, drain_s)
    return sent[0], elapsed_s, answered


def step_result(step: dict, connections: list[FixConnection], sent: int,
                elapsed_s: float, answered_in_time: int | None = None) -> dict:
    latencies = [value for c in connections for value in c.latencies_ns]
    missing = sum(len(c.pending) for c in connections)
    exec_types: dict[str, int] = {}
    counts: dict[str, int] = {}
    for connection in connections:
        for key, value in connection.first_exec_types.items():
            exec_types[key] = exec_types.get(key, 0) + value
        for key, value in connection.counts.items():
            counts[key] = counts.get(key, 0) + value
    summary = summarise(latencies, missing)
    in_time = len(latencies) if answered_in_time is None else answered_in_time
    return {"step": step, "sent": sent, "answered": len(latencies), "missing": missing,
            "elapsed_s": elapsed_s, "orders_per_s": in_time / elapsed_s,
            "max_ms": max(latencies, default=0) / 1e6, "first_exec_types": exec_types,
            **counts, **{k: v for k, v in summary.items() if k not in ("samples", "lost")}}


async def run(args: argparse.Namespace) -> None:
    sessions = [tuple(item.split("=", 1)) for item in args.sessions.split(",")]
    connections = await connect_all(args.host, args.port, sessions, args.target.encode())
    saturated_rate = float("inf")
    for step in json.loads(args.plan):
        if step["kind"] == "open" and step["rate"] > saturated_rate:
            print(json.dumps({"skipped": step}), flush=True)
            continue
        for connection in connections:
            connection.reset_step()
        if step.get("mark"):
            print(json.dumps({"mark": step["mark"]}), flush=True)
        answered = None
        drain_s = step.get("drain_s", DRAIN_TIMEOUT_S)
        if step["kind"] == "open":
            sent, elapsed_s = await open_loop(connections, step["rate"], step["duration_s"],
                                              drain_s)
        else:
            sent, elapsed_s, answered = await closed_loop(connections, step["window"],
                                                          step["duration_s"], drain_s)
        result = step_result(step, connections, sent, elapsed_s, answered)
        if step.get("record", True):
            print(json.dumps(result, default=str), flush=True)
            if step["kind"] == "open" and (result["missing"] or
                                           result["p99"] > SATURATED_P99_MS):
                saturated_rate = min(saturated_rate, step["rate"])
        if any(c.closed.is_set() for c in connections):
            print(json.dumps({"error": "a connection was closed by the acceptor"}),
                  flush=True)
            break
    for connection in connections:
        connection.transport.close()
    print(json.dumps({"done": True}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", default="VENUE", help="the acceptor's CompID")
    parser.add_argument("--sessions", required=True, help="SENDER=password,...")
    parser.add_argument("--plan", required=True, help="JSON list of steps")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
