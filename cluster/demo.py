"""``venue demo``: a scripted session through a single-node venue, printed as a journal.

It runs the built-in reference data module on a real data directory (LMDB log, event store,
snapshot), shows rejects for rule-breaking commands, shows that a resent command is not
applied twice, then rebuilds the state from the directory and checks the hash chain.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec

from venue.codecs import (
    AddInstrument,
    ClientCommand,
    CloseInstrument,
    CommandBatch,
    HaltInstrument,
    ResumeInstrument,
    SetReferencePrice,
)

from .journal import entry_lines
from .recovery import recover
from .single import SingleNode
from .store import DataStore

DEMO_MODULES = ("venue.engine.modules.refdata:ReferenceDataModule",)
BTC, ETH = 1, 2
USD, BTC_ASSET, ETH_ASSET = 1, 2, 3


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
