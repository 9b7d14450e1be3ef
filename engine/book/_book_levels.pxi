# Included by _book.pyx: orders, FIFO price levels and one side of the compiled book.
#
# A level's queue is an intrusive doubly-linked list (O(1) pop, append, unlink by id). A side
# keeps its level keys in a C array sorted ascending with the best level LAST (key = price
# for bids, -price for asks), and the levels in a parallel list: the best level is O(1), and
# adding or dropping a level moves only the entries behind it, usually none or few, since
# activity clusters at the top of the book.
#
# Orders and levels opt out of the cyclic garbage collector (``no_gc``): a large book would
# otherwise make every full collection walk millions of orders (measured: about a sixth of
# the run time of the benchmark mix). They never escape the book, the links between them are
# cut whenever one leaves its queue, and ``CyOrderBook.__dealloc__`` cuts the rest. Sides
# opt out too, so that a collection of a book caught in a cycle cannot empty their level
# lists before that (they hold no reference back to the book).

cdef enum:
    BUY = 1
    SELL = 2


@cython.final
@cython.no_gc
cdef class _Order:
    cdef object order_id, account, stp_group  # as given: they go into events and records
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
    cdef long long price, visible
    cdef Py_ssize_t count
    cdef _Order head, tail
    cdef long long epoch, before_visible  # market-data bookkeeping, see CyOrderBook._touch
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


@cython.final
@cython.no_gc  # keeps its level list intact until CyOrderBook.__dealloc__ has cut the links
cdef class _BookSide:
    cdef int side
    cdef long long* keys
    cdef Py_ssize_t n, capacity
    cdef list levels

    def __cinit__(self, int side):
        self.side = side
        self.levels = []
        self.n = 0
        self.capacity = 64
        self.keys = <long long*>PyMem_Malloc(self.capacity * sizeof(long long))
        if self.keys == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self.keys)

    cdef inline long long key(self, long long price) noexcept:
        return price if self.side == BUY else -price

    cdef inline _Level best(self):
        if self.n == 0:
            return None
        return <_Level>self.levels[self.n - 1]

    cdef inline _Level at(self, Py_ssize_t rank):
        """The level ``rank`` places from the best (0 is the best)."""
        return <_Level>self.levels[self.n - 1 - rank]

    cdef inline bint crosses(self, long long price, long long limit) noexcept:
        return price <= limit if self.side == SELL else price >= limit

    cdef Py_ssize_t lower_bound(self, long long key) noexcept:
        cdef Py_ssize_t low = 0, high = self.n, middle
        while low < high:
            middle = (low + high) >> 1
            if self.keys[middle] < key:
                low = middle + 1
            else:
                high = middle
        return low

    cdef _Level get(self, long long price):
        cdef long long key = self.key(price)
        cdef Py_ssize_t index = self.lower_bound(key)
        if index < self.n and self.keys[index] == key:
            return <_Level>self.levels[index]
        return None

    cdef _Level get_or_add(self, long long price):
        cdef long long key = self.key(price)
        cdef Py_ssize_t index = self.n
        cdef long long* grown
        if self.n == 0 or self.keys[self.n - 1] < key:
            pass  # a new best level: append
        else:
            index = self.lower_bound(key)
            if self.keys[index] == key:
                return <_Level>self.levels[index]
        if self.n == self.capacity:
            grown = <long long*>PyMem_Realloc(self.keys,
                                              2 * self.capacity * sizeof(long long))
            if grown == NULL:
                raise MemoryError()
            self.keys = grown
            self.capacity *= 2
        memmove(&self.keys[index + 1], &self.keys[index],
                (self.n - index) * sizeof(long long))
        self.keys[index] = key
        self.n += 1
        cdef _Level level = _Level.__new__(_Level)
        level.side = self.side
        level.price = price
        self.levels.insert(index, level)
        return level

    cdef int remove(self, _Level level) except -1:
        cdef long long key = self.key(level.price)
        cdef Py_ssize_t index = self.n - 1
        if self.keys[index] != key:
            index = self.lower_bound(key)
            if index >= self.n or self.keys[index] != key:
                raise AssertionError(f"no level at {level.price}")
        memmove(&self.keys[index], &self.keys[index + 1],
                (self.n - index - 1) * sizeof(long long))
        self.n -= 1
        del self.levels[index]
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
        assert len(self.levels) == self.n
        cdef Py_ssize_t index
        for index in range(self.n):
            assert (<_Level>self.levels[index]).side == self.side
            assert self.key((<_Level>self.levels[index]).price) == self.keys[index]
            if index:
                assert self.keys[index - 1] < self.keys[index], "level keys out of order"
        return 0
