"""Snapshot cost at scale: how long taking (and restoring) an engine snapshot stalls the
apply loop with N resting orders in the matching module (refdata + risk + matching), and
how long the stall is when a forked child serialises instead (the parent pays only for
``fork()``; the child sees a copy-on-write image of the state as it was).

    python scripts/bench_snapshot.py            # 1,000,000 resting orders, 3 runs
    python scripts/bench_snapshot.py --quick    # 100,000 resting orders, under a minute

Seeded; medians of the runs; the environment first; one JSON line last.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import figure, median, print_environment, print_json_line

from venue.codecs import AddInstrument, Deposit, OrderType, Side, SubmitOrder, TimeInForce
from venue.engine import Engine
from venue.engine.modules.matching import MatchingModule
from venue.engine.modules.refdata import ReferenceDataModule
from venue.engine.modules.risk import RiskModule
from venue.engine.testing import LogBuilder

ACCOUNTS = 1_000
BATCH = 1_000
CENTRAL = 1_000_000


def modules() -> list:
    return [ReferenceDataModule(), RiskModule(), MatchingModule(orders_max=2_000_000,
                                                                book_orders_max=2_000_000)]


def build_engine(orders: int, seed: int) -> Engine:
    """An engine holding ``orders`` resting GTC orders over ~2,000 levels, none crossing."""
    rng = random.Random(seed)
    log = LogBuilder()
    session = log.open("bench")
    seq = 0

    def rows(commands):
        nonlocal seq
        out = []
        for command in commands:
            seq += 1
            out.append((session, seq, command))
        return out

    setup = [AddInstrument(1, "BENCH", 2, 1, price_decimals=2, quantity_decimals=2)]
    for account in range(1, ACCOUNTS + 1):
        setup += [Deposit(account, 1, 10**17), Deposit(account, 2, 10**17)]
    log.batch(*rows(setup))
    engine = Engine(modules(), sessions_max=10, timers_max=10)
    for position, entry in enumerate(log.entries):
        engine.apply(entry)
        log.entries[position] = None  # applied: keep the count (the next index), not the bytes
    for start in range(0, orders, BATCH):
        commands = []
        for number in range(start, min(orders, start + BATCH)):
            side = Side.BUY if number % 2 else Side.SELL
            offset = 1 + rng.randrange(1_000)
            price = CENTRAL - offset if side == Side.BUY else CENTRAL + offset
            commands.append(SubmitOrder(1 + rng.randrange(ACCOUNTS), 1, f"o{number}", side,
                                        OrderType.LIMIT, TimeInForce.GTC, price,
                                        1 + rng.randrange(100)))
        entry = log.batch(*rows(commands))
        engine.apply(entry)
        log.entries[-1] = None
    return engine


def fork_pause_s(engine: Engine) -> float:
    """The parent's stall for a forked child that would serialise the state: fork() only."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: serialise from its copy-on-write image, then leave at once
        engine.take_snapshot()
        os._exit(0)
    elapsed = time.perf_counter() - started
    os.waitpid(pid, 0)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.runs = 100_000, 3
    print_environment()
    started = time.perf_counter()
    engine = build_engine(args.orders, args.seed)
    resting = len(engine.module("matching").book(1))
    print(f"# built {resting:,} resting orders in {time.perf_counter() - started:.1f} s")
    takes, restores, forks = [], [], []
    size = 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        data = engine.take_snapshot()
        takes.append(time.perf_counter() - t0)
        size = len(data)
        t0 = time.perf_counter()
        restored = Engine(modules(), snapshot=data, sessions_max=10, timers_max=10)
        restores.append(time.perf_counter() - t0)
        if restored.chain.head != engine.chain.head:
            raise SystemExit("restored engine differs")
        del restored
        forks.append(fork_pause_s(engine))
    print(f"take_snapshot (in the apply loop): median {median(takes) * 1e3:,.0f} ms   runs "
          + " ".join(f"{t * 1e3:,.0f}" for t in takes))
    print(f"restore from snapshot:             median {median(restores) * 1e3:,.0f} ms")
    print(f"fork() pause (child serialises):   median {median(forks) * 1e3:,.1f} ms   runs "
          + " ".join(f"{t * 1e3:,.1f}" for t in forks))
    print(f"snapshot size: {size / 1e6:,.1f} MB for {resting:,} resting orders")
    print_json_line("snapshot", [
        figure("take_snapshot_ms", median(takes) * 1e3, "ms"),
        figure("fork_pause_ms", median(forks) * 1e3, "ms"),
        figure("restore_ms", median(restores) * 1e3, "ms"),
        figure("snapshot_bytes", size, "bytes")], resting_orders=resting, runs=args.runs)


if __name__ == "__main__":
    main()
