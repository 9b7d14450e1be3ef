"""A module with a deliberate bug, for halt tests: ``Increment(key=13)`` raises after
changing state."""

from __future__ import annotations

from venue.engine import ApplyContext
from venue.engine.modules.counter import CounterModule, Increment


class FaultyCounterModule(CounterModule):
    name = "counter"

    def on_command(self, ctx: ApplyContext, command: Increment) -> None:
        super().on_command(ctx, command)
        if command.key == 13:
            raise RuntimeError("bug: unlucky key")


class SteppedCounterModule(CounterModule):
    """A counter whose increments are scaled by a configured ``step`` (a module option)."""

    name = "counter"

    def __init__(self, step: int = 1) -> None:
        super().__init__()
        self.step = step

    def on_command(self, ctx: ApplyContext, command: Increment) -> None:
        super().on_command(ctx, Increment(command.key, command.amount * self.step))
