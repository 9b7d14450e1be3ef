"""Replays in separate interpreters with different PYTHONHASHSEED give the same chain."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import msgspec

from venue.codecs import LogEntry
from venue.engine import replay
from venue.engine.hashing import GENESIS
from venue.engine.modules.counter import CounterModule, Increment, Incremented

from .helpers import (
    AlarmModule,
    CancelTimer,
    LogBuilder,
    Record,
    RecorderModule,
    ScheduleTimer,
    TimerFired,
)

ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT_SECONDS = 60

REPLAY_CODE = """
import sys
import msgspec
from venue.codecs import LogEntry
from venue.engine import replay
from tests.engine.test_hash_seed_replay import modules
with open(sys.argv[1], "rb") as log_file:
    entries = msgspec.msgpack.decode(log_file.read(), type=list[LogEntry])
print(replay(entries, modules()).chain.head.hex())
"""


def modules() -> list:
    return [CounterModule(), AlarmModule(), RecorderModule()]


def random_log(seed: int, commands: int) -> list[LogEntry]:
    """Sessions opening and closing, counters, timers and records, with resends."""
    rng = random.Random(seed)
    log = LogBuilder(start_ns=1_700_000_000_000_000_000, step_ns=1_000_000)
    next_seq = {log.open(f"client-{n}"): 1 for n in range(4)}
    sent = 0
    while sent < commands:
        roll = rng.randrange(20)
        if roll == 0:
            closing = rng.choice(list(next_seq))
            del next_seq[closing]
            log.close(closing)
            next_seq[log.open(f"client-{log.next_index}")] = 1
        elif roll in (1, 2):
            log.timer()
        else:
            rows = []
            for _ in range(rng.randrange(1, 8)):
                session = rng.choice(list(next_seq))
                seq = next_seq[session] - (rng.randrange(10) == 0)  # occasional resend
                next_seq[session] = max(next_seq[session], seq + 1)
                rows.append((session, seq, _command(rng, log.now_ns)))
            sent += len(rows)
            log.batch(*rows)
    return log.entries


def _command(rng: random.Random, now_ns: int):
    roll = rng.randrange(10)
    if roll < 6:
        return Increment(rng.randrange(50), rng.randrange(1, 100))
    if roll < 8:
        return ScheduleTimer(rng.randrange(20), now_ns + rng.randrange(1, 5) * 1_000_000)
    if roll < 9:
        return CancelTimer(rng.randrange(20))
    return Record()


def test_replays_under_different_hash_seeds_give_identical_nontrivial_chains(
        tmp_path: Path) -> None:
    entries = random_log(seed=20240601, commands=400)
    path = tmp_path / "log.msgpack"
    path.write_bytes(msgspec.msgpack.encode(entries))

    counts = {Incremented: 0, TimerFired: 0}

    def count(entry: LogEntry, applied) -> None:
        for outcome in applied.outcomes:
            for event in outcome.events:
                if type(event) in counts:
                    counts[type(event)] += 1

    expected = replay(entries, modules(), on_applied=count).chain.head.hex()
    assert expected != GENESIS.hex()
    assert counts[Incremented] >= 200 and counts[TimerFired] >= 10, counts

    heads = {}
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", REPLAY_CODE, str(path)], cwd=ROOT, capture_output=True,
            text=True, timeout=SUBPROCESS_TIMEOUT_SECONDS,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.returncode == 0, result.stderr
        heads[seed] = result.stdout.strip()
    assert heads["1"] == heads["2"] == expected
