# Included by _book.pyx: argument checks and the Python values the book returns (results,
# order snapshots) and keeps (orders).
#
# ``SubmitResult`` and ``BookOrder`` are NamedTuples; calling them runs a Python-level
# ``__new__`` (measured: a third of the cost of a passive submit), so they are allocated as
# the tuple subtype and filled in place, as ``tuple.__new__(cls, values)`` does in C. Results
# are immutable values, so the common ones are built once and shared: a resting order with
# nothing filled and fewer than ``RESULT_CACHE_MAX`` lots left (every passive submit, move
# and reduce of a small order), and each outcome with nothing filled and nothing left.

cdef enum:
    RESULT_CACHE_MAX = 1024  # shared (RESTING, 0, leaves) results for leaves below this
    # SubmitOutcome values, as C codes
    OUTCOME_RESTING = 1
    OUTCOME_FILLED = 2
    OUTCOME_CANCELLED = 3
    OUTCOME_FOK_NOT_FILLABLE = 4
    OUTCOME_POST_ONLY_WOULD_TAKE = 5


cdef extern from *:
    """
    /* An exact int of at most one digit (|value| < 2**30): its value, without a call. */
    static CYTHON_INLINE int venue_compact_int(PyObject* value, long long* out) {
        if (!PyLong_CheckExact(value)) return 0;
    #if PY_VERSION_HEX >= 0x030C0000
        if (!PyUnstable_Long_IsCompact((PyLongObject*)value)) return 0;
        *out = (long long)PyUnstable_Long_CompactValue((PyLongObject*)value);
        return 1;
    #else
        Py_ssize_t size = Py_SIZE(value);
        if (size == 0) { *out = 0; return 1; }
        if (size == 1) { *out = (long long)((PyLongObject*)value)->ob_digit[0]; return 1; }
        if (size == -1) { *out = -(long long)((PyLongObject*)value)->ob_digit[0]; return 1; }
        return 0;
    #endif
    }
    """
    bint venue_compact_int(object value, long long* out) noexcept


cdef inline long long _integer(object value, long long low, long long high,
                               str name) except? -1:
    """``value`` as a C integer if it is an int in low..high, else ValueError."""
    cdef long long result
    if venue_compact_int(value, &result) and low <= result <= high:
        return result
    return _any_integer(value, low, high, name)


cdef long long _any_integer(object value, long long low, long long high,
                            str name) except? -1:
    cdef int overflow = 0
    cdef long long result
    if not isinstance(value, int):
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    result = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or result < low or result > high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return result


cdef inline object _allocate(type cls, Py_ssize_t size):
    """A new instance of the tuple subtype ``cls`` with ``size`` empty slots."""
    named = <object>PyType_GenericAlloc(<PyTypeObject*>cls, size)  # takes a reference
    Py_DECREF(named)  # ... which the allocation had already given
    return named


cdef inline void _put(object named, Py_ssize_t index, object item) noexcept:
    Py_INCREF(item)
    PyTuple_SET_ITEM_STEALING(<PyObject*>named, index, <PyObject*>item)


cdef object _new_result(int outcome, long long filled, long long leaves):
    result = _allocate(SubmitResult, 3)
    _put(result, 0, OUTCOMES[outcome])
    _put(result, 1, filled)
    _put(result, 2, leaves)
    return result


cdef tuple OUTCOMES = (None, RESTING, FILLED, CANCELLED, FOK_NOT_FILLABLE, POST_ONLY_WOULD_TAKE)
cdef tuple NOTHING_LEFT = tuple([None] + [_new_result(code, 0, 0) for code in range(1, 6)])
cdef tuple RESTING_UNFILLED = tuple([_new_result(OUTCOME_RESTING, 0, leaves)
                                     for leaves in range(RESULT_CACHE_MAX)])


cdef inline object _result(int outcome, long long filled, long long leaves):
    if filled == 0:
        if leaves == 0:
            return NOTHING_LEFT[outcome]
        if outcome == OUTCOME_RESTING and leaves < RESULT_CACHE_MAX:
            return RESTING_UNFILLED[leaves]
    return _new_result(outcome, filled, leaves)


cdef object _record(_Order order):
    record = _allocate(BookOrder, 13)
    _put(record, 0, order.order_id)
    _put(record, 1, order.account)
    _put(record, 2, order.client_order_id)
    _put(record, 3, SIDES[order.side])
    _put(record, 4, order.price_object)
    _put(record, 5, order.filled + order.leaves)
    _put(record, 6, order.leaves)
    _put(record, 7, order.visible)
    _put(record, 8, order.display)
    _put(record, 9, order.filled)
    _put(record, 10, order.stp_group)
    _put(record, 11, MODES[order.stp_mode])
    _put(record, 12, True if order.post_only else False)
    return record


cdef _Order _new_order(object order_id, long long id, object account, object client_order_id,
                       int side, long long price, object price_object, long long leaves,
                       long long display, object stp_group, long long group,
                       long long account_key, int stp_mode, bint post_only):
    cdef _Order order = _Order.__new__(_Order)
    order.order_id = order_id
    order.id = id
    order.account = account
    order.client_order_id = client_order_id
    order.side = side
    order.price = price
    order.price_object = price_object
    order.leaves = leaves
    order.display = display
    order.stp_group = stp_group
    order.stp_by_group = group != 0
    order.stp_key = group if group != 0 else account_key
    order.stp_mode = stp_mode
    order.post_only = post_only
    return order
