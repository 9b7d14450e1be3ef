"""The ``venue`` command line: replay, tail, demo, and clear errors on bad data."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from venue.cluster.cli import EXIT_BAD_INPUT, main
from venue.cluster.single import SingleNode
from venue.engine.modules.counter import Increment

from .test_single import COUNTER, SteppingClock

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    with SingleNode(tmp_path, [COUNTER], clock=SteppingClock(), batch_commands_max=4) as node:
        session = node.open_session("alice")
        node.submit(session, [Increment(k % 2, 5) for k in range(10)])
        node.take_snapshot()
        node.submit(session, [Increment(7)])
    return tmp_path


def test_replay_prints_the_chain_head_and_the_state(data_dir: Path, capsys) -> None:
    assert main(["replay", str(data_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "applied_index 5" in out
    assert "chain_check matches the event store" in out
    assert "counter: keys=3 total=51" in out


def test_replay_to_an_index_stops_there(data_dir: Path, capsys) -> None:
    assert main(["replay", str(data_dir), "--to", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "applied_index 2" in out
    assert "counter: keys=2 total=20" in out


def test_replay_with_and_without_snapshot_agree(data_dir: Path, capsys) -> None:
    main(["replay", str(data_dir), "--no-progress"])
    with_snapshot = capsys.readouterr().out
    main(["replay", str(data_dir), "--no-snapshot", "--no-progress"])
    assert capsys.readouterr().out == with_snapshot


def test_tail_prints_one_line_per_entry_command_and_event(data_dir: Path, capsys) -> None:
    assert main(["tail", str(data_dir), "--from", "1", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("#1 ") and "SESSION_OPEN SessionOpen(principal='alice')" in lines[0]
    assert "-> SessionOpened(session_id=1, principal='alice')" in lines[1]
    assert any("s1#1 Increment(key=0, amount=5)" in line for line in lines)
    assert any("-> Incremented(key=0, value=5)" in line for line in lines)
    assert sum("COMMAND_BATCH" in line for line in lines) == 4
    assert sum("s1#" in line for line in lines) == 11


def test_tail_last_n_entries(data_dir: Path, capsys) -> None:
    assert main(["tail", str(data_dir), "-n", "1", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("#5 ")
    assert lines[1].endswith("s1#11 Increment(key=7)")


def test_progress_bar_is_shown_when_asked(data_dir: Path, capsys) -> None:
    main(["replay", str(data_dir), "--progress"])
    assert "5/5" in capsys.readouterr().err


def test_missing_directory_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["replay", str(tmp_path / "absent")]) == EXIT_BAD_INPUT
    assert "is not a venue data directory" in capsys.readouterr().err


def test_truncated_data_file_is_a_clear_error_not_a_crash(data_dir: Path) -> None:
    data = data_dir / "node.lmdb" / "data.mdb"
    with data.open("r+b") as handle:
        handle.truncate(4096 + 100)
    result = subprocess.run([sys.executable, "-m", "venue.cluster.cli", "tail", str(data_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_BAD_INPUT
    assert "truncated" in result.stderr


def test_a_plugin_that_does_not_import_is_a_clear_error(tmp_path: Path, capsys) -> None:
    from venue.cluster.store import DataStore

    DataStore(tmp_path, create=True, module_specs=["no_such_package.mod:Thing"]).close()
    assert main(["replay", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "cannot import 'no_such_package.mod'" in capsys.readouterr().err


def test_tail_follow_prints_entries_appended_later(data_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    follower = subprocess.Popen(
        [sys.executable, "-m", "venue.cluster.cli", "tail", str(data_dir), "--from", "6",
         "--follow", "--poll-interval", "0.05"],
        stdout=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(60, follower.kill)  # bounds the read loop below in time
    watchdog.start()
    try:
        with SingleNode(data_dir, clock=SteppingClock(1_800_000_000_000_000_000)) as node:
            node.submit(1, [Increment(42)])
        seen = []
        for line in follower.stdout:  # bounded: stops at the expected line or on exit
            seen.append(line)
            if "Incremented(key=42" in line:
                break
    finally:
        watchdog.cancel()
        follower.kill()
        follower.wait(timeout=10)
    assert any("s1#12 Increment(key=42)" in line for line in seen)


def test_demo_runs_the_scripted_session_and_verifies_the_chain(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--data-dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "-> InstrumentAdded(instrument_id=1, symbol='BTC-USD'" in out
    assert "reason=DUPLICATE_INSTRUMENT" in out
    assert "status=HALTED" in out and "reason=INVALID_STATE_TRANSITION" in out
    assert "-> OrderFilled(trade_id=1, instrument_id=1, price=6510000, quantity=2000" in out
    assert "reason=IOC_REMAINDER" in out and "reason=INSUFFICIENT_BALANCE" in out
    assert "reason=KILL_SWITCH, cancelled_quantity=100" in out
    resend = out.split("not applied twice")[1].split("==")[0]
    assert "s1#1 AddInstrument" in resend and "->" not in resend
    assert "(identical)" in out
    assert main(["replay", str(tmp_path / "demo"), "--no-progress"]) == 0
    replayed = capsys.readouterr().out
    assert "refdata: instruments=2 open=1 halted=0 closed=1" in replayed
    assert "matching: open_orders=0 books=1 waiting_stops=0 next_order_id=6" in replayed
