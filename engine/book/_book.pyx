# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""``CyOrderBook``: the compiled twin of ``venue.engine.book.PyOrderBook``.

Same API, same events, same results, same state tuples; ``tests/book`` runs one suite against
both and drives them side by side with hypothesis. The rules are in the package docstring;
the structure (cdef orders and levels, intrusive FIFO queues, sorted C arrays of levels per
side) is in ``_book_levels.pxi``, the orders by id (a C hash table) in ``_book_orders.pxi``,
what it returns and emits in ``_book_records.pxi`` and ``_book_events.pxi``. Determinism
rules hold here too: no clock, no randomness, no floats, no sets, no ``hash()``/``id()``.
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyObject_Hash, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.string cimport memmove

from venue.codecs.enums import CancelReason, SelfTradePrevention, Side, TimeInForce
from venue.codecs.events import BookLevelChanged, OrderCancelled, OrderFilled
from venue.engine.book._state import order_from_state
from venue.engine.book.records import (
    ORDERS_MAX_DEFAULT,
    BookOrder,
    SubmitOutcome,
    SubmitResult,
    check_orders_max,
)

cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object value, int* overflow) except? -1
    PyObject* PyType_GenericAlloc(PyTypeObject* type, Py_ssize_t items) except NULL
    void PyTuple_SET_ITEM_STEALING "PyTuple_SET_ITEM" (PyObject* tuple, Py_ssize_t index,
                                                       PyObject* item)

cdef enum:
    GTC = 1
    IOC = 2
    FOK = 3
    STP_NONE = 0
    CANCEL_NEWEST = 1
    CANCEL_OLDEST = 2
    CANCEL_BOTH = 3
    DECREMENT_AND_CANCEL = 4

include "_book_levels.pxi"
include "_book_orders.pxi"


cdef long long PRICE_MAX = 2**62
cdef long long QUANTITY_MAX = 2**40
cdef long long ID_MAX = 2**63 - 1

cdef tuple SIDES = (None, Side.BUY, Side.SELL)
cdef tuple MODES = tuple([SelfTradePrevention(mode) for mode in range(5)])
cdef object RESTING = SubmitOutcome.RESTING
cdef object FILLED = SubmitOutcome.FILLED
cdef object CANCELLED = SubmitOutcome.CANCELLED
cdef object FOK_NOT_FILLABLE = SubmitOutcome.FOK_NOT_FILLABLE
cdef object POST_ONLY_WOULD_TAKE = SubmitOutcome.POST_ONLY_WOULD_TAKE
cdef object USER = CancelReason.USER
cdef object STP = CancelReason.SELF_TRADE_PREVENTION
cdef object IOC_REMAINDER = CancelReason.IOC_REMAINDER
cdef object MARKET_PROTECTION = CancelReason.MARKET_PROTECTION
cdef object GTC_MEMBER = TimeInForce.GTC
cdef object NONE_MEMBER = SelfTradePrevention.NONE
cdef Py_ssize_t LEVEL_POOL_MAX = 256  # emptied levels a side keeps for reuse

include "_book_records.pxi"
include "_book_events.pxi"


@cython.no_gc_clear  # __dealloc__ needs its fields to cut the order/level cycles
cdef class CyOrderBook:
    """The order book of one instrument (compiled). See ``PyOrderBook``."""

    cdef readonly object instrument_id
    cdef readonly Py_ssize_t orders_max
    cdef _BookSide bids, asks
    cdef _OrderTable orders
    cdef long long _next_trade_id, _last_trade_price, epoch
    cdef bint _has_last_trade
    cdef PyObject** touched  # owned references to the levels this operation touched
    cdef Py_ssize_t touched_n, touched_capacity

    def __cinit__(self, *args, **kwargs):
        self.touched_capacity = 16
        self.touched = <PyObject**>PyMem_Malloc(self.touched_capacity * sizeof(PyObject*))
        if self.touched == NULL:
            raise MemoryError()

    def __init__(self, instrument_id, orders_max=ORDERS_MAX_DEFAULT):
        check_orders_max(orders_max)
        if self.orders is not None:  # __init__ called again: free the old orders first
            _cut_links(self)
        self.instrument_id = instrument_id
        self.orders_max = orders_max
        self.bids = _BookSide(BUY)
        self.asks = _BookSide(SELL)
        self.orders = _OrderTable()
        self._next_trade_id = 1
        self._has_last_trade = False
        self.epoch = 0
        _release_touched(self)

    def __dealloc__(self):
        _cut_links(self)
        if self.touched != NULL:
            _release_touched(self)
            PyMem_Free(self.touched)

    # -- operations -----------------------------------------------------------------------

    def submit(self, order_id, account, client_order_id, side, price, quantity, *,
               time_in_force=GTC_MEMBER, post_only=False, display_quantity=0, stp_group=0,
               stp_mode=NONE_MEMBER, is_market=False, list events not None):
        """Match a new order, then rest, cancel or kill what is left."""
        if self.orders.lookup(order_id) is not None:
            raise ValueError(f"order id {order_id} is already in the book")
        if self.orders.used >= self.orders_max:
            raise ValueError(f"the book holds orders_max={self.orders_max} orders already")
        cdef long long id = _integer(order_id, 0, ID_MAX, "order_id")
        cdef long long account_key = _integer(account, 0, ID_MAX, "account")
        cdef long long group = _integer(stp_group, 0, ID_MAX, "stp_group")
        if not isinstance(client_order_id, str):
            raise ValueError(f"client_order_id must be a str, got {client_order_id!r}")
        cdef int c_side = <int>_integer(side, BUY, SELL, "side")
        cdef int tif = <int>_integer(time_in_force, 1, 5, "time_in_force")
        cdef int mode = <int>_integer(stp_mode, 0, 4, "stp_mode")
        cdef long long c_price = _integer(price, -PRICE_MAX, PRICE_MAX, "price")
        cdef long long c_quantity = _integer(quantity, 1, QUANTITY_MAX, "quantity")
        cdef long long display = _integer(display_quantity, 0, c_quantity, "display_quantity")
        cdef bint post = post_only
        cdef bint market = is_market
        if post and (market or tif == IOC or tif == FOK):
            raise ValueError("post_only needs a resting limit order (GTC, DAY or GTD)")
        cdef _Order order = _new_order(order_id, id, account, client_order_id, c_side,
                                       c_price, price, c_quantity, display, stp_group, group,
                                       account_key, mode, post)
        if post and self._would_take(c_side, c_price):
            return _result(OUTCOME_POST_ONLY_WOULD_TAKE, 0, 0)
        if tif == FOK and not self._opposite(c_side).fillable(order):
            return _result(OUTCOME_FOK_NOT_FILLABLE, 0, 0)
        _begin(self)
        cdef int outcome
        if _match(self, order, events):
            outcome = OUTCOME_CANCELLED
        elif order.leaves == 0:
            outcome = OUTCOME_FILLED
        elif tif != IOC and tif != FOK and not market:
            self._rest(order, None)
            self.orders.insert(id, order)
            outcome = OUTCOME_RESTING
        else:
            reason = IOC_REMAINDER
            if market and self._opposite(c_side).n:
                reason = MARKET_PROTECTION
            self._cancel_event(order, reason, order.leaves, "", events)
            order.leaves = 0
            outcome = OUTCOME_CANCELLED
        _publish(self, events)
        return _result(outcome, order.filled,
                       order.leaves if outcome == OUTCOME_RESTING else 0)

    def cancel(self, order_id, list events not None, *, reason=USER,
               request_client_order_id=""):
        """Remove a resting order; return its last snapshot, or None if it is not here."""
        if reason is not USER:
            reason = CancelReason(reason)
        cdef _Order order = self.orders.lookup(order_id)
        if order is None:
            return None
        record = _record(order)
        _begin(self)
        _touch(self, order.level)
        self._remove(order, reason, order.leaves, request_client_order_id, events)
        _publish(self, events)
        return record

    def reduce(self, order_id, new_quantity, list events not None):
        """Lower an order's leaves quantity, keeping its time priority."""
        cdef _Order order = self.orders.lookup(order_id)
        if order is None:
            return None
        cdef long long quantity = _integer(new_quantity, 1, QUANTITY_MAX, "new_quantity")
        if quantity > order.leaves:
            raise ValueError(f"reduce to {quantity} exceeds leaves {order.leaves}")
        self._reduce(order, quantity, events)
        return _record(order)

    def replace(self, order_id, new_price, new_quantity, list events not None, *,
                client_order_id=None):
        """Change price and leaves quantity, and with ``client_order_id`` the order's client
        order id; see ``PyOrderBook.replace``."""
        cdef _Order order = self.orders.lookup(order_id)
        if order is None:
            return None
        cdef long long price = _integer(new_price, -PRICE_MAX, PRICE_MAX, "new_price")
        cdef long long quantity = _integer(new_quantity, 1, QUANTITY_MAX, "new_quantity")
        cdef bint rename = client_order_id is not None  # a pointer compare when not renaming
        if rename and not isinstance(client_order_id, str):
            raise ValueError(f"client_order_id must be a str, got {client_order_id!r}")
        if price == order.price and quantity <= order.leaves:
            if rename:
                order.client_order_id = client_order_id
            self._reduce(order, quantity, events)
            return _result(OUTCOME_RESTING, 0, quantity)
        if order.post_only and self._would_take(order.side, price):
            return _result(OUTCOME_POST_ONLY_WOULD_TAKE, 0, order.leaves)
        if rename:  # before matching: the replace's own fills carry the new id
            order.client_order_id = client_order_id
        _begin(self)
        cdef _Level level = order.level
        _touch(self, level)
        if price == order.price:  # more quantity: to the back of the same queue
            level.unlink(order)
            order.leaves = quantity
            order.visible = order.slice_quantity()
            level.append(order)
            _publish(self, events)
            return _result(OUTCOME_RESTING, 0, quantity)
        level.unlink(order)
        cdef _Level emptied = level if level.count == 0 else None  # dropped below
        cdef long long filled_before = order.filled
        order.price = price
        order.price_object = new_price
        order.leaves = quantity
        order.visible = 0
        cdef int outcome = OUTCOME_RESTING
        if _match(self, order, events):  # against the other side: ``emptied`` is not seen
            outcome = OUTCOME_CANCELLED
        elif order.leaves == 0:
            outcome = OUTCOME_FILLED
        else:
            self._rest(order, emptied)  # still in self.orders
            emptied = None
        if emptied is not None:
            self._side(emptied.side).remove(emptied)
        if outcome != OUTCOME_RESTING:
            self.orders.remove(order.id)
        _publish(self, events)
        return _result(outcome, order.filled - filled_before,
                       order.leaves if outcome == OUTCOME_RESTING else 0)

    # -- queries --------------------------------------------------------------------------

    def order(self, order_id):
        cdef _Order order = self.orders.lookup(order_id)
        return None if order is None else _record(order)

    def depth(self, levels):
        if levels < 0:
            raise ValueError(f"levels must be >= 0, got {levels}")
        return _side_depth(self.bids, levels), _side_depth(self.asks, levels)

    def orders_at(self, side, price):
        if not isinstance(side, int) or not isinstance(price, int):
            raise ValueError(f"orders_at needs an integer side and price, got {side!r}, {price!r}")
        cdef int c_side = <int>_integer(side, BUY, SELL, "side")
        if not -PRICE_MAX <= price <= PRICE_MAX:
            return []
        cdef _Level level = (self.bids if c_side == BUY else self.asks).get(price)
        cdef list records = []
        if level is None:
            return records
        cdef _Order order = level.head
        while order is not None:
            records.append(_record(order))
            order = order.next
        return records

    def best_bid(self):
        cdef _Level level = self.bids.best()
        return None if level is None else level.price

    def best_ask(self):
        cdef _Level level = self.asks.best()
        return None if level is None else level.price

    def __len__(self):
        return self.orders.used

    @property
    def last_trade_price(self):
        return self._last_trade_price if self._has_last_trade else None

    @property
    def next_trade_id(self):
        return self._next_trade_id

    # -- snapshot and invariants (bodies in _book_state.pxi) -------------------------------

    def to_state(self):
        """Plain data, exactly as ``PyOrderBook.to_state`` gives it."""
        return _to_state(self)

    @classmethod
    def from_state(cls, state):
        return _from_state(cls, state)

    def _check(self):
        """Assert every invariant of the book (for tests; O(orders))."""
        _check_book(self)

    # -- helpers --------------------------------------------------------------------------

    @cython.final
    cdef inline _BookSide _side(self, int side):
        return self.bids if side == BUY else self.asks

    @cython.final
    cdef inline _BookSide _opposite(self, int side):
        return self.asks if side == BUY else self.bids

    @cython.final
    cdef bint _would_take(self, int side, long long price) except -1:
        cdef _BookSide opposite = self._opposite(side)
        cdef _Level best = opposite.best()
        return best is not None and opposite.crosses(best.price, price)

    @cython.final
    cdef int _rest(self, _Order order, _Level emptied) except -1:
        """Queue ``order`` at the back of its level (the caller keeps ``self.orders``);
        ``emptied``, if not None, is a level of the same side to drop on the way."""
        cdef _BookSide side = self._side(order.side)
        cdef _Level level
        if emptied is None:
            level = side.get_or_add(order.price, order.price_object)
        else:
            level = side.move(emptied, order.price, order.price_object)
        _touch(self, level)
        order.visible = order.slice_quantity()
        level.append(order)
        return 0

    @cython.final
    cdef int _reduce(self, _Order order, long long quantity, list events) except -1:
        _begin(self)
        _touch(self, order.level)
        order.leaves = quantity
        if order.visible > quantity:
            order.level.visible -= order.visible - quantity
            order.visible = quantity
        _publish(self, events)
        return 0

    @cython.final
    cdef int _detach(self, _Order order) except -1:
        cdef _Level level = order.level
        level.unlink(order)
        if level.count == 0:
            self._side(level.side).remove(level)
        return 0

    @cython.final
    cdef int _remove(self, _Order order, object reason, long long quantity,
                     object request_client_order_id, list events) except -1:
        self.orders.remove(order.id)
        self._detach(order)
        self._cancel_event(order, reason, quantity, request_client_order_id, events)
        return 0

    @cython.final
    cdef int _cancel_event(self, _Order order, object reason, long long quantity,
                           object request_client_order_id, list events) except -1:
        events.append(_cancelled(order, self.instrument_id, reason, quantity,
                                 request_client_order_id))
        return 0


include "_book_market_data.pxi"
include "_book_matching.pxi"
include "_book_state.pxi"
