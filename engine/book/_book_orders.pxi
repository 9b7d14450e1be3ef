# Included by _book.pyx: the resting orders by id, for CyOrderBook.
#
# An open-addressing hash table keyed by the C order id (linear probing, tombstones; rebuilt
# at half full, live orders then filling at most a third) in place of a dict: a dict lookup
# hashes the caller's int and, the object being another one than the stored key, compares
# the two through the rich comparison, which measured 8% of the book's instructions on the
# benchmark mix. The slot is
# a multiplicative (Fibonacci) hash of the id: deterministic, no ``hash()``. The table is
# never iterated for anything a caller sees (snapshots walk the levels).

cdef enum:
    SLOT_EMPTY = -1  # order ids are 0..2**63-1, so negative keys are free to mark slots
    SLOT_DELETED = -2
    ORDER_TABLE_CAPACITY_MIN = 1024  # slots; always a power of two

cdef unsigned long long FIBONACCI = 0x9E3779B97F4A7C15ULL


cdef struct _Slot:
    long long key
    PyObject* order  # an owned reference while key >= 0


@cython.final
@cython.no_gc  # holds only orders, which are not tracked either
cdef class _OrderTable:
    cdef _Slot* slots
    cdef Py_ssize_t capacity, used, filled  # live orders; live + tombstones
    cdef int shift  # 64 - log2(capacity)

    def __cinit__(self):
        self.slots = NULL
        self.allocate(ORDER_TABLE_CAPACITY_MIN)

    def __dealloc__(self):
        self.release()

    cdef int allocate(self, Py_ssize_t capacity) except -1:
        cdef Py_ssize_t index
        cdef _Slot* slots = <_Slot*>PyMem_Malloc(capacity * sizeof(_Slot))
        if slots == NULL:
            raise MemoryError()
        for index in range(capacity):
            slots[index].key = SLOT_EMPTY
            slots[index].order = NULL
        self.slots = slots
        self.capacity = capacity
        self.used = self.filled = 0
        self.shift = 64
        while capacity > 1:
            capacity >>= 1
            self.shift -= 1
        return 0

    cdef void release(self) noexcept:
        cdef Py_ssize_t index
        if self.slots == NULL:
            return
        for index in range(self.capacity):
            if self.slots[index].key >= 0:
                Py_DECREF(<object>self.slots[index].order)
        PyMem_Free(self.slots)
        self.slots = NULL
        self.used = self.filled = 0

    cdef inline Py_ssize_t start(self, long long key) noexcept:
        return <Py_ssize_t>((<unsigned long long>key * FIBONACCI) >> self.shift)

    cdef _Order find(self, long long key):
        """The order with id ``key``, or None."""
        cdef Py_ssize_t probe, mask = self.capacity - 1, index = self.start(key)
        for probe in range(self.capacity):  # an empty slot always ends the run
            if self.slots[index].key == key:
                return <_Order>self.slots[index].order
            if self.slots[index].key == SLOT_EMPTY:
                return None
            index = (index + 1) & mask
        return None

    cdef _Order lookup(self, object order_id):
        """The order ``order_id`` names, as a dict keyed by the int ids would find it."""
        cdef int overflow = 0
        cdef long long key
        if venue_compact_int(order_id, &key):
            return self.find(key) if key >= 0 else None
        if isinstance(order_id, int):
            key = PyLong_AsLongLongAndOverflow(order_id, &overflow)
            if overflow or key < 0:
                return None
            return self.find(key)
        PyObject_Hash(order_id)  # an unhashable key raises TypeError, as in a dict
        try:
            candidate = int(order_id)
        except (TypeError, ValueError, OverflowError):
            return None
        return self.lookup(candidate) if candidate == order_id else None

    cdef int insert(self, long long key, _Order order) except -1:
        """Add ``order`` under ``key``, which the caller knows is absent."""
        if (self.filled + 1) * 2 > self.capacity:
            self.rehash()
        cdef Py_ssize_t probe, mask = self.capacity - 1, index = self.start(key)
        for probe in range(self.capacity):
            if self.slots[index].key < 0:
                break
            index = (index + 1) & mask
        if self.slots[index].key == SLOT_EMPTY:
            self.filled += 1
        self.slots[index].key = key
        Py_INCREF(order)
        self.slots[index].order = <PyObject*>order
        self.used += 1
        return 0

    cdef int remove(self, long long key) except -1:
        cdef Py_ssize_t probe, mask = self.capacity - 1, index = self.start(key)
        for probe in range(self.capacity):
            if self.slots[index].key == key:
                self.slots[index].key = SLOT_DELETED
                self.used -= 1
                Py_DECREF(<object>self.slots[index].order)
                self.slots[index].order = NULL
                return 0
            if self.slots[index].key == SLOT_EMPTY:
                break
            index = (index + 1) & mask
        raise AssertionError(f"order id {key} is not in the table")

    cdef int rehash(self) except -1:
        """Rebuild without tombstones, in the smallest table the live orders fill at most a
        third of (linear probing slows down fast past half full)."""
        cdef _Slot* old = self.slots
        cdef Py_ssize_t index, old_capacity = self.capacity
        cdef Py_ssize_t capacity = ORDER_TABLE_CAPACITY_MIN
        while capacity < 3 * (self.used + 1):
            capacity *= 2
        self.allocate(capacity)  # on MemoryError the old table is still in place
        for index in range(old_capacity):
            if old[index].key >= 0:
                self.insert(old[index].key, <_Order>old[index].order)
                Py_DECREF(<object>old[index].order)  # insert took its own reference
        PyMem_Free(old)
        return 0

    cdef void cut_links(self) noexcept:
        """Unlink every order from its level and neighbours (book teardown)."""
        cdef Py_ssize_t index
        cdef _Order order
        if self.slots == NULL:
            return
        for index in range(self.capacity):
            if self.slots[index].key >= 0:
                order = <_Order>self.slots[index].order
                order.prev = order.next = order.level = None
