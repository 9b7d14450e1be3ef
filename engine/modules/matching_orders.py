"""The matching module's order table: open orders and the indexes over them.

Every index is a dict, iterated only in insertion order (acceptance order), so iteration is
deterministic; nothing here is a set.
"""

from __future__ import annotations

from venue.codecs import RejectReason
from venue.codecs.enums import TimeInForce

from .orders import FinishedOrders, OpenOrder

Problem = tuple[RejectReason, str]


class OrderTable:
    """Open orders by id, by (account, client order id), by account; DAY orders; the
    finished-orders memory; the id and stop-sequence counters."""

    def __init__(self, finished_orders_max: int) -> None:
        self.finished = FinishedOrders(finished_orders_max)
        self.clear()

    def clear(self) -> None:
        self.orders: dict[int, OpenOrder] = {}
        self._by_client_id: dict[tuple[int, str], int] = {}
        self._by_account: dict[int, dict[int, None]] = {}
        self._day: dict[int, None] = {}
        self.finished.restore([])
        self.next_order_id = 1
        self.next_stop_sequence = 1
        self.day_timer_pending = False

    def __len__(self) -> int:
        return len(self.orders)

    def add(self, order: OpenOrder) -> None:
        """Register a newly accepted order: it must carry ``next_order_id``."""
        order_id = order.order_id
        if order_id != self.next_order_id:
            raise AssertionError(f"order id {order_id} is not the next ({self.next_order_id})")
        self.next_order_id = order_id + 1
        self._index(order)

    def _index(self, order: OpenOrder) -> None:
        order_id = order.order_id
        self.orders[order_id] = order
        self._by_client_id[(order.account, order.client_order_id)] = order_id
        account_orders = self._by_account.get(order.account)
        if account_orders is None:
            account_orders = self._by_account[order.account] = {}
        account_orders[order_id] = None
        if order.time_in_force == TimeInForce.DAY:
            self._day[order_id] = None

    def finish(self, order: OpenOrder) -> None:
        """The order filled, was cancelled or expired: forget it, remember it finished."""
        order_id = order.order_id
        del self.orders[order_id]
        del self._by_client_id[(order.account, order.client_order_id)]
        account_orders = self._by_account[order.account]
        del account_orders[order_id]
        if not account_orders:
            del self._by_account[order.account]
        self._day.pop(order_id, None)
        self.finished.add(order_id, order.account, order.client_order_id)

    def rename(self, order: OpenOrder, client_order_id: str) -> None:
        """A replace gave the order a new client order id."""
        del self._by_client_id[(order.account, order.client_order_id)]
        order.client_order_id = client_order_id
        self._by_client_id[(order.account, client_order_id)] = order.order_id

    def take_stop_sequence(self) -> int:
        sequence = self.next_stop_sequence
        self.next_stop_sequence = sequence + 1
        return sequence

    # -- lookups -------------------------------------------------------------------------

    def client_id_taken(self, account: int, client_order_id: str) -> bool:
        """True if the account has an open, or a remembered finished, order with this id."""
        return ((account, client_order_id) in self._by_client_id
                or self.finished.has_client_id(account, client_order_id))

    def of_account(self, account: int) -> list[OpenOrder]:
        """The account's open orders, oldest first (a new list)."""
        orders = self.orders
        return [orders[order_id] for order_id in self._by_account.get(account, ())]

    def day_orders(self) -> list[OpenOrder]:
        orders = self.orders
        return [orders[order_id] for order_id in self._day]

    def find(self, account: int, instrument_id: int, order_id: int, client_order_id: str
             ) -> tuple[OpenOrder | None, Problem | None]:
        """The open order a cancel or replace names, by ``order_id`` or, when that is 0, by
        the account's client order id. An order of another account or instrument is
        UNKNOWN_ORDER (a client never learns of others' orders); a finished one is
        TOO_LATE_TO_CANCEL."""
        if order_id:
            order = self.orders.get(order_id)
            owner = None if order is not None else self.finished.owner(order_id)
        else:
            found = self._by_client_id.get((account, client_order_id))
            order = None if found is None else self.orders[found]
            owner = None
            if order is None and self.finished.has_client_id(account, client_order_id):
                owner = (account, client_order_id)
        if order is not None:
            if order.account == account and order.instrument_id == instrument_id:
                return order, None
        elif owner is not None and owner[0] == account:
            return None, (RejectReason.TOO_LATE_TO_CANCEL, "the order has finished")
        return None, (RejectReason.UNKNOWN_ORDER, "no such open order")

    # -- snapshots -----------------------------------------------------------------------

    def restore(self, orders: list[OpenOrder], finished: list, next_order_id: int,
                next_stop_sequence: int, day_timer_pending: bool) -> None:
        self.clear()
        for order in orders:
            if order.order_id in self.orders or order.order_id >= next_order_id:
                raise ValueError(f"order {order.order_id} is duplicated or not yet issued")
            self._index(order)
        self.finished.restore(finished)
        self.next_order_id = next_order_id
        self.next_stop_sequence = next_stop_sequence
        self.day_timer_pending = day_timer_pending
