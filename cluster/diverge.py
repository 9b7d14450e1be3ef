"""``venue diverge DIR_A DIR_B``: the first log index where two nodes' data directories
differ, and the two event lists there, side by side.

Both directories are compared by their stored chain hashes (every node stores the hash
after each entry); the first index whose hashes differ is where the histories split,
since the chain covers every event before it. The log entries there are compared too: the
same entry with different events means a non-deterministic module; different entries mean
the logs themselves differ (a Raft or storage bug). Exit code 0 if no stored index differs,
1 if one does, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import itertools

from venue.codecs import Schema
from venue.engine import schema_for

from .journal import format_value
from .store import DataStore

COLUMN_WIDTH = 78


def _schema(store: DataStore) -> Schema:
    return schema_for(store.load_modules())


def first_difference(store_a: DataStore, store_b: DataStore) -> int | None:
    """The first index both directories hold events for with different chain hashes."""
    events_a, events_b = store_a.events(), store_b.events()
    record_a, record_b = next(events_a, None), next(events_b, None)
    while record_a is not None and record_b is not None:
        if record_a.index < record_b.index:
            record_a = next(events_a, None)
        elif record_b.index < record_a.index:
            record_b = next(events_b, None)
        else:
            if record_a.chain_hash != record_b.chain_hash:
                return record_a.index
            record_a, record_b = next(events_a, None), next(events_b, None)
    return None


def _lines(store: DataStore, schema: Schema, index: int) -> list[str]:
    record = store.event_record(index)
    if record is None:
        return ["(no events stored)"]
    lines = [f"chain {record.chain_hash.hex()}"]
    for outcome in schema.decode_outcomes(record.event_bytes):
        lines.append(f"s{outcome.session_id}#{outcome.client_seq}")
        lines.extend(f"  {format_value(event)}" for event in outcome.events)
    return lines


def _wrap(line: str) -> list[str]:
    return [line[i:i + COLUMN_WIDTH] for i in range(0, max(len(line), 1), COLUMN_WIDTH)]


def cmd_diverge(args: argparse.Namespace) -> int:
    with DataStore(args.dir_a, readonly=True) as store_a, \
            DataStore(args.dir_b, readonly=True) as store_b:
        index = first_difference(store_a, store_b)
        if index is None:
            print(f"no difference: every index both directories store has the same chain "
                  f"hash (a: up to {store_a.last_event_index()}, b: up to "
                  f"{store_b.last_event_index()})")
            return 0
        entry_a, entry_b = store_a.entry(index), store_b.entry(index)
        same_entry = entry_a is not None and entry_a == entry_b
        print(f"first difference at log index {index}: "
              + ("the same log entry, different events (a module is not deterministic)"
                 if same_entry else "the log entries differ (or one was compacted)"))
        if entry_a is not None:
            print(f"entry: {entry_a.kind.name} term {entry_a.term} at {entry_a.timestamp_ns}")
        left = [wrapped for line in _lines(store_a, _schema(store_a), index)
                for wrapped in _wrap(line)]
        right = [wrapped for line in _lines(store_b, _schema(store_b), index)
                 for wrapped in _wrap(line)]
        print(f"{str(args.dir_a)[:COLUMN_WIDTH]:<{COLUMN_WIDTH}} | {args.dir_b}")
        print(f"{'-' * COLUMN_WIDTH}-+-{'-' * COLUMN_WIDTH}")
        for a, b in itertools.zip_longest(left, right, fillvalue=""):
            marker = "|" if a == b else "*"
            print(f"{a:<{COLUMN_WIDTH}} {marker} {b}")
        return 1


def add_diverge_command(commands: argparse._SubParsersAction) -> None:
    diverge = commands.add_parser("diverge", help="find where two nodes' histories differ")
    diverge.add_argument("dir_a")
    diverge.add_argument("dir_b")
    diverge.set_defaults(handler=cmd_diverge)
