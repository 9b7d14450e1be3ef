"""What every edge process (``venue fix-gateway``, ``ws-gateway``, ``console``,
``history``) does around its own work: logging, and running until SIGINT or SIGTERM on
uvloop (plain asyncio where uvloop is missing), with the collector tuned
(``cluster/gctune.py``)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from venue.cluster.gctune import tune_gc


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def run_until_stopped(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``run(stop)``; SIGINT and SIGTERM set ``stop``, and ``run`` returns when it has
    shut down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        tune_gc()
        await run(stop)

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
