"""The matching module: price-time priority order books for every listed instrument.

Commands: ``SubmitOrder``, ``CancelOrder``, ``ReplaceOrder``, ``MassCancel``. A submit is
checked in this order, and the first failed rule rejects it with ``OrderRejected`` (nothing
else changes): its fields (INVALID_FIELD, EXPIRE_TIME_IN_PAST), a client order id already
used by this account's open or recently finished orders (DUPLICATE_CLIENT_ORDER_ID), the
reference data rules (unknown, halted or closed instrument, tick, lot, quantity range, the
price band around the last trade price, or the set reference before the first trade), a
market order without liquidity (NO_LIQUIDITY), the module's limits (LIMIT_REACHED), then
every pre-trade checker (the risk module: kill switch, limits, credit); only then does it
match. Fill-or-kill that cannot fill completely and post-only that would take are rejected
(FOK_NOT_FILLABLE, POST_ONLY_WOULD_TAKE) without having touched the book.

An accepted order gets ``OrderAccepted`` (its ``price`` is the protection price for market
and stop orders), then its fills, cancels and level changes as the book reports them (see
``venue.engine.book``). Stop and stop-limit orders wait outside the book until a trade at
or through their stop price; triggered stops are released in arrival order, each with
``OrderTriggered``, and may trigger others. DAY orders expire at the trading day's end
(``trading_day_end_ns`` after midnight UTC) and GTD orders at their ``expire_time_ns``,
both through engine timers, with ``OrderExpired``.

Modules that want to veto orders define ``check_new_order(command, price)`` and
``check_replace(order, price, quantity)`` returning None or ``(RejectReason, text)``; the
matching module calls every such module, in registration order. It observes
``InstrumentStatusChanged`` (a closed instrument's orders are cancelled with
INSTRUMENT_CLOSED) and ``KillSwitchSet`` (an engaged account's orders are cancelled with
KILL_SWITCH).
"""

from __future__ import annotations

from typing import Any

import msgspec

from venue.codecs import Command, Event, InstrumentStatus, RejectReason, RequestKind
from venue.codecs.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.codecs.enums import CancelReason, Side
from venue.codecs.events import (
    InstrumentStatusChanged,
    KillSwitchSet,
    MassCancelCompleted,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderTriggered,
)

from ..book import ORDERS_MAX_DEFAULT, OrderBook, SubmitOutcome
from ..context import ApplyContext
from ..errors import SnapshotError
from ..service import Module
from .matching_orders import OrderTable
from .matching_replace import replace_order
from .matching_rules import (
    DAY,
    GTD,
    MARKET,
    STOP,
    Problem,
    next_day_end_ns,
    order_rejected,
    protection_price,
    submit_field_problem,
)
from .orders import OpenOrder, StopOrders

ORDERS_MAX_DEFAULT_MODULE = 1_000_000
FINISHED_ORDERS_MAX_DEFAULT = 100_000
MARKET_PROTECTION_BPS_DEFAULT = 1_000  # a market order trades at most 10% through the touch
DAY_TIMER_ID = 0  # GTD timers use the order id (>= 1)

RESTING = SubmitOutcome.RESTING
FOK_NOT_FILLABLE = SubmitOutcome.FOK_NOT_FILLABLE
POST_ONLY_WOULD_TAKE = SubmitOutcome.POST_ONLY_WOULD_TAKE
SUBMIT, CANCEL, REPLACE = RequestKind.SUBMIT, RequestKind.CANCEL, RequestKind.REPLACE


class MatchingModule(Module):
    """The built-in matching module (``name = "matching"``). Options, fixed for the life of
    a data directory: ``orders_max`` open orders in all; ``book_orders_max`` per instrument;
    ``finished_orders_max`` finished orders remembered for TOO_LATE_TO_CANCEL and duplicate
    ids; ``market_protection_bps``; ``trading_day_end_ns`` (after midnight UTC)."""

    name = "matching"
    handles = (SubmitOrder, CancelOrder, ReplaceOrder, MassCancel)
    observes = (InstrumentStatusChanged, KillSwitchSet)
    snapshot_version = 1

    def __init__(self, orders_max: int = ORDERS_MAX_DEFAULT_MODULE,
                 book_orders_max: int = ORDERS_MAX_DEFAULT,
                 finished_orders_max: int = FINISHED_ORDERS_MAX_DEFAULT,
                 market_protection_bps: int = MARKET_PROTECTION_BPS_DEFAULT,
                 trading_day_end_ns: int = 0) -> None:
        for what, value, low in (("orders_max", orders_max, 1),
                                 ("book_orders_max", book_orders_max, 1),
                                 ("finished_orders_max", finished_orders_max, 1),
                                 ("market_protection_bps", market_protection_bps, 1),
                                 ("trading_day_end_ns", trading_day_end_ns, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{what} must be an integer of at least {low}, got {value!r}")
        if trading_day_end_ns >= 86_400 * 10**9:
            raise ValueError("trading_day_end_ns must be less than one day")
        self.orders_max = orders_max
        self.book_orders_max = book_orders_max
        self.market_protection_bps = market_protection_bps
        self.trading_day_end_ns = trading_day_end_ns
        self.table = OrderTable(finished_orders_max)
        self._books: dict[int, Any] = {}  # instrument id -> OrderBook, created on first use
        self._stops: dict[int, StopOrders] = {}
        self._checkers: list[Module] = []
        self._refdata: Any = None

    # -- queries (for gateways and other modules; none changes state) --------------------

    def book(self, instrument_id: int) -> Any:
        """The instrument's order book (call only its query methods: ``depth``,
        ``orders_at``, ``order``, ``best_bid``, ``best_ask``), or None before its first
        order. O(1)."""
        return self._books.get(instrument_id)

    def order(self, order_id: int) -> OpenOrder | None:
        """An open order (a copy), or None. O(1)."""
        order = self.table.orders.get(order_id)
        return None if order is None else msgspec.structs.replace(order)

    def open_orders(self, account: int) -> list[OpenOrder]:
        """The account's open orders (copies), oldest first. O(its orders)."""
        return [msgspec.structs.replace(order) for order in self.table.of_account(account)]

    def last_trade_price(self, instrument_id: int) -> int | None:
        book = self._books.get(instrument_id)
        return None if book is None else book.last_trade_price

    # -- commands ------------------------------------------------------------------------

    def on_command(self, ctx: ApplyContext, command: Command) -> None:
        kind = type(command)
        if kind is SubmitOrder:
            self._submit(ctx, command)
        elif kind is CancelOrder:
            self._cancel(ctx, command)
        elif kind is ReplaceOrder:
            replace_order(self, ctx, command)
        elif kind is MassCancel:
            self._mass_cancel(ctx, command)
        else:
            raise TypeError(f"matching does not handle {kind.__qualname__}")

    def _submit(self, ctx: ApplyContext, command: SubmitOrder) -> None:
        problem = submit_field_problem(command, ctx.now_ns)
        if problem is None and self.table.client_id_taken(command.account,
                                                          command.client_order_id):
            problem = (RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                       f"client_order_id {command.client_order_id!r} is in use")
        price = 0
        if problem is None:
            problem, price = self._entry_price(command)
        if problem is None:
            problem = self._capacity_problem(ctx, command)
        if problem is None:
            for checker in self._checkers:
                problem = checker.check_new_order(command, price)
                if problem is not None:
                    break
        if problem is not None:
            return _reject(ctx, command, SUBMIT, problem)
        instrument_id = command.instrument_id
        book = self._books.get(instrument_id)
        new_book = book is None
        if new_book:
            book = self._books[instrument_id] = OrderBook(instrument_id, self.book_orders_max)
        order = OpenOrder(
            self.table.next_order_id, command.account, instrument_id, command.client_order_id,
            command.side, command.order_type, command.time_in_force, price, command.quantity,
            command.quantity, command.stop_price, command.display_quantity,
            command.expire_time_ns, command.self_trade_group, command.stp_mode,
            command.post_only)
        if command.order_type >= STOP:  # STOP, STOP_LIMIT: wait for the trigger
            self._accept(ctx, order)
            order.stop_sequence = self.table.take_stop_sequence()
            self._stops.setdefault(instrument_id, StopOrders()).add(order)
            self._trigger_stops(ctx, book)
            return None
        last = book.last_trade_price
        events: list[Event] = []
        result = book.submit(
            order.order_id, order.account, order.client_order_id, order.side, price,
            order.quantity, time_in_force=order.time_in_force, post_only=order.post_only,
            display_quantity=order.display_quantity, stp_group=order.self_trade_group,
            stp_mode=order.stp_mode, is_market=command.order_type == MARKET, events=events)
        outcome = result.outcome
        if outcome == FOK_NOT_FILLABLE or outcome == POST_ONLY_WOULD_TAKE:
            if new_book:  # a rejected order leaves nothing behind, not even an empty book
                del self._books[instrument_id]
            reason = RejectReason[outcome.name]
            return _reject(ctx, command, SUBMIT, (reason, ""))
        self._accept(ctx, order)
        self._publish(ctx, events, order, result)
        if book.last_trade_price != last:
            self._trigger_stops(ctx, book)
        return None

    def _entry_price(self, command: SubmitOrder) -> tuple[Problem | None, int]:
        """Reference data checks; the order's limit or protection price."""
        instrument_id = command.instrument_id
        book = self._books.get(instrument_id)
        last = None if book is None else book.last_trade_price
        order_type = command.order_type
        is_market = order_type == MARKET or order_type == STOP
        price = command.price
        refdata = self._refdata
        reason = refdata.check_order(instrument_id, price, command.quantity,
                                     not is_market or price > 0, last)
        if reason is not None:
            return (reason, ""), 0
        instrument = refdata.instrument(instrument_id)
        if order_type >= STOP and command.stop_price % instrument.tick_size:
            return (RejectReason.PRICE_OFF_TICK, "stop_price is off tick"), 0
        if command.display_quantity % instrument.lot_size:
            return (RejectReason.QUANTITY_OFF_LOT, "display_quantity is off lot"), 0
        if is_market and price == 0:
            if order_type == STOP:
                anchor = command.stop_price
            else:
                best = None
                if book is not None:
                    best = book.best_ask() if command.side == Side.BUY else book.best_bid()
                if best is None:
                    return (RejectReason.NO_LIQUIDITY, "the other side is empty"), 0
                anchor = best
            price = protection_price(instrument, command.side, anchor,
                                     self.market_protection_bps, last)
        return None, price

    def _capacity_problem(self, ctx: ApplyContext, command: SubmitOrder) -> Problem | None:
        if len(self.table.orders) >= self.orders_max:
            return RejectReason.LIMIT_REACHED, f"orders_max {self.orders_max} reached"
        book = self._books.get(command.instrument_id)
        if book is not None:
            stops = self._stops.get(command.instrument_id)
            if len(book) + (len(stops) if stops else 0) >= self.book_orders_max:
                return (RejectReason.LIMIT_REACHED,
                        f"book_orders_max {self.book_orders_max} reached")
        tif = command.time_in_force
        timers_needed = (tif == GTD) + (tif == DAY and not self.table.day_timer_pending)
        if timers_needed and ctx.timer_capacity() < timers_needed:
            return RejectReason.LIMIT_REACHED, "the engine's timer table is full"
        return None

    def _accept(self, ctx: ApplyContext, order: OpenOrder) -> None:
        self.table.add(order)
        tif = order.time_in_force
        if tif == GTD:
            ctx.schedule_timer(order.expire_time_ns, order.order_id)
        elif tif == DAY and not self.table.day_timer_pending:
            self.table.day_timer_pending = True
            ctx.schedule_timer(next_day_end_ns(ctx.now_ns, self.trading_day_end_ns),
                               DAY_TIMER_ID)
        ctx.emit(OrderAccepted(
            order.order_id, order.account, order.instrument_id, order.client_order_id,
            order.side, order.order_type, tif, order.price, order.quantity, order.stop_price,
            order.display_quantity, order.expire_time_ns))

    def _publish(self, ctx: ApplyContext, events: list[Event], taker: OpenOrder,
                 result: Any) -> None:
        """Emit what the book reported for ``taker``, keeping the table in step: makers
        that filled or were cancelled completely finish; then the taker, unless it rests."""
        orders = self.table.orders
        taker_id = taker.order_id
        emit = ctx.emit
        for event in events:
            kind = type(event)
            if kind is OrderFilled:
                maker = orders[event.maker_order_id]
                maker.leaves_quantity = event.maker_leaves_quantity
                if maker.leaves_quantity == 0:
                    self._finish(ctx, maker)
            elif kind is OrderCancelled and event.order_id != taker_id:
                maker = orders[event.order_id]  # self-trade prevention
                maker.leaves_quantity -= event.cancelled_quantity
                maker.quantity -= event.cancelled_quantity
                if maker.leaves_quantity == 0:
                    self._finish(ctx, maker)
            emit(event)
        filled = taker.quantity - taker.leaves_quantity + result.filled_quantity
        taker.leaves_quantity = result.leaves_quantity
        taker.quantity = filled + result.leaves_quantity
        if result.outcome != RESTING:
            self._finish(ctx, taker)

    def _finish(self, ctx: ApplyContext, order: OpenOrder) -> None:
        self.table.finish(order)
        if order.time_in_force == GTD:
            ctx.cancel_timer(order.order_id)

    # -- stops ---------------------------------------------------------------------------

    def _trigger_stops(self, ctx: ApplyContext, book: Any) -> None:
        """Release every stop the last trade price triggers, in arrival order; repeat while
        their own trades trigger more. Each stop triggers once, so this ends."""
        stops = self._stops.get(book.instrument_id)
        orders = self.table.orders
        while stops:
            last = book.last_trade_price
            if last is None:
                return
            triggered = stops.pop_triggered(last)
            if not triggered:
                return
            for order_id in triggered:
                order = orders[order_id]
                order.stop_sequence = 0
                ctx.emit(OrderTriggered(order_id, order.account, order.instrument_id,
                                        order.client_order_id, last))
                events: list[Event] = []
                result = book.submit(
                    order_id, order.account, order.client_order_id, order.side, order.price,
                    order.leaves_quantity, time_in_force=order.time_in_force,
                    display_quantity=min(order.display_quantity, order.leaves_quantity),
                    stp_group=order.self_trade_group, stp_mode=order.stp_mode,
                    is_market=order.order_type == STOP, events=events)
                self._publish(ctx, events, order, result)

    # -- cancel, replace, mass cancel ----------------------------------------------------

    def _cancel(self, ctx: ApplyContext, command: CancelOrder) -> None:
        order, problem = self.table.find(command.account, command.instrument_id,
                                         command.order_id, command.orig_client_order_id)
        if problem is not None:  # find names a problem exactly when there is no order
            # (most often TOO_LATE_TO_CANCEL: emitted here, without ``_reject``'s extra call)
            return ctx.emit(order_rejected(command, CANCEL, problem, command.order_id))
        assert order is not None
        self._remove(ctx, order, CancelReason.USER, command.client_order_id)
        return None

    def _remove(self, ctx: ApplyContext, order: OpenOrder, reason: CancelReason,
                request_client_order_id: str) -> None:
        """Cancel one open order, resting or waiting."""
        if order.stop_sequence:
            self._stops[order.instrument_id].remove(order)
            self._finish(ctx, order)
            ctx.emit(OrderCancelled(order.order_id, order.account, order.instrument_id,
                                    order.client_order_id, reason, order.leaves_quantity,
                                    request_client_order_id))
            return
        events: list[Event] = []
        self._books[order.instrument_id].cancel(
            order.order_id, events, reason=reason,
            request_client_order_id=request_client_order_id)
        self._finish(ctx, order)
        ctx.emit_all(events)

    def _mass_cancel(self, ctx: ApplyContext, command: MassCancel) -> None:
        count = self._cancel_where(ctx, command.account, command.instrument_id,
                                   CancelReason.MASS_CANCEL, command.client_request_id)
        ctx.emit(MassCancelCompleted(command.client_request_id, command.account,
                                     command.instrument_id, count))

    def _cancel_where(self, ctx: ApplyContext, account: int, instrument_id: int,
                      reason: CancelReason, request_client_order_id: str = "") -> int:
        """Cancel the open orders of ``account`` on ``instrument_id`` (0: any), oldest
        first; return how many. O(orders of the account, or all orders)."""
        candidates = (self.table.of_account(account) if account
                      else list(self.table.orders.values()))
        chosen = [order for order in candidates
                  if not instrument_id or order.instrument_id == instrument_id]
        for order in chosen:
            self._remove(ctx, order, reason, request_client_order_id)
        return len(chosen)

    # -- observed events and timers ------------------------------------------------------

    def on_event(self, ctx: ApplyContext, event: Event) -> None:
        if type(event) is InstrumentStatusChanged:
            if event.status == InstrumentStatus.CLOSED:
                self._cancel_where(ctx, 0, event.instrument_id, CancelReason.INSTRUMENT_CLOSED)
        elif type(event) is KillSwitchSet and event.engaged:
            self._cancel_where(ctx, event.account, 0, CancelReason.KILL_SWITCH)

    def on_timer(self, ctx: ApplyContext, timer_id: int) -> None:
        if timer_id == DAY_TIMER_ID:
            self.table.day_timer_pending = False
            for order in self.table.day_orders():
                self._expire(ctx, order)
            return
        order = self.table.orders.get(timer_id)
        if order is not None:  # a GTD order's timer is cancelled when it finishes
            self._expire(ctx, order)

    def _expire(self, ctx: ApplyContext, order: OpenOrder) -> None:
        events: list[Event] = []
        if order.stop_sequence:
            self._stops[order.instrument_id].remove(order)
        else:
            self._books[order.instrument_id].cancel(order.order_id, events,
                                                     reason=CancelReason.EXPIRY)
            del events[0]  # the book's OrderCancelled: reported as OrderExpired instead
        self._finish(ctx, order)
        ctx.emit(OrderExpired(order.order_id, order.account, order.instrument_id,
                              order.client_order_id, order.leaves_quantity))
        ctx.emit_all(events)

    # -- lifecycle and snapshots ---------------------------------------------------------

    def on_start(self, snapshot: bytes | None) -> None:
        self._refdata = self.directory.get("refdata")
        self._checkers = [module for name in self.directory.names()
                          if (module := self.directory.get(name)) is not self
                          and callable(getattr(module, "check_new_order", None))]
        self._books = {}
        self._stops = {}
        self.table.clear()
        if snapshot:
            from .matching_state import restore

            try:
                restore(self, snapshot)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError,
                    TypeError, KeyError) as exc:
                raise SnapshotError(f"matching snapshot does not restore: {exc}") from None

    def take_snapshot(self) -> bytes:
        from .matching_state import encode

        return encode(self)

    def summary(self) -> dict[str, int | str]:
        return {"open_orders": len(self.table), "books": len(self._books),
                "waiting_stops": sum(len(stops) for stops in self._stops.values()),
                "next_order_id": self.table.next_order_id}


def _reject(ctx: ApplyContext, command: SubmitOrder | CancelOrder, request: RequestKind,
            problem: Problem, order_id: int = 0) -> None:
    ctx.emit(order_rejected(command, request, problem, order_id))
