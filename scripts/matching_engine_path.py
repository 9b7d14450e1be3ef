"""The engine path of ``bench_matching.py``: the same command stream through the full engine.

Commands go in as log entries, as the log would hold them (``bench_engine.py``'s layout):
session opens, then command batches of ``BATCH_COMMANDS`` ``ClientCommand`` rows. Setup
(``AddInstrument``, a large ``Deposit`` of both assets for every account, the prefill orders)
is applied untimed; the steady-state commands are timed: decode the entry -> session check ->
decode each command -> refdata / risk / matching modules -> canonical encoding of the
events -> XXH3-128 hash chain.

The engine assigns order ids, so cancels and replaces name their order by client order id:
a submit uses the workload's order id as its client order id; a replace gives the order a new
client order id (``r<n>``), which later commands then use as ``orig_client_order_id``. A
cancel becomes ``CancelOrder``, a reduce ``ReplaceOrder`` at the same price with the smaller
quantity, a move ``ReplaceOrder`` at the new price.
"""

from __future__ import annotations

import time

import matching_workload as workload
import msgspec
from benchlib import median

from venue.codecs import (
    AddInstrument,
    CancelOrder,
    ClientCommand,
    CommandBatch,
    Deposit,
    EntryKind,
    LogEntry,
    OrderType,
    ReplaceOrder,
    SessionOpen,
    SubmitOrder,
)
from venue.engine import Engine
from venue.engine import load_modules as load_specs

BATCH_COMMANDS = 100
SESSIONS = 16
DEPOSIT_AMOUNT = 10**15  # per account and asset: enough that no order is refused for credit
BASE_ASSET, QUOTE_ASSET = 2, 1
MODULE_SPECS = ("venue.engine.modules.refdata:ReferenceDataModule",
                "venue.engine.modules.risk:RiskModule",
                "venue.engine.modules.matching:MatchingModule")


def load_modules() -> tuple[list, str]:
    """Fresh module instances, or ``([], reason)`` when they cannot be imported yet."""
    try:
        return load_specs(list(MODULE_SPECS)), ""
    except Exception as exc:  # modules still being written: report and skip the path
        return [], f"{type(exc).__name__}: {exc}"


class EntryWriter:
    """Encodes commands into log entries: ``batch_commands`` rows per COMMAND_BATCH."""

    def __init__(self, batch_commands: int = BATCH_COMMANDS) -> None:
        self.batch_commands = batch_commands
        self.encoder = msgspec.msgpack.Encoder()
        self.entries: list[bytes] = []
        self.rows: list = []
        self.next_seq = dict.fromkeys(range(1, SESSIONS + 1), 1)
        self.timestamp_ns = 1_700_000_000_000_000_000
        for session in range(1, SESSIONS + 1):
            self.entry(EntryKind.SESSION_OPEN, SessionOpen(f"bench-{session}"))

    def entry(self, kind: EntryKind, payload: msgspec.Struct) -> None:
        self.timestamp_ns += 1_000
        self.entries.append(self.encoder.encode(LogEntry(
            len(self.entries) + 1, 1, self.timestamp_ns, kind, self.encoder.encode(payload))))

    def command(self, account: int, command: msgspec.Struct) -> None:
        session = 1 + account % SESSIONS
        self.rows.append(ClientCommand(session, self.next_seq[session],
                                       self.encoder.encode(command)))
        self.next_seq[session] += 1
        if len(self.rows) == self.batch_commands:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.entry(EntryKind.COMMAND_BATCH, CommandBatch(self.rows))
            self.rows = []


class CommandTranslator:
    """Workload tuples -> venue commands; tracks each order's current client order id."""

    def __init__(self) -> None:
        self.client_order_ids: dict[int, str] = {}
        self.requests = 0

    def translate(self, row: tuple) -> SubmitOrder | CancelOrder | ReplaceOrder:
        kind, order_id, account, client_order_id, side, price, quantity, tif = row
        instrument = workload.INSTRUMENT_ID
        if kind == workload.SUBMIT:
            self.client_order_ids[order_id] = client_order_id
            return SubmitOrder(account, instrument, client_order_id, side, OrderType.LIMIT,
                               tif, price, quantity)
        self.requests += 1
        original = self.client_order_ids.get(order_id, str(order_id))
        if kind == workload.CANCEL:
            return CancelOrder(account, instrument, f"x{self.requests}",
                               orig_client_order_id=original)
        renamed = f"r{self.requests}"
        self.client_order_ids[order_id] = renamed
        return ReplaceOrder(account, instrument, renamed, price, quantity,
                            orig_client_order_id=original)


def build_entries(load: dict, accounts: int, batch_commands: int = BATCH_COMMANDS
                  ) -> tuple[list[bytes], int]:
    """(encoded log entries, how many of them are setup); setup entries come first."""
    writer = EntryWriter(batch_commands)
    writer.command(0, AddInstrument(workload.INSTRUMENT_ID, "BENCH-USD", BASE_ASSET,
                                    QUOTE_ASSET, price_decimals=2, quantity_decimals=0,
                                    reference_price=workload.CENTRAL_PRICE))
    for account in range(1, accounts + 1):
        for asset in (BASE_ASSET, QUOTE_ASSET):
            writer.command(account, Deposit(account, asset, DEPOSIT_AMOUNT, f"d{account}.{asset}"))
    translator = CommandTranslator()
    for row in load["prefill"]:
        writer.command(row[2], translator.translate(row))
    writer.flush()
    setup = len(writer.entries)
    for row in load["commands"]:
        writer.command(row[2], translator.translate(row))
    writer.flush()
    return writer.entries, setup


def engine_run(entries: list[bytes], setup: int) -> tuple[float, bytes, int]:
    """(seconds for the steady-state entries, chain head, commands applied while timed)."""
    modules, reason = load_modules()
    if not modules:
        raise RuntimeError(reason)
    engine = Engine(modules)
    decoder = msgspec.msgpack.Decoder(LogEntry)
    apply = engine.apply
    for raw in entries[:setup]:
        apply(decoder.decode(raw))
    outcomes = 0
    started = time.perf_counter()
    for raw in entries[setup:]:
        outcomes += len(apply(decoder.decode(raw)).outcomes)
    return time.perf_counter() - started, engine.chain.head, outcomes


def measure_engine(load: dict, runs: int, accounts: int = 1_000) -> float | None:
    """Median commands/s of the engine path, or None (with a printed reason) if the
    matching and risk modules cannot be loaded yet."""
    _, reason = load_modules()
    if reason:
        print(f"engine path: skipped (modules not importable: {reason})")
        return None
    entries, setup = build_entries(load, accounts)
    commands = len(load["commands"])
    rates, heads = [], set()
    for run in range(runs + 1):  # run 0 is the warm-up
        elapsed, head, _ = engine_run(entries, setup)
        heads.add(head)
        if run:
            rates.append(commands / elapsed)
    if len(heads) != 1:
        raise SystemExit("engine path: runs disagree on the chain head: not deterministic")
    spread = ", ".join(f"{rate:,.0f}" for rate in rates)
    print(f"{'engine':<14} {'modules':<7} median {median(rates):>12,.0f} commands/s   "
          f"runs: {spread}   ({commands:,} commands; chain head {heads.pop().hex()[:16]}...)")
    return median(rates)


def measure_engine_latency(load: dict, commands_max: int, accounts: int = 1_000
                           ) -> dict[str, int] | None:
    """Per-command latency through the engine: the stream with ONE command per log entry,
    one ``perf_counter_ns`` pair around decoding and applying each entry (session check,
    modules, canonical encoding, hash chain). p50 / p99 / p99.9 in ns; None if skipped."""
    modules, reason = load_modules()
    if reason:
        return None
    prefix = {"prefill": load["prefill"], "commands": load["commands"][:commands_max]}
    entries, setup = build_entries(prefix, accounts, batch_commands=1)
    engine = Engine(modules)
    decoder = msgspec.msgpack.Decoder(LogEntry)
    apply = engine.apply
    for raw in entries[:setup]:
        apply(decoder.decode(raw))
    clock = time.perf_counter_ns
    samples = []
    for raw in entries[setup:]:
        started = clock()
        apply(decoder.decode(raw))
        samples.append(clock() - started)
    samples.sort()
    figures = {name: samples[min(len(samples) - 1, int(len(samples) * fraction))]
               for name, fraction in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999))}
    cells = "   ".join(f"{key} {value:,} ns" for key, value in figures.items())
    print(f"latency        engine  {cells}   (one command per log entry, "
          f"{len(samples):,} commands)")
    return figures
