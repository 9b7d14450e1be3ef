# Included by _book.pyx: the matching loop of CyOrderBook (see PyOrderBook._match).


cdef bint _match(CyOrderBook book, _Order taker, list events) except -1:
    """Trade ``taker`` against the other side while it crosses; True if self-trade
    prevention cancelled the taker."""
    cdef _BookSide opposite = book._opposite(taker.side)
    cdef _Level level
    cdef _Order maker
    while taker.leaves > 0:
        level = opposite.best()
        if level is None or not opposite.crosses(level.price, taker.price):
            break
        _touch(book, level)
        while taker.leaves > 0 and level.count:
            maker = level.head
            if taker.stp_mode and maker.same_stp_key(taker):
                if _prevent_self_trade(book, taker, maker, events):
                    return True
            else:
                _fill(book, taker, maker, level, events)
    return False


cdef int _fill(CyOrderBook book, _Order taker, _Order maker, _Level level,
               list events) except -1:
    cdef long long quantity = taker.leaves if taker.leaves < maker.visible else maker.visible
    maker.visible -= quantity
    maker.leaves -= quantity
    maker.filled += quantity
    level.visible -= quantity
    taker.leaves -= quantity
    taker.filled += quantity
    events.append(_filled(book._next_trade_id, book.instrument_id, quantity, maker, taker))
    book._next_trade_id += 1
    book._last_trade_price = maker.price
    book._has_last_trade = True
    if maker.visible == 0:
        if maker.leaves == 0:
            book.orders.remove(maker.id)
            book._detach(maker)
        else:  # iceberg: the next slice joins the back of the queue
            level.unlink(maker)
            maker.visible = maker.slice_quantity()
            level.append(maker)
    return 0


cdef bint _prevent_self_trade(CyOrderBook book, _Order taker, _Order maker,
                             list events) except -1:
    """Apply the taker's STP mode to a maker with the same key; True if the taker
    stops (its remainder is cancelled)."""
    cdef int mode = taker.stp_mode
    cdef long long decrement
    if mode == CANCEL_OLDEST:
        book._remove(maker, STP, maker.leaves, "", events)
        return False
    if mode == CANCEL_BOTH:
        book._remove(maker, STP, maker.leaves, "", events)
    elif mode == DECREMENT_AND_CANCEL:
        decrement = taker.leaves if taker.leaves < maker.leaves else maker.leaves
        if decrement == maker.leaves:
            book._remove(maker, STP, decrement, "", events)
        else:
            maker.leaves -= decrement
            if maker.visible > maker.leaves:
                maker.level.visible -= maker.visible - maker.leaves
                maker.visible = maker.leaves
            book._cancel_event(maker, STP, decrement, "", events)
        book._cancel_event(taker, STP, decrement, "", events)
        taker.leaves -= decrement
        return taker.leaves == 0
    book._cancel_event(taker, STP, taker.leaves, "", events)
    taker.leaves = 0
    return True
