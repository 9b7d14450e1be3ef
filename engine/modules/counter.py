"""A trivial module: per-key counters. Used by the engine benchmark and the simulator as
the smallest real module (decode, dispatch, state change, one event), and as a readable
example of the contract."""

from __future__ import annotations

import msgspec

from venue.codecs import Command, Event

from ..context import ApplyContext
from ..service import Module


class Increment(Command, tag=900):
    key: int
    amount: int = 1


class Incremented(Event, tag=900):
    key: int
    value: int


_state_encoder = msgspec.msgpack.Encoder(order="deterministic")
_state_decoder = msgspec.msgpack.Decoder(list[tuple[int, int]])


class CounterModule(Module):
    name = "counter"
    handles = (Increment,)
    emits = (Incremented,)

    def __init__(self) -> None:
        self.values: dict[int, int] = {}

    def on_start(self, snapshot: bytes | None) -> None:
        if snapshot:
            self.values = dict(_state_decoder.decode(snapshot))

    def on_command(self, ctx: ApplyContext, command: Increment) -> None:
        value = self.values.get(command.key, 0) + command.amount
        self.values[command.key] = value
        ctx.emit(Incremented(command.key, value))

    def value(self, key: int) -> int:
        """Query: the counter's value (0 if never incremented)."""
        return self.values.get(key, 0)

    def take_snapshot(self) -> bytes:
        return _state_encoder.encode(sorted(self.values.items()))

    def summary(self) -> dict[str, int | str]:
        return {"keys": len(self.values), "total": sum(self.values.values())}
