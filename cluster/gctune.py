"""Garbage-collector settings for venue's long-running processes (nodes, gateways, the
benchmark's load generator).

They allocate many short-lived containers per command (events, replies, messages, frames)
and hold a large long-lived state (books, ledgers, sessions, read models). With CPython's
default thresholds the cyclic collector ran about 60 times a second in each node of a
3-node cluster under a closed loop, for 20-30 ms of every second and single pauses of
41-69 ms, measured with ``gc.callbacks``; with these settings, once in 9 s (BENCHMARKS.md
"Cluster"). Nothing of venue's relies on the collector for memory: its state and its
messages hold no reference cycles, so a young collection every 50,000 net allocations
costs no memory that matters.
"""

from __future__ import annotations

import gc

GC_THRESHOLD_YOUNG = 50_000  # net allocations between young collections (CPython: 700)


def tune_gc() -> None:
    """Collect once, freeze what exists (the state built at start-up, e.g. an engine
    restored from its snapshot, is never garbage: the collector stops rescanning it), and
    collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD_YOUNG, 20, 100)
