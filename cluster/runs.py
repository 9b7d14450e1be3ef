"""Runs of a node on its data directory in ``replicated`` durability mode.

A node that acknowledged entries from memory and then lost them in a machine crash must
restart recovering (cluster/raft/recovery.py). It tells by a record in the ``meta``
sub-database: written (synced) when a replicated-mode run starts, with the kernel's boot
id, and cleared by a clean stop. A process crash leaves the record, but the boot id is
unchanged: the page cache, and with it every LMDB commit, survived, so nothing was lost.
"""

from __future__ import annotations

from pathlib import Path

from .store import DataStore, Durability

_RUN_KEY = b"replicated_run"  # meta: boot id of a replicated-mode run in progress
_LOSSY = b""  # a run that started lossy and has not caught up yet
_BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> bytes:
    """The kernel's id for this boot (empty where there is none: every stop then counts as
    a machine crash)."""
    try:
        return _BOOT_ID_PATH.read_bytes().strip()
    except OSError:
        return b""


def begin_run(store: DataStore) -> bool:
    """A node starts on ``store``. Return whether an earlier replicated-mode run ended in a
    machine crash (or started lossy and stopped before it caught up): then entries it
    acknowledged may be lost. In replicated mode, record this run (synced)."""
    with store.begin() as txn:
        running = txn.get(_RUN_KEY, db=store.meta_db)
    lossy = running is not None and (running == _LOSSY or running != boot_id())
    if store.durability is Durability.REPLICATED and not store.readonly:
        with store.begin(write=True) as txn:
            txn.put(_RUN_KEY, _LOSSY if lossy else boot_id(), db=store.meta_db)
        store.sync()
    return lossy


def end_run(store: DataStore, caught_up: bool) -> None:
    """A clean stop: sync everything; clear the record unless the node has not caught up
    since a lossy start (its next start must still know)."""
    store.sync()
    if caught_up:
        with store.begin(write=True) as txn:
            txn.delete(_RUN_KEY, db=store.meta_db)
        store.sync()
