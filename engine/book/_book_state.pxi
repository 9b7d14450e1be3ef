# Included by _book.pyx: snapshot, restore, invariant check and depth of CyOrderBook.


cdef list _side_depth(_BookSide side, Py_ssize_t levels):
    cdef list rows = []
    cdef Py_ssize_t rank
    cdef _Level level
    for rank in range(min(levels, side.n)):
        level = side.at(rank)
        rows.append((level.price_object, level.visible, level.count))
    return rows


cdef tuple _order_state(_Order order):
    return (order.order_id, order.account, order.client_order_id, order.side,
            order.price_object, order.leaves, order.visible, order.display, order.filled,
            order.stp_group, order.stp_mode, order.post_only)


cdef tuple _to_state(CyOrderBook book):
    cdef list orders = []
    cdef _BookSide side
    cdef Py_ssize_t rank
    cdef _Order order
    for side in (book.bids, book.asks):
        for rank in range(side.n):
            order = side.at(rank).head
            while order is not None:
                orders.append(_order_state(order))
                order = order.next
    return (book.instrument_id, book.orders_max, book._next_trade_id,
            book.last_trade_price, orders)


cdef CyOrderBook _from_state(type cls, object state):
    instrument_id, orders_max, next_trade_id, last_trade_price, orders = state
    cdef CyOrderBook book = cls(instrument_id, orders_max)
    if len(orders) > orders_max or next_trade_id < 1:
        raise ValueError("inconsistent book state")
    book._next_trade_id = next_trade_id
    if last_trade_price is not None:
        book._last_trade_price = last_trade_price
        book._has_last_trade = True
    cdef _Order order
    for fields in orders:
        checked = order_from_state(fields)  # the reference's field checks, ValueError
        if book.orders.find(checked.order_id) is not None:
            raise ValueError(f"order id {checked.order_id} appears twice in the state")
        order = _new_order(checked.order_id, checked.order_id, checked.account,
                           checked.client_order_id, checked.side, checked.price,
                           checked.price, checked.leaves, checked.display, checked.stp_group,
                           checked.stp_group, checked.account, checked.stp_mode,
                           checked.post_only)
        order.visible = checked.visible
        order.filled = checked.filled
        book._side(order.side).get_or_add(order.price, order.price_object).append(order)
        book.orders.insert(order.id, order)
    _check_book(book)
    return book


cdef int _check_book(CyOrderBook book) except -1:
    """Assert every invariant: aggregates, links, no empty level, id map, not crossed."""
    assert book._next_trade_id >= 1
    cdef Py_ssize_t seen = 0, count, rank
    cdef long long visible
    cdef _BookSide side
    cdef _Level level
    cdef _Order order, previous
    for side in (book.bids, book.asks):
        side.check()
        for rank in range(side.n):
            level = side.at(rank)
            assert level.count > 0 and level.head is not None, "empty level"
            assert level.head.prev is None and level.tail.next is None
            visible = count = 0
            previous = None
            order = level.head
            while order is not None:
                assert order.prev is previous and order.level is level
                assert book.orders.find(order.id) is order, "id map out of step"
                assert order.side == side.side and order.price == level.price
                assert order.price_object == order.price == level.price_object
                assert 0 < order.visible <= order.leaves <= QUANTITY_MAX
                assert order.visible <= order.slice_quantity()
                assert order.display or order.visible == order.leaves
                visible += order.visible
                count += 1
                previous = order
                order = order.next
            assert previous is level.tail
            assert visible == level.visible and count == level.count, "level aggregate"
            seen += count
    assert seen == book.orders.used, "orders in levels vs id map"
    if book.bids.n and book.asks.n:
        assert book.bids.best().price < book.asks.best().price, "crossed book at rest"
    return 0


cdef void _cut_links(CyOrderBook book) noexcept:
    """Break every order/level reference cycle so refcounting frees the book's orders and
    levels (they are not tracked by the cyclic GC)."""
    cdef _BookSide side
    cdef _Level level
    cdef _Order order, following
    cdef Py_ssize_t rank
    for side in (book.bids, book.asks):
        if side is None or side.slots == NULL:
            continue
        for rank in range(side.n):
            level = side.at(rank)
            order = level.head
            level.head = level.tail = None
            while order is not None:
                following = order.next
                order.prev = order.next = order.level = None
                order = following
    if book.orders is not None:
        book.orders.cut_links()
