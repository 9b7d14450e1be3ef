# Included by _book.pyx: the events CyOrderBook appends, built by one vectorcall each.
#
# Calling an event class from Cython goes through a generic call helper and a module-global
# lookup; these builders hand the fields to the class's vectorcall (msgspec's constructor)
# directly from a C array, which measured about 5% of the book's instructions on the
# benchmark mix (two BookLevelChanged per move). Same classes, same fields, same values.
#
# Each event is then taken out of the cyclic garbage collector's lists. msgspec keeps a
# struct tracked when a field holds a tracked object, and the enum members (Side,
# CancelReason) are; but an event is frozen, and a cycle through it would need one of its
# fields (ints, strs, enum members) to refer back to it, which the book never makes. An
# untracked object only ever counts as an outside reference to what it holds, so nothing it
# refers to can be freed early. Tracked, the events of one large sweep (100,000 fills, kept
# until the caller encodes them) made the collector walk them again and again: measured
# 2.4x slower on bench_matching's deep-queue sweep.

cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf,
                               PyObject* kwnames)
    void PyObject_GC_UnTrack(object op)


cdef inline object _untracked(object event):
    PyObject_GC_UnTrack(event)
    return event

cdef object LEVEL_CHANGED_CLASS = BookLevelChanged
cdef object FILLED_CLASS = OrderFilled
cdef object CANCELLED_CLASS = OrderCancelled


cdef inline object _level_changed(object instrument_id, _Level level):
    cdef object side = SIDES[level.side], visible = level.visible, count = level.count
    cdef PyObject* args[5]
    args[0] = <PyObject*>instrument_id
    args[1] = <PyObject*>side
    args[2] = <PyObject*>level.price_object
    args[3] = <PyObject*>visible
    args[4] = <PyObject*>count
    return _untracked(PyObject_Vectorcall(LEVEL_CHANGED_CLASS, args, 5, NULL))


cdef inline object _filled(long long trade_id, object instrument_id, long long quantity,
                           _Order maker, _Order taker):
    cdef object trade = trade_id, size = quantity, side = SIDES[taker.side]
    cdef object maker_leaves = maker.leaves, taker_leaves = taker.leaves
    cdef PyObject* args[13]
    args[0] = <PyObject*>trade
    args[1] = <PyObject*>instrument_id
    args[2] = <PyObject*>maker.price_object
    args[3] = <PyObject*>size
    args[4] = <PyObject*>side
    args[5] = <PyObject*>maker.order_id
    args[6] = <PyObject*>maker.account
    args[7] = <PyObject*>maker.client_order_id
    args[8] = <PyObject*>maker_leaves
    args[9] = <PyObject*>taker.order_id
    args[10] = <PyObject*>taker.account
    args[11] = <PyObject*>taker.client_order_id
    args[12] = <PyObject*>taker_leaves
    return _untracked(PyObject_Vectorcall(FILLED_CLASS, args, 13, NULL))


cdef inline object _cancelled(_Order order, object instrument_id, object reason,
                              long long quantity, object request_client_order_id):
    cdef object cancelled = quantity
    cdef PyObject* args[7]
    args[0] = <PyObject*>order.order_id
    args[1] = <PyObject*>order.account
    args[2] = <PyObject*>instrument_id
    args[3] = <PyObject*>order.client_order_id
    args[4] = <PyObject*>reason
    args[5] = <PyObject*>cancelled
    args[6] = <PyObject*>request_client_order_id
    return _untracked(PyObject_Vectorcall(CANCELLED_CLASS, args, 7, NULL))
