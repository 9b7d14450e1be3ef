"""Stream entries made by the real engine (refdata, risk, matching modules), for the
history tests: ``(position, timestamp_ns, outcomes)`` as the event stream delivers them."""

from __future__ import annotations

import random

from tests.modules.harness import EngineDriver
from venue.codecs import (
    AddInstrument,
    CancelOrder,
    Deposit,
    HaltInstrument,
    OrderType,
    ReplaceOrder,
    ResumeInstrument,
    SetReferencePrice,
    Side,
    SubmitOrder,
    TimeInForce,
)
from venue.codecs.schema import Outcome
from venue.engine import load_modules

MODULE_SPECS = ["venue.engine.modules.refdata:ReferenceDataModule",
                "venue.engine.modules.risk:RiskModule",
                "venue.engine.modules.matching:MatchingModule"]
USD, BTC = 1, 2
BTC_USD = AddInstrument(1, "BTC-USD", BTC, USD, price_decimals=2, quantity_decimals=4)
ACCOUNTS = (101, 102, 103)
StreamRow = tuple  # (position, timestamp_ns, outcomes)


class Feed:
    """An engine whose applied entries are kept as stream rows."""

    def __init__(self) -> None:
        self.driver = EngineDriver(load_modules(MODULE_SPECS))
        # position 1: the driver's SESSION_OPEN (its SessionOpened is of no interest here)
        self.rows: list[StreamRow] = [(1, self.driver.now_ns, [])]

    def submit(self, command) -> list:
        events = self.driver.submit(command)
        outcome = Outcome(self.driver.session_id, self.driver.client_seq, events)
        self.rows.append((self.driver.index, self.driver.now_ns, [outcome]))
        return events

    def setup(self) -> None:
        self.submit(BTC_USD)
        for account in ACCOUNTS:
            for asset in (USD, BTC):
                self.submit(Deposit(account, asset, 10**14, f"d-{account}-{asset}"))


def order(account: int, cl_id: str, side: Side, price: int, quantity: int,
          tif: TimeInForce = TimeInForce.GTC) -> SubmitOrder:
    return SubmitOrder(account, 1, cl_id, side, OrderType.LIMIT, tif, price, quantity)


def scripted_feed() -> Feed:
    """A small, known history: a partial fill, a full fill, a replace, a cancel, an IOC
    remainder, a halt and resume, a reference price."""
    feed = Feed()
    feed.setup()
    feed.submit(order(101, "s1", Side.SELL, 100_050, 20_000))  # 1000.50 x 2.0000
    feed.submit(order(102, "b1", Side.BUY, 100_050, 5_000))  # fills 0.5 of s1
    feed.submit(order(101, "s2", Side.SELL, 100_100, 10_000))
    feed.submit(ReplaceOrder(101, 1, "s2r", 100_200, 8_000, orig_client_order_id="s2"))
    feed.submit(order(103, "b2", Side.BUY, 100_300, 25_000, TimeInForce.IOC))
    feed.submit(order(102, "b3", Side.BUY, 99_000, 1_000))
    feed.submit(CancelOrder(102, 1, "c1", orig_client_order_id="b3"))
    feed.submit(HaltInstrument(1, "news"))
    feed.submit(ResumeInstrument(1))
    feed.submit(SetReferencePrice(1, 100_000))
    return feed


def random_feed(seed: int, commands: int) -> Feed:
    """Seeded order flow around 1000.00: GTC and IOC orders, replaces, cancels."""
    rng = random.Random(seed)
    feed = Feed()
    feed.setup()
    live: list[tuple[int, str]] = []
    for number in range(commands):
        account = rng.choice(ACCOUNTS)
        roll = rng.random()
        if live and roll < 0.15:
            owner, cl_id = live.pop(rng.randrange(len(live)))
            feed.submit(CancelOrder(owner, 1, f"c{number}", orig_client_order_id=cl_id))
        elif live and roll < 0.25:
            owner, cl_id = live.pop(rng.randrange(len(live)))
            feed.submit(ReplaceOrder(owner, 1, f"r{number}", 100_000 + rng.randint(-50, 50),
                                     rng.randint(1, 50) * 100, orig_client_order_id=cl_id))
            live.append((owner, f"r{number}"))
        else:
            side = rng.choice((Side.BUY, Side.SELL))
            tif = TimeInForce.IOC if rng.random() < 0.1 else TimeInForce.GTC
            price = 100_000 + rng.randint(-40, 40)
            feed.submit(order(account, f"o{number}", side, price, rng.randint(1, 50) * 100,
                              tif))
            live.append((account, f"o{number}"))
    return feed


def ingest(database, rows, batch_entries: int) -> None:
    """Fold ``rows`` from the database's high-water mark on, ``batch_entries`` a batch."""
    from venue.gateways.history.fold import HistoryFolder

    position, _ = database.high_water_mark()
    folder = HistoryFolder(position + 1)
    for row in rows[position:]:
        folder.add(*row)
        if folder.batch.entries >= batch_entries:
            database.write(folder.take())
    database.write(folder.take())


def dump(database) -> dict[str, list[tuple]]:
    """Every history table's rows, for comparing two databases."""
    return {table: [tuple(row) for row in database.table_rows(table)]
            for table in ("instruments", "orders", "fills", "instrument_events",
                          "high_water_mark")}
