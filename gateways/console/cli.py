"""``venue console``: the operator console (kept light: its modules load only when the
command runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def cmd_console(args: argparse.Namespace) -> int:
    from .config import ConsoleConfigError, load_console_config
    from .server import run_console

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # not every page load
    try:
        config = load_console_config(args.config)
    except ConsoleConfigError as exc:
        print(f"venue console: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_console(config, stop)

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0


def add_console_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("console", help="run the operator web console")
    parser.add_argument("--config", required=True, help="the console's JSON config file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log connections and operator actions")
    parser.set_defaults(handler=cmd_console)
