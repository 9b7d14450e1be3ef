"""``venue ws-gateway --config FILE``: the WebSocket JSON API in front of a cluster (kept
light: the gateway's modules load only when the command runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def cmd_ws_gateway(args: argparse.Namespace) -> int:
    from .config import WsConfigError, load_ws_config
    from .server import run_gateway

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = load_ws_config(args.config)
    except WsConfigError as exc:
        print(f"venue ws-gateway: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_gateway(config, stop)

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return 0


def add_ws_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ws-gateway",
                                 help="run the WebSocket JSON gateway in front of a cluster")
    parser.add_argument("--config", required=True, help="the gateway's JSON config file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections")
    parser.set_defaults(handler=cmd_ws_gateway)
