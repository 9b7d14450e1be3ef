"""``venue demo``: a scripted session through a single-node venue, printed as a journal.

It runs the built-in reference data, risk and matching modules on a real data directory
(LMDB log, event store, snapshot): lists instruments, funds two accounts, trades (a resting
order, a crossing one, an IOC remainder), shows rejects for rule-breaking commands, a halt,
a kill switch, and that a resent command is not applied twice, then rebuilds the state from
the directory and checks the hash chain.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec

from venue.codecs import (
    AddInstrument,
    CancelOrder,
    ClientCommand,
    CloseInstrument,
    CommandBatch,
    Deposit,
    HaltInstrument,
    OrderType,
    ResumeInstrument,
    SetKillSwitch,
    SetReferencePrice,
    Side,
    SubmitOrder,
    TimeInForce,
)

from .journal import entry_lines
from .recovery import recover
from .single import SingleNode
from .store import DataStore

DEMO_MODULES = ("venue.engine.modules.refdata:ReferenceDataModule",
                "venue.engine.modules.risk:RiskModule",
                "venue.engine.modules.matching:MatchingModule")
BTC, ETH = 1, 2
USD, BTC_ASSET, ETH_ASSET = 1, 2, 3
ALICE, BOB = 101, 102


def _order(account: int, client_order_id: str, side: Side, price: int, quantity: int,
           time_in_force: TimeInForce = TimeInForce.GTC) -> SubmitOrder:
    return SubmitOrder(account, BTC, client_order_id, side, OrderType.LIMIT, time_in_force,
                       price, quantity)


def _script() -> list[tuple[str, list]]:
    btc = AddInstrument(BTC, "BTC-USD", BTC_ASSET, USD, price_decimals=2,
                        quantity_decimals=4, tick_size=50, lot_size=10, min_quantity=10,
                        max_quantity=1_000_000, price_band_bps=500, reference_price=6_500_000)
    eth = AddInstrument(ETH, "ETH-USD", ETH_ASSET, USD, price_decimals=2, quantity_decimals=3)
    return [
        ("list two instruments", [btc, eth]),
        ("list BTC-USD again: rejected, nothing changes", [btc]),
        ("reference price off tick (tick 0.50): rejected", [SetReferencePrice(BTC, 6_500_010)]),
        ("reference price on tick", [SetReferencePrice(BTC, 6_510_000)]),
        ("halt BTC-USD, twice: the second is rejected",
         [HaltInstrument(BTC, "volatility"), HaltInstrument(BTC, "again")]),
        ("resume BTC-USD", [ResumeInstrument(BTC)]),
        ("fund alice with 1 BTC and bob with 100,000 USD (8 decimals each)",
         [Deposit(ALICE, BTC_ASSET, 100_000_000, "wire-1"),
          Deposit(BOB, USD, 10_000_000_000_000, "wire-2")]),
        ("alice offers 0.5 BTC at 65,100.00: it rests, 0.5 BTC held",
         [_order(ALICE, "a-1", Side.SELL, 6_510_000, 5_000)]),
        ("bob bids 0.2 BTC at 65,150.00: fills at 65,100.00, the excess hold comes back",
         [_order(BOB, "b-1", Side.BUY, 6_515_000, 2_000)]),
        ("bob's IOC for 0.5 BTC takes the remaining 0.3; the rest is cancelled",
         [_order(BOB, "b-2", Side.BUY, 6_510_000, 5_000, TimeInForce.IOC)]),
        ("rejects: an off-tick price, a price outside the 5% band, more than alice owns",
         [_order(ALICE, "a-2", Side.SELL, 6_510_010, 10),
          _order(ALICE, "a-3", Side.SELL, 7_000_000, 10),
          _order(ALICE, "a-4", Side.SELL, 6_510_000, 900_000)]),
        ("halt BTC-USD: a new order is rejected; the resting bid stays and can be cancelled",
         [_order(BOB, "b-3", Side.BUY, 6_500_000, 100), HaltInstrument(BTC, "news"),
          _order(BOB, "b-4", Side.BUY, 6_500_000, 100),
          CancelOrder(BOB, BTC, "b-5", orig_client_order_id="b-3"), ResumeInstrument(BTC)]),
        ("kill switch on bob: his orders are cancelled and new ones refused",
         [_order(BOB, "b-6", Side.BUY, 6_500_000, 100), SetKillSwitch(BOB, True),
          _order(BOB, "b-7", Side.BUY, 6_500_000, 100)]),
        ("close ETH-USD, then try to resume it: closed is final",
         [CloseInstrument(ETH), ResumeInstrument(ETH)]),
        ("halt an unknown instrument: rejected", [HaltInstrument(99)]),
    ]


def run_demo(data_dir: str | None) -> int:
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="venue-demo-") as temporary:
            return _run(Path(temporary), keep=False)
    return _run(Path(data_dir), keep=True)


def _print_entries(node: SingleNode, indexes: list[int]) -> None:
    """Print entries and their events as stored in the data directory."""
    schema = node.engine.schema
    for index in indexes:
        record = node.store.event_record(index)
        outcomes = schema.decode_outcomes(record.event_bytes) if record else None
        for line in entry_lines(node.store.entry(index), outcomes, schema):
            print(line)


def _print_applied(node: SingleNode, applied: list) -> None:
    _print_entries(node, [item.index for item in applied])


def _run(path: Path, keep: bool) -> int:
    print(f"venue demo: a single-node venue in {path}")
    print(f"modules: {', '.join(DEMO_MODULES)}\n")
    with SingleNode(path, DEMO_MODULES) as node:
        session = node.open_session("operator-1")
        print(f"== open a client session: id {session}")
        _print_entries(node, [session])
        for title, commands in _script():
            print(f"\n== {title}")
            _print_applied(node, node.submit(session, commands))
        print("\n== resend client_seq 1 (as a client does after a failover): not applied twice")
        resend = ClientCommand(session, 1, msgspec.msgpack.encode(_script()[0][1][0]))
        _print_applied(node, node.append([CommandBatch([resend])]))
        snapshot = node.take_snapshot()
        print(f"\n== snapshot written: {snapshot.name}")
        head = node.engine.chain.head.hex()
        summary = node.engine.summary()
    with DataStore(path, readonly=True) as store:
        rebuilt = recover(store, store.load_modules(), use_snapshot=False)
    same = rebuilt.chain.head.hex() == head
    print(f"\n== rebuilt from the log alone: chain {rebuilt.chain.head.hex()} "
          f"({'identical' if same else 'DIFFERENT'})")
    for section, figures in summary.items():
        print(f"{section}: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    if keep:
        print(f"\nnext: venue tail {path}   |   venue replay {path}")
    return 0 if same else 1
