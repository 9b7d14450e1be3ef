"""A minimal blocking FIX 4.4 initiator for end-to-end tests (venue's codec on a socket)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from venue.codecs.tagvalue import FixMessage, FixParser, encode
from venue.gateways.fix.fixtime import format_utc


class FixClient:
    def __init__(self, host: str, port: int, sender: str, target: str = "VENUE",
                 timeout_s: float = 10.0, begin: str = "FIX.4.4") -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sender, self.target, self.begin = sender.encode(), target.encode(), begin.encode()
        self.seq = 1
        self.timeout_s = timeout_s
        self.parser = FixParser()
        self.received: list[FixMessage] = []

    def send(self, msg_type: bytes, *body: tuple[int, bytes | str | int]) -> int:
        seq = self.seq
        self.seq += 1
        fields = [(35, msg_type), (34, b"%d" % seq), (49, self.sender),
                  (52, format_utc(time.time_ns())), (56, self.target), *body]
        self.sock.sendall(encode(self.begin, fields))
        return seq

    def logon(self, password: str | None = None, heartbeat_s: int = 30) -> FixMessage:
        extra = [(554, password)] if password else []
        self.send(b"A", (98, b"0"), (108, b"%d" % heartbeat_s), *extra)
        return self.expect(lambda m: m.msg_type in (b"A", b"5"))

    def expect(self, predicate: Callable[[FixMessage], bool],
               timeout_s: float | None = None) -> FixMessage:
        """The first message (received earlier and not yet taken, or arriving within the
        timeout) for which ``predicate`` holds; it is taken out of ``received``."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            for index, message in enumerate(self.received):
                if predicate(message):
                    return self.received.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.sender!r}: no matching message; received "
                                     f"{[m.raw for m in self.received]}")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise AssertionError(f"{self.sender!r}: the gateway closed the connection; "
                                     f"received {[m.raw for m in self.received]}")
            self.parser.feed(data)
            while (message := self.parser.next()) is not None:
                assert not message.garbled, message.raw
                if message.msg_type == b"1":  # answer test requests, as any engine does
                    self.send(b"0", (112, message.get(112) or b""))
                self.received.append(message)

    def close(self) -> None:
        self.sock.close()


def execution(cl_ord_id: bytes, exec_type: bytes) -> Callable[[FixMessage], bool]:
    return lambda m: m.msg_type == b"8" and m.get(11) == cl_ord_id and \
        m.get(150) == exec_type
