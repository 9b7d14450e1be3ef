"""``venue fix-acceptor``: the FIX session layer on its own (kept light: the gateway's
modules load only when the command runs)."""

from __future__ import annotations

import argparse
import sys

from venue.gateways.service import run_until_stopped, setup_logging


def cmd_fix_acceptor(args: argparse.Namespace) -> int:
    if not args.reflector:
        print("venue fix-acceptor: only --reflector (the acceptance-test application) is "
              "available; the order-entry gateway runs with the cluster", file=sys.stderr)
        return 2
    setup_logging(args.verbose)
    from .reflector import serve_reflector

    run_until_stopped(lambda stop: serve_reflector(args.host, args.port, stop))
    return 0


def add_fix_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("fix-acceptor", help="run the FIX session layer")
    parser.add_argument("--reflector", action="store_true",
                        help="the QuickFIX acceptance-test application (echo D and d)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-v", "--verbose", action="store_true", help="log session events")
    parser.set_defaults(handler=cmd_fix_acceptor)
    add_gateway_command(commands)


def cmd_fix_gateway(args: argparse.Namespace) -> int:
    from .gateway import run_gateway
    from .gateway_config import GatewayConfigError, load_gateway_config

    setup_logging(args.verbose)
    try:
        config = load_gateway_config(args.config)
    except GatewayConfigError as exc:
        print(f"venue fix-gateway: {exc}", file=sys.stderr)
        return 2

    run_until_stopped(lambda stop: run_gateway(config, stop))
    return 0


def add_gateway_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("fix-gateway",
                                 help="run the FIX 4.4 gateway in front of a cluster")
    parser.add_argument("--config", required=True, help="the gateway's JSON config file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log session events")
    parser.set_defaults(handler=cmd_fix_gateway)
