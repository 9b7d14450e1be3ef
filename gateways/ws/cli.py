"""``venue ws-gateway --config FILE``: the WebSocket JSON API in front of a cluster (kept
light: the gateway's modules load only when the command runs)."""

from __future__ import annotations

import argparse
import sys

from venue.gateways.service import run_until_stopped, setup_logging


def cmd_ws_gateway(args: argparse.Namespace) -> int:
    from .config import WsConfigError, load_ws_config
    from .server import run_gateway

    setup_logging(args.verbose)
    try:
        config = load_ws_config(args.config)
    except WsConfigError as exc:
        print(f"venue ws-gateway: {exc}", file=sys.stderr)
        return 2

    run_until_stopped(lambda stop: run_gateway(config, stop))
    return 0


def add_ws_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ws-gateway",
                                 help="run the WebSocket JSON gateway in front of a cluster")
    parser.add_argument("--config", required=True, help="the gateway's JSON config file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log connections")
    parser.set_defaults(handler=cmd_ws_gateway)
