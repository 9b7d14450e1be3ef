"""A FIX acceptor with the acceptance reflector behind it, on 127.0.0.1, in a thread of the
test process (its own event loop), for tests that speak FIX over a real socket."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from venue.gateways.fix.acceptor import FixAcceptor
from venue.gateways.fix.reflector import reflector_core

SCRIPTS = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "quickfix"


class ThreadedAcceptor:
    def __init__(self, acceptor: FixAcceptor) -> None:
        self.acceptor = acceptor
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedAcceptor:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.acceptor.start(), self.loop).result(10)
        return self

    @property
    def port(self) -> int:
        return self.acceptor.port

    def call(self, function, *args):  # run on the acceptor's loop, wait for the result
        future: Future = Future()

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as exc:
                future.set_exception(exc)
        self.loop.call_soon_threadsafe(run)
        return future.result(10)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.acceptor.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def reflector() -> Iterator[ThreadedAcceptor]:
    with ThreadedAcceptor(FixAcceptor(reflector_core(), "127.0.0.1", 0)) as running:
        yield running


from .venue_fixture import venue  # noqa: E402, F401  (a running cluster + FIX gateway)
