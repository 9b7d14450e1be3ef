"""Golden scenario files for the order book, in the style of etcd's datadriven tests.

A file is a sequence of blocks, one command each, its expected output under ``----``::

    # comments and blank lines are kept
    submit id=1 acct=7 buy 100 x 10 gtc
    ----
    level buy 100 qty=10 orders=1
    -> RESTING filled=0 leaves=10

Commands (the book is instrument 1; ``cid`` defaults to ``c<id>``):

- ``submit id=N acct=N buy|sell PRICE x QTY [gtc|ioc|fok|day|gtd] [market] [post_only]
  [display=N] [group=N] [stp=cancel_newest|cancel_oldest|cancel_both|decrement] [cid=S]``;
  with ``market``, PRICE is the protection limit.
- ``cancel ID``, ``reduce ID QTY``, ``replace ID PRICE x QTY [cid=S]`` (``cid``: the
  order's new client order id; without it the id is kept).
- ``book``: every level best first with its orders (``id:leaves/visible``);
  ``depth N``; ``order ID``.

Output: the events, one a line, then ``-> OUTCOME filled=N leaves=N`` for a submit or
replace, or what a query returns.
"""

from __future__ import annotations

from pathlib import Path

from tests.scenario_files import Block
from venue.codecs.enums import SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BookLevelChanged, OrderCancelled, OrderFilled

SCENARIOS = Path(__file__).parent / "scenarios"
STP_MODES = {"cancel_newest": SelfTradePrevention.CANCEL_NEWEST,
             "cancel_oldest": SelfTradePrevention.CANCEL_OLDEST,
             "cancel_both": SelfTradePrevention.CANCEL_BOTH,
             "decrement": SelfTradePrevention.DECREMENT_AND_CANCEL}


def render(blocks: list[Block], outputs: list[list[str]], trailer: list[str]) -> str:
    lines: list[str] = []
    for block, output in zip(blocks, outputs, strict=True):
        lines += [*block.preamble, block.command, "----", *output]
    return "\n".join(lines + trailer) + "\n"


def side_name(side: int) -> str:
    return "buy" if side == Side.BUY else "sell"


def describe(event: object) -> str:
    if isinstance(event, OrderFilled):
        return (f"fill #{event.trade_id} {event.quantity} @ {event.price} "
                f"taker={side_name(event.taker_side)} "
                f"maker={event.maker_order_id}/{event.maker_account}/"
                f"{event.maker_client_order_id} leaves={event.maker_leaves_quantity} "
                f"taker={event.taker_order_id}/{event.taker_account}/"
                f"{event.taker_client_order_id} leaves={event.taker_leaves_quantity}")
    if isinstance(event, OrderCancelled):
        request = f" request={event.request_client_order_id}" * bool(
            event.request_client_order_id)
        return (f"cancelled {event.order_id}/{event.account}/{event.client_order_id} "
                f"{event.reason.name} qty={event.cancelled_quantity}{request}")
    if isinstance(event, BookLevelChanged):
        return (f"level {side_name(event.side)} {event.price} qty={event.quantity} "
                f"orders={event.order_count}")
    raise AssertionError(f"unexpected event {event!r}")


def _submit(book: object, words: list[str], events: list) -> object:
    options = dict(word.split("=", 1) for word in words if "=" in word)
    flags = [word for word in words if "=" not in word]
    side = Side.BUY if flags[0] == "buy" else Side.SELL
    assert flags[2] == "x", "submit ... buy PRICE x QTY"
    names = TimeInForce.__members__
    tifs = [TimeInForce[flag.upper()] for flag in flags[4:] if flag.upper() in names]
    tif = tifs[0] if tifs else TimeInForce.GTC
    order_id = int(options["id"])
    return book.submit(
        order_id, int(options["acct"]), options.get("cid", f"c{order_id}"), side,
        int(flags[1]), int(flags[3]), time_in_force=tif, post_only="post_only" in flags,
        display_quantity=int(options.get("display", 0)),
        stp_group=int(options.get("group", 0)),
        stp_mode=STP_MODES[options["stp"]] if "stp" in options else SelfTradePrevention.NONE,
        is_market="market" in flags, events=events)


def _book_lines(book: object) -> list[str]:
    bids, asks = book.depth(1_000)
    lines = []
    for side, rows in ((Side.SELL, reversed(asks)), (Side.BUY, bids)):
        for price, quantity, count in rows:
            orders = " ".join(f"{o.order_id}:{o.leaves_quantity}/{o.visible_quantity}"
                              for o in book.orders_at(side, price))
            lines.append(f"{side_name(side)} {price} qty={quantity} orders={count}: {orders}")
    return lines or ["empty"]


def run_command(book: object, command: str) -> list[str]:
    """Run one scenario command on ``book``; its output lines."""
    verb, *words = command.split()
    events: list = []
    result = None
    if verb == "submit":
        result = _submit(book, words, events)
    elif verb == "cancel":
        result = book.cancel(int(words[0]), events)
        result = "unknown order" if result is None else f"cancelled {result.order_id}"
    elif verb == "reduce":
        result = book.reduce(int(words[0]), int(words[1]), events)
        result = "unknown order" if result is None else (
            f"leaves={result.leaves_quantity} visible={result.visible_quantity}")
    elif verb == "replace":
        assert words[2] == "x", "replace ID PRICE x QTY [cid=S]"
        options = dict(word.split("=", 1) for word in words[4:])
        assert set(options) <= {"cid"}, "replace ID PRICE x QTY [cid=S]"
        result = book.replace(int(words[0]), int(words[1]), int(words[3]), events,
                              client_order_id=options.get("cid"))
        result = "unknown order" if result is None else result
    elif verb == "book":
        return _book_lines(book)
    elif verb == "depth":
        bids, asks = book.depth(int(words[0]))
        return [f"bids {bids}", f"asks {asks}"]
    elif verb == "order":
        return [repr(book.order(int(words[0])))]
    else:
        raise ValueError(f"unknown command {verb!r}")
    book._check()
    lines = [describe(event) for event in events]
    if hasattr(result, "outcome"):
        result = (f"{result.outcome.name} filled={result.filled_quantity} "
                  f"leaves={result.leaves_quantity}")
    return [*lines, f"-> {result}"]
