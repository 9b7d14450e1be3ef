"""The ``venue`` command line: demo, replay, tail; node, up, down, status.

Exit codes: 0 success, 2 unusable input (missing, corrupt or mismatched data directory,
plugin that does not load, snapshot refused), 3 a module halted the engine during replay.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from tqdm import tqdm

from venue.codecs import Schema
from venue.engine import EngineHalted, PluginLoadError, SnapshotError, schema_for

from .journal import entry_lines
from .recovery import ChainMismatchError, recover
from .store import DataDirError, DataStore

PROGRESS_ENTRIES_MIN = 10_000
EXIT_BAD_INPUT = 2
EXIT_HALTED = 3


def _progress(total: int, forced: bool | None, what: str) -> tqdm:
    show = forced if forced is not None else total >= PROGRESS_ENTRIES_MIN
    return tqdm(total=total, unit=" entries", desc=what, file=sys.stderr, disable=not show,
                mininterval=0.5)


def cmd_replay(args: argparse.Namespace) -> int:
    with DataStore(args.data_dir, readonly=True) as store:
        modules = store.load_modules()
        last = store.last_index() if args.to is None else min(args.to, store.last_index())
        with _progress(last, args.progress, "replay") as bar:
            engine = recover(store, modules, to_index=last, use_snapshot=args.snapshot,
                             progress=lambda index: bar.update(index - bar.n))
        stored = store.event_record(engine.applied_index)
    print(f"applied_index {engine.applied_index}")
    print(f"chain_hash {engine.chain.head.hex()}")
    verdict = "no events stored" if stored is None else (
        "matches the event store" if stored.chain_hash == engine.chain.head else "DIFFERS")
    print(f"chain_check {verdict}")
    for section, figures in engine.summary().items():
        shown = " ".join(f"{key}={value}" for key, value in figures.items())
        print(f"{section}: {shown}")
    return 0


def _schema_of(store: DataStore) -> Schema:
    try:
        return schema_for(store.load_modules())
    except PluginLoadError as exc:
        print(f"warning: {exc}; plugin commands and events will show as undecodable",
              file=sys.stderr)
        return Schema()


def cmd_tail(args: argparse.Namespace) -> int:
    with DataStore(args.data_dir, readonly=True) as store:
        schema = _schema_of(store)
        next_index = args.from_index
        if next_index is None:
            next_index = max(1, store.last_index() - args.lines + 1)
        total = max(0, store.last_index() - next_index + 1)
        with _progress(total, args.progress, "tail") as bar:
            next_index = _print_from(store, schema, next_index, bar)
        while args.follow:
            time.sleep(args.poll_interval)
            next_index = _print_from(store, schema, next_index, None)
    return 0


def _print_from(store: DataStore, schema: Schema, start: int, bar: tqdm | None) -> int:
    events = {record.index: record for record in store.events(start)}
    index = start
    for entry in store.entries(start):
        record = events.get(entry.index)
        outcomes = None if record is None else schema.decode_outcomes(record.event_bytes)
        for line in entry_lines(entry, outcomes, schema):
            print(line)
        index = entry.index + 1
        if bar is not None:
            bar.update(1)
    sys.stdout.flush()
    return index


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="venue", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run a scripted session through the engine")
    demo.add_argument("--data-dir", help="keep the data here (default: a temporary folder)")
    demo.set_defaults(handler=cmd_demo)

    replay = commands.add_parser("replay", help="rebuild state from a data directory")
    replay.add_argument("data_dir")
    replay.add_argument("--to", type=int, help="stop after this log index")
    replay.add_argument("--no-snapshot", dest="snapshot", action="store_false",
                        help="replay from the first entry, ignoring snapshots")
    _add_progress_flags(replay)
    replay.set_defaults(handler=cmd_replay)

    tail = commands.add_parser("tail", help="print log entries and their events")
    tail.add_argument("data_dir")
    tail.add_argument("--from", dest="from_index", type=int, help="first index to print")
    tail.add_argument("-n", "--lines", type=int, default=20,
                      help="without --from, print this many last entries (default 20)")
    tail.add_argument("-f", "--follow", action="store_true", help="wait for new entries")
    tail.add_argument("--poll-interval", type=float, default=0.2, help="seconds, for -f")
    _add_progress_flags(tail)
    tail.set_defaults(handler=cmd_tail)

    from .cli_cluster import add_cluster_commands

    add_cluster_commands(commands)
    from venue.gateways.fix.cli import add_fix_commands

    add_fix_commands(commands)
    from venue.gateways.ws.cli import add_ws_commands

    add_ws_commands(commands)
    from venue.gateways.history.cli import add_history_commands

    add_history_commands(commands)
    from venue.gateways.console.cli import add_console_commands

    add_console_commands(commands)
    return parser


def _add_progress_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help=f"always show a progress bar (default: from "
                            f"{PROGRESS_ENTRIES_MIN} entries)")
    group.add_argument("--no-progress", dest="progress", action="store_false")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (DataDirError, PluginLoadError, SnapshotError, ChainMismatchError) as exc:
        print(f"venue {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EngineHalted as exc:
        print(f"venue {args.command}: {exc}", file=sys.stderr)
        return EXIT_HALTED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (``| head``) went away: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
