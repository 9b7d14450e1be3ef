# Included by _book.pyx: market-data bookkeeping of CyOrderBook (see PyOrderBook._touch).
#
# An operation starts with ``_begin``, notes each level it changes with ``_touch`` (its
# visible quantity and order count before), and ends with ``_publish``: one BookLevelChanged
# per touched level whose aggregate differs, in the order the levels were first touched.
# Touched levels are held in a C array of owned references (a level dropped from its side
# during the operation must still be published, as 0/0). Module functions, not methods:
# direct C calls the compiler can inline.


cdef int _begin(CyOrderBook book) except -1:
    book.epoch += 1
    if book.touched_n:  # left by an operation that raised before publishing
        _release_touched(book)
    return 0


cdef int _touch(CyOrderBook book, _Level level) except -1:
    cdef PyObject** grown
    if level.epoch != book.epoch:
        level.epoch = book.epoch
        level.before_visible = level.visible
        level.before_count = level.count
        if book.touched_n == book.touched_capacity:
            grown = <PyObject**>PyMem_Realloc(
                book.touched, 2 * book.touched_capacity * sizeof(PyObject*))
            if grown == NULL:
                raise MemoryError()
            book.touched = grown
            book.touched_capacity *= 2
        Py_INCREF(level)
        book.touched[book.touched_n] = <PyObject*>level
        book.touched_n += 1
    return 0


cdef int _publish(CyOrderBook book, list events) except -1:
    """One BookLevelChanged per touched level whose aggregate changed; an emptied level
    (already dropped from its side) goes back to its side's pool."""
    cdef Py_ssize_t index
    cdef _Level level
    for index in range(book.touched_n):
        level = <_Level>book.touched[index]
        if level.visible != level.before_visible or level.count != level.before_count:
            events.append(_level_changed(book.instrument_id, level))
        if level.count == 0:
            book._side(level.side).recycle(level)
    _release_touched(book)
    return 0


cdef void _release_touched(CyOrderBook book) noexcept:
    cdef Py_ssize_t index, count = book.touched_n
    book.touched_n = 0
    for index in range(count):
        Py_DECREF(<object>book.touched[index])
