"""``venue.engine.testing``: the public helpers plugin authors use must catch real bugs."""

from __future__ import annotations

import pytest

from venue.engine.modules.counter import CounterModule, Increment
from venue.engine.testing import LogBuilder, check_snapshot_replay


class ForgetfulCounter(CounterModule):
    """Forgets its state in snapshots: the bug check_snapshot_replay exists to catch."""

    def take_snapshot(self) -> bytes:
        return b""


def _log() -> LogBuilder:
    log = LogBuilder()
    session = log.open()
    for seq in range(1, 4):
        log.batch((session, seq, Increment(1)))
    return log


def test_snapshot_replay_check_passes_a_correct_module() -> None:
    check_snapshot_replay(lambda: [CounterModule()], _log().entries)


def test_snapshot_replay_check_catches_a_module_that_forgets_state() -> None:
    with pytest.raises(AssertionError, match="restored from the snapshot at index 2"):
        check_snapshot_replay(lambda: [ForgetfulCounter()], _log().entries)
