"""Seeded command streams for ``bench_matching.py``, written to a file every book replays.

Three workloads, each a list of command tuples ``(kind, order_id, account, side, price,
quantity, time_in_force)`` (unused fields 0):

- ``exchange_core``: after the shape of exchange-core's published test generator
  (``TestOrdersGenerator``; its README: one instrument, ~1,000 active orders in ~750 price
  levels, 1,000 accounts). A prefill phase places passive GTC orders around the last trade
  price until the book holds its target; then each command picks a side and, if that side is
  short of its half of the target, places a passive GTC order; otherwise, of 40 equally
  likely draws: 1 IOC taker, 1 FOK taker, 1 cancel, 1 reduce, 36 moves, which shift a resting
  order's price toward the last trade price (one tick at least), mostly passively, crossing
  when it reaches the other side. The generator runs a real book to know what rests.
- ``insert_only``: Liquibook's insert test: passive GTC orders only, bids below and asks above
  the middle, random prices over ``levels`` levels a side; nothing matches.
- ``deep_queue``: one price level with ``makers`` resting sells, then buy IOC takers that each
  sweep ``sweep`` of them, until the level is empty.

The stream is the same for every implementation: it is generated once, written with msgpack,
read back, and replayed by ``bench_matching.apply_commands`` (the books) and
``matching_engine_path`` (the engine).
"""

from __future__ import annotations

import random

import msgspec

from venue.codecs.enums import Side, TimeInForce
from venue.codecs.events import OrderCancelled, OrderFilled
from venue.engine.book import CyOrderBook, PyOrderBook, SubmitOutcome

SUBMIT, CANCEL, REDUCE, MOVE = 1, 2, 3, 4
KIND_NAMES = {SUBMIT: "submit", CANCEL: "cancel", REDUCE: "reduce", MOVE: "move"}
INSTRUMENT_ID = 1
CENTRAL_PRICE = 100_000  # ticks
PRICE_DEVIATION = 4_500  # ticks: how far from the last trade a passive order may be placed
MOVE_ALPHA = 0.01  # a move covers this fraction of the distance to the last trade price
TAKER_TIME_IN_FORCE = (TimeInForce.IOC, TimeInForce.FOK)


def order_size(rng: random.Random) -> int:
    """1..126 lots, mostly small (exchange-core's size shape)."""
    return 1 + rng.randrange(6) * rng.randrange(6) * rng.randrange(6)


class LiveOrders:
    """Resting order ids with O(1) random pick and removal (swap with the last)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.position: dict[int, int] = {}
        self.side: dict[int, int] = {}
        self.count = {Side.BUY: 0, Side.SELL: 0}

    def add(self, order_id: int, side: int) -> None:
        self.position[order_id] = len(self.ids)
        self.ids.append(order_id)
        self.side[order_id] = side
        self.count[side] += 1

    def discard(self, order_id: int) -> None:
        index = self.position.pop(order_id, None)
        if index is None:
            return
        last = self.ids.pop()
        if last != order_id:
            self.ids[index] = last
            self.position[last] = index
        self.count[self.side.pop(order_id)] -= 1

    def pick(self, rng: random.Random) -> int:
        return self.ids[rng.randrange(len(self.ids))]


class ExchangeCoreGenerator:
    """Drives a real book while drawing commands, so every draw sees the current book."""

    def __init__(self, seed: int, target_orders: int, accounts: int) -> None:
        self.rng = random.Random(seed)
        self.target_half = target_orders // 2
        self.accounts = accounts
        self.book = (CyOrderBook or PyOrderBook)(INSTRUMENT_ID)
        self.live = LiveOrders()
        self.next_order_id = 1
        self.events: list = []

    def last_price(self) -> int:
        last = self.book.last_trade_price
        return CENTRAL_PRICE if last is None else last

    def passive(self, side: int) -> tuple:
        rng = self.rng
        spread = 1 + int(rng.random() ** 2 * PRICE_DEVIATION)
        offset = abs(sum(rng.randrange(spread) for _ in range(4)) * 2 // 4 - spread)
        price = self.last_price() + (offset if side == Side.SELL else -offset)
        return self.submit(side, max(price, 1), order_size(rng), TimeInForce.GTC)

    def taker(self, side: int, time_in_force: int) -> tuple:
        rng = self.rng
        best = self.book.best_ask() if side == Side.BUY else self.book.best_bid()
        reach = rng.randrange(8)
        price = self.last_price() if best is None else best
        price += reach if side == Side.BUY else -reach
        return self.submit(side, max(price, 1), order_size(rng), time_in_force)

    def submit(self, side: int, price: int, quantity: int, time_in_force: int) -> tuple:
        order_id, self.next_order_id = self.next_order_id, self.next_order_id + 1
        account = 1 + self.rng.randrange(self.accounts)
        command = (SUBMIT, order_id, account, side, price, quantity, time_in_force)
        result = self.book.submit(order_id, account, str(order_id), Side(side), price,
                                  quantity, time_in_force=TimeInForce(time_in_force),
                                  events=self.events)
        if result.outcome == SubmitOutcome.RESTING:
            self.live.add(order_id, side)
        return command

    def change(self, kind: int) -> tuple:
        order_id = self.live.pick(self.rng)
        order = self.book.order(order_id)
        if kind == REDUCE and order.leaves_quantity < 2:
            kind = CANCEL
        if kind == CANCEL:
            self.book.cancel(order_id, self.events)
            self.live.discard(order_id)
            return (CANCEL, order_id, order.account, order.side, 0, 0, 0)
        if kind == REDUCE:
            quantity = 1 + self.rng.randrange(order.leaves_quantity - 1)
            self.book.reduce(order_id, quantity, self.events)
            return (REDUCE, order_id, order.account, order.side, order.price, quantity, 0)
        distance = self.last_price() - order.price
        step = int(distance * MOVE_ALPHA)
        if step == 0:
            step = (1 if distance > 0 else -1) if distance else self.rng.choice((-1, 1))
        price = max(order.price + step, 1)
        result = self.book.replace(order_id, price, order.leaves_quantity, self.events)
        if result.outcome != SubmitOutcome.RESTING:
            self.live.discard(order_id)
        return (MOVE, order_id, order.account, order.side, price, order.leaves_quantity, 0)

    def next_command(self) -> tuple:
        rng = self.rng
        side = Side.BUY if rng.randrange(2) else Side.SELL
        if self.live.count[side] < self.target_half or not self.live.ids:
            command = self.passive(side)
        else:
            draw = rng.randrange(40)
            if draw < 2:
                command = self.taker(side, TAKER_TIME_IN_FORCE[draw])
            else:
                command = self.change(CANCEL if draw == 2 else REDUCE if draw == 3 else MOVE)
        self.settle()
        return command

    def settle(self) -> None:
        """Forget the orders the last command filled or cancelled."""
        for event in self.events:
            if type(event) is OrderFilled and event.maker_leaves_quantity == 0:
                self.live.discard(event.maker_order_id)
            elif type(event) is OrderCancelled:
                self.live.discard(event.order_id)
        self.events.clear()


def exchange_core(seed: int, commands: int, target_orders: int = 1_000,
                  accounts: int = 1_000) -> dict:
    """Prefill commands (untimed) and ``commands`` steady-state commands."""
    generator = ExchangeCoreGenerator(seed, target_orders, accounts)
    prefill = []
    for _ in range(target_orders * 4):  # bounded: each passive draw adds at most one order
        if len(generator.book) >= target_orders:
            break
        prefill.append(generator.passive(Side.BUY if len(prefill) % 2 else Side.SELL))
    stream = [generator.next_command() for _ in range(commands)]
    return {"prefill": prefill, "commands": stream}


def insert_only(seed: int, commands: int, levels: int = 1_000, accounts: int = 1_000) -> dict:
    rng = random.Random(seed)
    stream = []
    for order_id in range(1, commands + 1):
        side = Side.BUY if order_id % 2 else Side.SELL
        offset = 1 + rng.randrange(levels)
        price = CENTRAL_PRICE - offset if side == Side.BUY else CENTRAL_PRICE + offset
        stream.append((SUBMIT, order_id, 1 + rng.randrange(accounts), side, price,
                       order_size(rng), TimeInForce.GTC))
    return {"prefill": [], "commands": stream}


def deep_queue(seed: int, makers: int = 100_000, sweep: int = 1_000,
               accounts: int = 1_000) -> dict:
    """``makers`` sells of 10 lots at one price (prefill), then IOC buys of ``sweep`` * 10."""
    rng = random.Random(seed)
    prefill = [(SUBMIT, order_id, 1 + rng.randrange(accounts), Side.SELL, CENTRAL_PRICE, 10,
                TimeInForce.GTC) for order_id in range(1, makers + 1)]
    takers = [(SUBMIT, makers + index, 1 + rng.randrange(accounts), Side.BUY, CENTRAL_PRICE,
               sweep * 10, TimeInForce.IOC) for index in range(1, -(-makers // sweep) + 1)]
    return {"prefill": prefill, "commands": takers}


def write_workloads(path: str, workloads: dict[str, dict], meta: dict) -> None:
    with open(path, "wb") as handle:
        handle.write(msgspec.msgpack.encode({"meta": meta, "workloads": workloads}))


def read_workloads(path: str) -> tuple[dict, dict[str, dict]]:
    """The workloads as written, each command an 8-tuple (see ``_typed``) with its enum
    fields as members (as a decoded ``SubmitOrder`` would give them to the matching module)."""
    with open(path, "rb") as handle:
        data = msgspec.msgpack.decode(handle.read())
    workloads = {}
    for name, workload in data["workloads"].items():
        workloads[name] = {part: [_typed(row) for row in rows]
                           for part, rows in workload.items()}
    return data["meta"], workloads


SIDES = {1: Side.BUY, 2: Side.SELL}
TIME_IN_FORCE = {0: 0, **{int(member): member for member in TimeInForce}}


def _typed(row: list) -> tuple:
    """A stored row as the replay loop takes it: ``(kind, order_id, account,
    client_order_id, side, price, quantity, time_in_force)``."""
    kind, order_id, account, side, price, quantity, time_in_force = row
    return (kind, order_id, account, str(order_id) if kind == SUBMIT else "", SIDES[side],
            price, quantity, TIME_IN_FORCE[time_in_force])


def mix(commands: list[tuple]) -> dict[str, int]:
    """How many commands of each kind (submits split by time in force)."""
    counts: dict[str, int] = {}
    for kind, *_, time_in_force in commands:
        name = KIND_NAMES[kind]
        if kind == SUBMIT:
            name = f"submit {TimeInForce(time_in_force).name}"
        counts[name] = counts.get(name, 0) + 1
    return counts
