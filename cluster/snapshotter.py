"""Snapshots taken by a forked child, so the apply loop stalls only for ``fork()``.

The child holds a copy-on-write image of the engine as it was at the fork: it serialises
it, writes the snapshot file (temporary file, fsync, rename, fsync of the folder) and
exits; it touches nothing else of the parent's (no LMDB, no sockets, no event loop). The
parent polls for the child's exit and then records the snapshot. Measured with 100,000 and
1,000,000 resting orders by ``scripts/bench_snapshot.py``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from venue.engine import Engine

    from .raft import ConfState
    from .store import DataStore


class SnapshotChild:
    def __init__(self) -> None:
        self.pid = 0
        self.index = 0
        self.conf_state: ConfState | None = None
        self.failures = 0

    @property
    def running(self) -> bool:
        return self.pid != 0

    def start(self, engine: Engine, store: DataStore, index: int,
              conf_state: ConfState) -> bool:
        """Fork a child that writes the snapshot of ``engine`` at ``index``; False where
        fork does not exist (the caller then takes it in the foreground)."""
        if not hasattr(os, "fork"):
            return False
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: serialise, write, leave without running any cleanup
            code = 1
            try:
                store.write_snapshot(index, engine.take_snapshot())
                code = 0
            finally:
                os._exit(code)
        self.pid, self.index, self.conf_state = pid, index, conf_state
        return True

    def poll(self, block: bool = False) -> tuple[int, ConfState] | None:
        """(index, membership) once the child has written the file; None while it runs
        or if it failed (counted in ``failures``; the next interval tries again).
        ``block`` waits for the child to end."""
        finished, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if finished == 0:
            return None
        self.pid = 0
        if os.waitstatus_to_exitcode(status) != 0:
            self.failures += 1
            print(f"venue: the snapshot child for index {self.index} failed "
                  f"(status {status})", file=sys.stderr, flush=True)
            return None
        assert self.conf_state is not None
        return self.index, self.conf_state
