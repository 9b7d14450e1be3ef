"""A deliberately non-deterministic module for the divergence tests: on a node started with
``VENUE_ROGUE=1`` in its environment it reports a different value than everywhere else
(reading the environment is exactly what a module must never do)."""

from __future__ import annotations

import os

from venue.engine import ApplyContext
from venue.engine.modules.counter import CounterModule, Increment, Incremented


class RogueCounterModule(CounterModule):
    name = "counter"

    def __init__(self) -> None:
        super().__init__()
        self.skew = int(os.environ.get("VENUE_ROGUE", "0"))

    def on_command(self, ctx: ApplyContext, command: Increment) -> None:
        value = self.values.get(command.key, 0) + command.amount
        self.values[command.key] = value
        ctx.emit(Incremented(command.key, value + (self.skew if value > 50 else 0)))
