# Included by _book.pyx: orders, FIFO price levels and one side of the compiled book.
#
# A level's queue is an intrusive doubly-linked list (O(1) pop, append, unlink by id). A side
# keeps its levels in a C array of (key, owned reference) slots sorted by key ascending with
# the best level LAST (key = price for bids, -price for asks): the best level is O(1), and
# adding or dropping a level moves only the slots behind it (one memmove), few when the
# activity is at the top of the book; a move between two nearby prices shifts only the slots
# between them. A dropped level is kept in a small pool (``LEVEL_POOL_MAX``) and reused for the next new level, since the benchmark mix
# drops and adds a level on most moves.
#
# Orders and levels opt out of the cyclic garbage collector (``no_gc``): a large book would
# otherwise make every full collection walk millions of orders (measured: about a sixth of
# the run time of the benchmark mix). They never escape the book, the links between them are
# cut whenever one leaves its queue, and ``CyOrderBook.__dealloc__`` cuts the rest. Sides
# opt out too, so that a collection of a book caught in a cycle cannot empty their level
# arrays before that (they hold no reference back to the book).
#
# Orders and levels keep the price as the caller gave it (``price_object``) beside the C
# value: events carry that object, as the reference book's do, and no int is built per event.

cdef enum:
    BUY = 1
    SELL = 2


@cython.final
@cython.no_gc
cdef class _Order:
    cdef object order_id, account, stp_group, price_object  # as given: events carry them
    cdef long long id  # order_id as a C integer, the key in CyOrderBook.orders
    cdef object client_order_id  # a str (validated), subclasses included
    cdef long long stp_key  # the group if not 0, else the account
    cdef bint stp_by_group, post_only
    cdef int side, stp_mode
    cdef long long price, leaves, visible, display, filled
    cdef _Level level
    cdef _Order prev, next

    cdef inline long long slice_quantity(self) noexcept:
        if self.display and self.display < self.leaves:
            return self.display
        return self.leaves

    cdef inline bint same_stp_key(self, _Order other) noexcept:
        return self.stp_by_group == other.stp_by_group and self.stp_key == other.stp_key


@cython.final
@cython.no_gc
cdef class _Level:
    cdef int side
    cdef object price_object  # the price as an int, for events
    cdef long long price, visible
    cdef Py_ssize_t count
    cdef _Order head, tail
    cdef long long epoch, before_visible  # market-data bookkeeping, see _book_market_data.pxi
    cdef Py_ssize_t before_count

    cdef inline void append(self, _Order order) noexcept:
        order.level = self
        order.prev = self.tail
        order.next = None
        if self.tail is None:
            self.head = order
        else:
            self.tail.next = order
        self.tail = order
        self.visible += order.visible
        self.count += 1

    cdef inline void unlink(self, _Order order) noexcept:
        if order.prev is None:
            self.head = order.next
        else:
            order.prev.next = order.next
        if order.next is None:
            self.tail = order.prev
        else:
            order.next.prev = order.prev
        self.visible -= order.visible
        self.count -= 1
        order.level = None
        order.prev = None
        order.next = None


cdef struct _LevelSlot:
    long long key  # price for bids, -price for asks: ascending, the best level last
    PyObject* level  # an owned reference


@cython.final
@cython.no_gc  # keeps its level array intact until CyOrderBook.__dealloc__ has cut the links
cdef class _BookSide:
    cdef int side
    cdef _LevelSlot* slots
    cdef Py_ssize_t n, capacity
    cdef list pool  # dropped levels for reuse, at most LEVEL_POOL_MAX (see _publish)

    def __cinit__(self, int side):
        self.side = side
        self.pool = []
        self.n = 0
        self.capacity = 64
        self.slots = <_LevelSlot*>PyMem_Malloc(self.capacity * sizeof(_LevelSlot))
        if self.slots == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef Py_ssize_t index
        if self.slots != NULL:
            for index in range(self.n):
                Py_DECREF(<object>self.slots[index].level)
        PyMem_Free(self.slots)

    cdef inline long long key(self, long long price) noexcept:
        return price if self.side == BUY else -price

    cdef inline _Level best(self):
        if self.n == 0:
            return None
        return <_Level>self.slots[self.n - 1].level

    cdef inline _Level at(self, Py_ssize_t rank):
        """The level ``rank`` places from the best (0 is the best)."""
        return <_Level>self.slots[self.n - 1 - rank].level

    cdef inline bint crosses(self, long long price, long long limit) noexcept:
        return price <= limit if self.side == SELL else price >= limit

    cdef Py_ssize_t lower_bound(self, long long key) noexcept:
        """The first index whose key is >= ``key`` (``n`` if none). Branch-free halving:
        the comparisons are unpredictable, a mispredicted branch costs more than the
        arithmetic."""
        cdef _LevelSlot* slots = self.slots
        cdef Py_ssize_t base = 0, size = self.n, half
        if size == 0:
            return 0
        while size > 1:
            half = size >> 1
            base += half * (slots[base + half].key < key)
            size -= half
        return base + (slots[base].key < key)

    cdef _Level get(self, long long price):
        cdef long long key = self.key(price)
        cdef Py_ssize_t index = self.lower_bound(key)
        if index < self.n and self.slots[index].key == key:
            return <_Level>self.slots[index].level
        return None

    cdef inline void shift(self, Py_ssize_t source, Py_ssize_t target,
                           Py_ssize_t count) noexcept:
        memmove(&self.slots[target], &self.slots[source], count * sizeof(_LevelSlot))

    cdef _Level get_or_add(self, long long price, object price_object):
        cdef long long key = self.key(price)
        cdef Py_ssize_t index = self.n
        cdef _LevelSlot* grown
        if self.n == 0 or self.slots[self.n - 1].key < key:
            pass  # a new best level: append
        else:
            index = self.lower_bound(key)
            if self.slots[index].key == key:
                return <_Level>self.slots[index].level
        if self.n == self.capacity:
            grown = <_LevelSlot*>PyMem_Realloc(self.slots,
                                               2 * self.capacity * sizeof(_LevelSlot))
            if grown == NULL:
                raise MemoryError()
            self.slots = grown
            self.capacity *= 2
        self.shift(index, index + 1, self.n - index)
        self.n += 1
        return self.place(index, key, price, price_object)

    cdef _Level place(self, Py_ssize_t index, long long key, long long price,
                      object price_object):
        """Fill the free slot ``index`` with a new (or pooled) empty level."""
        cdef _Level level
        if self.pool:
            level = <_Level>self.pool.pop()  # emptied: no orders, visible 0, count 0
        else:
            level = _Level.__new__(_Level)
            level.side = self.side
        level.price = price
        level.price_object = price_object
        self.slots[index].key = key
        Py_INCREF(level)
        self.slots[index].level = <PyObject*>level
        return level

    cdef Py_ssize_t index_of(self, _Level level) except -1:
        cdef long long key = self.key(level.price)
        cdef Py_ssize_t index = self.n - 1
        if self.slots[index].key != key:
            index = self.lower_bound(key)
            if index >= self.n or self.slots[index].key != key:
                raise AssertionError(f"no level at {level.price}")
        return index

    cdef _Level move(self, _Level emptied, long long price, object price_object):
        """``remove(emptied)`` then ``get_or_add(price, ...)``, shifting only the levels
        between the two places: a move to a nearby price shifts none or few."""
        cdef long long key = self.key(price)
        cdef Py_ssize_t old = self.index_of(emptied)
        cdef Py_ssize_t index = self.lower_bound(key)
        cdef _Level level
        if index < self.n and self.slots[index].key == key:
            level = <_Level>self.slots[index].level
            self.remove(emptied)
            return level
        cdef PyObject* removed = self.slots[old].level
        if index > old:  # the new place, once ``old`` is gone, is index - 1
            index -= 1
            self.shift(old + 1, old, index - old)
        elif index < old:
            self.shift(index, index + 1, old - index)
        level = self.place(index, key, price, price_object)
        Py_DECREF(<object>removed)  # the caller still holds ``emptied``
        return level

    cdef int remove(self, _Level level) except -1:
        cdef Py_ssize_t index = self.index_of(level)
        cdef PyObject* removed = self.slots[index].level
        self.shift(index + 1, index, self.n - index - 1)
        self.n -= 1
        Py_DECREF(<object>removed)  # the caller still holds ``level``
        return 0

    cdef int recycle(self, _Level level) except -1:
        """Keep an emptied level (dropped from this side) for reuse by ``get_or_add``."""
        if len(self.pool) < LEVEL_POOL_MAX:
            self.pool.append(level)
        return 0

    cdef bint fillable(self, _Order taker) except -1:
        """Fill-or-kill: would matching ``taker`` against this side fill it completely?
        The rule is stated at ``BookSide.fillable`` in ``_levels.py``."""
        cdef bint stops = taker.stp_mode != STP_NONE and taker.stp_mode != CANCEL_OLDEST
        cdef long long need = taker.leaves, total = 0, ahead, level_total
        cdef Py_ssize_t rank
        cdef _Level level
        cdef _Order maker
        for rank in range(self.n):
            level = self.at(rank)
            if not self.crosses(level.price, taker.price):
                break
            ahead = level_total = 0
            maker = level.head
            while maker is not None:
                if taker.stp_mode and maker.same_stp_key(taker):
                    if stops:
                        return total + ahead >= need
                    maker = maker.next
                    continue
                ahead += maker.visible
                level_total += maker.leaves
                if total + ahead >= need:
                    return True
                maker = maker.next
            total += level_total
            if total >= need:
                return True
        return False

    cdef int check(self) except -1:
        assert 0 <= self.n <= self.capacity
        cdef Py_ssize_t index
        cdef _Level pooled
        for pooled in self.pool:
            assert pooled.count == 0 and pooled.head is None and pooled.tail is None
            assert pooled.side == self.side and pooled.visible == 0
        for index in range(self.n):
            assert (<_Level>self.slots[index].level).side == self.side
            assert self.key((<_Level>self.slots[index].level).price) == self.slots[index].key
            if index:
                assert self.slots[index - 1].key < self.slots[index].key, "level keys out of order"
        return 0
