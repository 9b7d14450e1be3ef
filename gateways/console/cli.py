"""``venue console``: the operator console (kept light: its modules load only when the
command runs)."""

from __future__ import annotations

import argparse
import logging
import sys

from venue.gateways.service import run_until_stopped, setup_logging


def cmd_console(args: argparse.Namespace) -> int:
    from .config import ConsoleConfigError, load_console_config
    from .server import run_console

    setup_logging(args.verbose)
    logging.getLogger("websockets").setLevel(logging.WARNING)  # not every page load
    try:
        config = load_console_config(args.config)
    except ConsoleConfigError as exc:
        print(f"venue console: {exc}", file=sys.stderr)
        return 2

    run_until_stopped(lambda stop: run_console(config, stop))
    return 0


def add_console_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("console", help="run the operator web console")
    parser.add_argument("--config", required=True, help="the console's JSON config file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log connections and operator actions")
    parser.set_defaults(handler=cmd_console)
