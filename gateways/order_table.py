"""A gateway's memory of orders (FIX and WebSocket): what a report must say about each order of
the accounts it serves (cumulative quantity and notional, leaves, status), built from the
event stream, and the requests it forwarded, to answer their rejects.

Bounded: open orders are as many as the engine holds open (its ``orders_max``); finished
orders move to a least-recently-finished memory of ``finished_orders_max`` (for status
requests and cancel rejects), and noted requests to one of ``pending_requests_max``.
"""

from __future__ import annotations

from collections import OrderedDict

from venue.codecs.commands import CancelOrder, Command, ReplaceOrder, SubmitOrder
from venue.codecs.enums import RequestKind
from venue.codecs.events import OrderAccepted

__all__ = ["CANCELLED", "EXPIRED", "FILLED", "NEW", "PARTIALLY_FILLED", "Order", "OrderTable"]

# OrdStatus(39)
NEW, PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED = b"0", b"1", b"2", b"4", b"C"
FINISHED_ORDERS_MAX_DEFAULT = 100_000
PENDING_REQUESTS_MAX_DEFAULT = 100_000
_REQUEST_KINDS = {SubmitOrder: RequestKind.SUBMIT, CancelOrder: RequestKind.CANCEL,
                  ReplaceOrder: RequestKind.REPLACE}


class Order:
    """One order as the gateway reports it. Prices and quantities in instrument units;
    ``notional`` is the sum of fill price times fill quantity (for AvgPx, exactly)."""

    __slots__ = ("account", "client_order_id", "cum_quantity", "display_quantity",
                 "expire_time_ns", "instrument_id", "leaves_quantity", "notional",
                 "order_id", "order_type", "price", "quantity", "side", "status",
                 "stop_price", "time_in_force")

    def __init__(self, event: OrderAccepted) -> None:
        self.order_id, self.account = event.order_id, event.account
        self.instrument_id, self.client_order_id = event.instrument_id, event.client_order_id
        self.side, self.order_type = event.side, event.order_type
        self.time_in_force, self.price = event.time_in_force, event.price
        self.quantity = self.leaves_quantity = event.quantity
        self.stop_price, self.display_quantity = event.stop_price, event.display_quantity
        self.expire_time_ns = event.expire_time_ns
        self.cum_quantity = self.notional = 0
        self.status = NEW

    def __repr__(self) -> str:
        return (f"Order({self.order_id}, {self.client_order_id!r}, status={self.status!r}, "
                f"cum={self.cum_quantity}, leaves={self.leaves_quantity})")


class OrderTable:
    """Orders of ``accounts`` (None: every account, a drop copy of all), by order id and by
    (account, current client order id). Every method is O(1)."""

    def __init__(self, accounts: set[int] | None,
                 finished_orders_max: int = FINISHED_ORDERS_MAX_DEFAULT,
                 pending_requests_max: int = PENDING_REQUESTS_MAX_DEFAULT) -> None:
        if finished_orders_max < 1 or pending_requests_max < 1:
            raise ValueError("finished_orders_max and pending_requests_max must be >= 1")
        self.accounts = None if accounts is None else frozenset(accounts)
        self.finished_orders_max = finished_orders_max
        self.pending_requests_max = pending_requests_max
        self._open: dict[int, Order] = {}
        self._finished: OrderedDict[int, Order] = OrderedDict()
        self._by_client_id: dict[tuple[int, str], int] = {}
        self._pending: OrderedDict[tuple[int, RequestKind, str], Command] = OrderedDict()

    def __len__(self) -> int:
        """Open orders."""
        return len(self._open)

    def serves(self, account: int) -> bool:
        return self.accounts is None or account in self.accounts

    # -- requests the gateway forwarded --------------------------------------------------

    def note_request(self, command: Command) -> None:
        """Remember a SubmitOrder, CancelOrder or ReplaceOrder sent to the engine, so that
        its reject can be answered in full; forgotten when its outcome arrives, or when
        ``pending_requests_max`` newer ones push it out."""
        kind = _REQUEST_KINDS.get(type(command))
        if kind is None or not self.serves(command.account):
            return
        key = (command.account, kind, command.client_order_id)
        self._pending[key] = command
        self._pending.move_to_end(key)
        if len(self._pending) > self.pending_requests_max:
            self._pending.popitem(last=False)

    def take_request(self, account: int, kind: RequestKind, client_order_id: str
                     ) -> Command | None:
        return self._pending.pop((account, kind, client_order_id), None)

    # -- orders --------------------------------------------------------------------------

    def add(self, event: OrderAccepted) -> Order:
        order = Order(event)
        self._open[order.order_id] = order
        self._by_client_id[(order.account, order.client_order_id)] = order.order_id
        return order

    def open_order(self, order_id: int) -> Order | None:
        return self._open.get(order_id)

    def order(self, order_id: int) -> Order | None:
        """An open or remembered finished order."""
        order = self._open.get(order_id)
        return order if order is not None else self._finished.get(order_id)

    def find(self, account: int, client_order_id: str) -> Order | None:
        """The account's open or remembered finished order with this client order id."""
        order_id = self._by_client_id.get((account, client_order_id))
        return None if order_id is None else self.order(order_id)

    def rename(self, order: Order, client_order_id: str) -> None:
        """A replace gave ``order`` a new client order id."""
        key = (order.account, order.client_order_id)
        if self._by_client_id.get(key) == order.order_id:
            del self._by_client_id[key]
        order.client_order_id = client_order_id
        self._by_client_id[(order.account, client_order_id)] = order.order_id

    def finish(self, order: Order) -> None:
        """``order`` filled, was cancelled or expired: remember it among the finished."""
        del self._open[order.order_id]
        self._finished[order.order_id] = order
        if len(self._finished) > self.finished_orders_max:
            _, oldest = self._finished.popitem(last=False)
            key = (oldest.account, oldest.client_order_id)
            if self._by_client_id.get(key) == oldest.order_id:
                del self._by_client_id[key]

    def _check(self) -> None:
        """Invariants: open and finished are disjoint and bounded; every client id names
        a known order of its account; open orders have leaves, finished ones none."""
        assert not self._open.keys() & self._finished.keys()
        assert len(self._finished) <= self.finished_orders_max
        assert len(self._pending) <= self.pending_requests_max
        for (account, client_order_id), order_id in self._by_client_id.items():
            order = self.order(order_id)
            assert order is not None and order.account == account
            assert order.client_order_id == client_order_id
        for order in self._open.values():
            assert order.leaves_quantity > 0 and order.status in (NEW, PARTIALLY_FILLED)
            assert order.cum_quantity + order.leaves_quantity == order.quantity
        for order in self._finished.values():
            assert order.leaves_quantity == 0
            assert order.status in (FILLED, CANCELLED, EXPIRED)
