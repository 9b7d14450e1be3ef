"""Inbound order entry: FIX 4.4 NewOrderSingle (D), OrderCancelRequest (F),
OrderCancelReplaceRequest (G) and OrderMassCancelRequest (q) into engine commands.

Pure functions of the message, the session's account and the instrument table; no I/O. A
request that cannot become a command raises ``RequestError``, which says how FIX answers
it: a rejected ExecutionReport for a D, an OrderCancelReject for an F or G, a rejected
OrderMassCancelReport for a q, or a session Reject naming the malformed field.

Mapping (FIX value -> engine):

====================  ========================================================================
Account(1)            never trusted: the command carries the session's account; a different
                      Account is rejected (a session never acts for another firm)
Symbol(55)            the instrument; unknown -> OrdRejReason 1 / CxlRejReason 1 / 532=1
Side(54)              1 BUY, 2 SELL; others -> OrdRejReason 11
OrdType(40)           1 MARKET, 2 LIMIT, 3 STOP, 4 STOP_LIMIT; others -> OrdRejReason 11
TimeInForce(59)       0 DAY, 1 GTC, 3 IOC, 4 FOK, 6 GTD (needs ExpireTime(126)); others -> 11.
                      Absent: DAY as FIX says, except a market order, which is IOC (the
                      engine takes market orders only IOC or FOK; it has no auction in
                      which a DAY market order could wait)
Price(44)             limit price, LIMIT and STOP_LIMIT only; MARKET and STOP send 0 and
                      the engine computes the protection price (a Price on them is ignored)
StopPx(99)            stop price, STOP and STOP_LIMIT
OrderQty(38)          quantity (on a G: the new total quantity, filled part included)
MaxFloor(111)         display quantity (iceberg)
ExecInst(18)          '6' (participate, don't initiate) = post-only; any other -> 11
OrderID(37)           the engine's order id when it is a positive integer; else the order is
                      named by OrigClOrdID(41)
====================  ========================================================================

Prices and quantities convert exactly (``InstrumentInfo.price``/``quantity``): a value with
more decimals than the instrument allows is rejected as a business reject ("Price 65100.505
has more than 2 decimals"), never rounded; a value that is not a decimal at all ("1e5") is
a session Reject(3), reason 6, as QuickFIX's validator would send.
"""

from __future__ import annotations

from venue.codecs.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.codecs.enums import OrderType, Side, TimeInForce
from venue.gateways.fix.fixtime import parse_utc
from venue.gateways.instruments import InstrumentInfo, Instruments

__all__ = ["RequestError", "cancel_request", "mass_cancel_request", "new_order",
           "replace_request"]

SIDES = {b"1": Side.BUY, b"2": Side.SELL}
ORDER_TYPES = {b"1": OrderType.MARKET, b"2": OrderType.LIMIT, b"3": OrderType.STOP,
               b"4": OrderType.STOP_LIMIT}
TIMES_IN_FORCE = {b"0": TimeInForce.DAY, b"1": TimeInForce.GTC, b"3": TimeInForce.IOC,
                  b"4": TimeInForce.FOK, b"6": TimeInForce.GTD}
POST_ONLY_EXEC_INST = b"6"
ORDER_ID_MAX = 2**63 - 1

# answers
EXECUTION_REPORT = "execution_report"
CANCEL_REJECT = "cancel_reject"
MASS_CANCEL_REJECT = "mass_cancel_reject"
BUSINESS_REJECT = "business_reject"
SESSION_REJECT = "session_reject"

# OrdRejReason(103)
UNKNOWN_SYMBOL, UNSUPPORTED_CHARACTERISTIC, INCORRECT_QUANTITY = 1, 11, 13
UNKNOWN_ACCOUNT, OTHER = 15, 99
# CxlRejReason(102)
CXL_UNKNOWN_ORDER = 1
# MassCancelRejectReason(532)
MASS_NOT_SUPPORTED, MASS_UNKNOWN_SECURITY = 0, 1
# SessionRejectReason(373)
REQUIRED_TAG_MISSING, VALUE_INCORRECT, INCORRECT_DATA_FORMAT = 1, 5, 6
# CxlRejResponseTo(434)
RESPONSE_TO_CANCEL, RESPONSE_TO_REPLACE = 1, 2


class RequestError(Exception):
    """How to answer a request that cannot become a command.

    ``answer`` is one of ``"execution_report"`` (a rejected ER for a D, ``ord_rej_reason``),
    ``"cancel_reject"`` (an OrderCancelReject(9) for an F or G, ``cxl_rej_reason`` and
    ``response_to``: 1 cancel, 2 replace), ``"mass_cancel_reject"`` (an
    OrderMassCancelReport(r) with MassCancelResponse 0, ``mass_cancel_reject_reason``),
    ``"business_reject"`` (j, ``business_reason``) or ``"session_reject"`` (3,
    ``session_reason`` and ``ref_tag``). ``cl_ord_id`` and ``orig_cl_ord_id`` echo the
    request's ids (bytes, possibly empty).
    """

    def __init__(self, answer: str, text: str, *, ord_rej_reason: int | None = None,
                 cxl_rej_reason: int | None = None,
                 mass_cancel_reject_reason: int | None = None,
                 business_reason: int | None = None, session_reason: int | None = None,
                 ref_tag: int | None = None, cl_ord_id: bytes = b"",
                 orig_cl_ord_id: bytes = b"", response_to: int | None = None) -> None:
        super().__init__(text)
        self.answer, self.text = answer, text
        self.ord_rej_reason, self.cxl_rej_reason = ord_rej_reason, cxl_rej_reason
        self.mass_cancel_reject_reason = mass_cancel_reject_reason
        self.business_reason, self.session_reason = business_reason, session_reason
        self.ref_tag, self.response_to = ref_tag, response_to
        self.cl_ord_id, self.orig_cl_ord_id = cl_ord_id, orig_cl_ord_id

    def __repr__(self) -> str:
        return f"RequestError({self.answer!r}, {self.text!r})"


class _Request:
    """One message being translated: its ids, and how a business problem is answered."""

    def __init__(self, message, kind: str) -> None:
        self.message = message
        self.kind = kind  # "D", "F", "G" or "q"
        self.cl_ord_id = message.get(11) or b""
        self.orig_cl_ord_id = message.get(41) or b""

    def business(self, text: str, ord_rej_reason: int = OTHER, cxl_rej_reason: int = OTHER,
                 mass_reason: int = MASS_NOT_SUPPORTED) -> RequestError:
        ids = {"cl_ord_id": self.cl_ord_id, "orig_cl_ord_id": self.orig_cl_ord_id}
        if self.kind == "D":
            return RequestError(EXECUTION_REPORT, text, ord_rej_reason=ord_rej_reason, **ids)
        if self.kind == "q":
            return RequestError(MASS_CANCEL_REJECT, text,
                                mass_cancel_reject_reason=mass_reason, **ids)
        response_to = RESPONSE_TO_CANCEL if self.kind == "F" else RESPONSE_TO_REPLACE
        return RequestError(CANCEL_REJECT, text, cxl_rej_reason=cxl_rej_reason,
                            response_to=response_to, **ids)

    def session(self, reason: int, tag: int, text: str) -> RequestError:
        return RequestError(SESSION_REJECT, text, session_reason=reason, ref_tag=tag,
                            cl_ord_id=self.cl_ord_id, orig_cl_ord_id=self.orig_cl_ord_id)

    def required(self, tag: int, name: str) -> bytes:
        value = self.message.get(tag)
        if not value:
            raise self.session(REQUIRED_TAG_MISSING, tag, f"{name}({tag}) is required")
        return value

    def text_id(self, tag: int, name: str) -> str:
        return self.required(tag, name).decode("ascii", errors="replace")

    def check_account(self, account: int) -> None:
        if account <= 0:
            raise ValueError(f"a session's account is positive, got {account}")
        carried = self.message.get(1)
        if carried is not None and carried != str(account).encode():
            text = f"Account {carried.decode(errors='replace')} is not this session's"
            raise self.business(text, UNKNOWN_ACCOUNT, OTHER, OTHER)

    def instrument(self, instruments: Instruments) -> InstrumentInfo:
        symbol = self.required(55, "Symbol")
        info = instruments.by_symbol(symbol)
        if info is None:
            raise self.business(f"Unknown symbol {symbol.decode(errors='replace')}",
                                UNKNOWN_SYMBOL, CXL_UNKNOWN_ORDER, MASS_UNKNOWN_SECURITY)
        return info

    def units(self, info: InstrumentInfo, tag: int, name: str, is_price: bool) -> int | None:
        """The field in the instrument's units, None when absent; exact or rejected."""
        text = self.message.get(tag)
        if text is None:
            return None
        decimals = info.price_decimals if is_price else info.quantity_decimals
        units = info.price(text) if is_price else info.quantity(text)
        if units is not None:
            return units
        shown = text.decode(errors="replace")
        if not _is_decimal(text):
            raise self.session(INCORRECT_DATA_FORMAT, tag,
                               f"Incorrect data format for value {name} {shown}")
        raise self.business(f"{name} {shown} has more than {decimals} decimals",
                            OTHER if is_price else INCORRECT_QUANTITY)

    def choice(self, tag: int, name: str, table: dict, default=None):
        value = self.message.get(tag)
        if value is None and default is not None:
            return default
        if value is None:
            raise self.session(REQUIRED_TAG_MISSING, tag, f"{name}({tag}) is required")
        found = table.get(value)
        if found is None:
            raise self.business(f"{name} {value.decode(errors='replace')} is not supported",
                                UNSUPPORTED_CHARACTERISTIC)
        return found

    def order_id(self) -> int:
        """OrderID(37) when it is an engine order id, else 0 (name by OrigClOrdID)."""
        value = self.message.get(37)
        if value is None or not value.isdigit():
            return 0
        order_id = int(value)
        return order_id if 0 < order_id <= ORDER_ID_MAX else 0


def _is_decimal(text: bytes) -> bool:
    whole, _, fraction = text.removeprefix(b"-").partition(b".")
    return bool(whole or fraction) and (whole.isdigit() or not whole) and \
        (fraction.isdigit() or not fraction)


def new_order(message, account: int, instruments: Instruments) -> SubmitOrder:
    """A NewOrderSingle(D) as ``SubmitOrder`` for ``account``; raises ``RequestError``.
    O(fields).

    >>> from venue.codecs import InstrumentAdded
    >>> from venue.codecs.tagvalue import FixParser, encode
    >>> instruments = Instruments()
    >>> instruments.on_event(InstrumentAdded(1, "BTC-USD", 2, 1, 2, 4, 1, 1, 1, 0, 0, 0))
    >>> parser = FixParser()
    >>> parser.feed(encode(b"FIX.4.4", [(35, b"D"), (11, b"C1"), (38, b"1.5"), (40, b"2"),
    ...                                 (44, b"65100.50"), (54, b"1"), (55, b"BTC-USD")]))
    >>> command = new_order(parser.next(), 7, instruments)
    >>> command.account, command.price, command.quantity, command.time_in_force.name
    (7, 6510050, 15000, 'DAY')
    """
    request = _Request(message, "D")
    request.check_account(account)
    client_order_id = request.text_id(11, "ClOrdID")
    info = request.instrument(instruments)
    side = request.choice(54, "Side", SIDES)
    order_type = request.choice(40, "OrdType", ORDER_TYPES)
    default_tif = TimeInForce.IOC if order_type == OrderType.MARKET else TimeInForce.DAY
    tif = request.choice(59, "TimeInForce", TIMES_IN_FORCE, default_tif)
    quantity = request.units(info, 38, "OrderQty", is_price=False)
    if quantity is None:
        raise request.business("OrderQty(38) is required", INCORRECT_QUANTITY)
    price = stop_price = 0
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = request.units(info, 44, "Price", is_price=True) or 0
        if message.get(44) is None:
            raise request.business(f"Price(44) is required for OrdType {order_type.name}")
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop_price = request.units(info, 99, "StopPx", is_price=True) or 0
        if message.get(99) is None:
            raise request.business(f"StopPx(99) is required for OrdType {order_type.name}")
    display_quantity = request.units(info, 111, "MaxFloor", is_price=False) or 0
    return SubmitOrder(account, info.instrument_id, client_order_id, side, order_type, tif,
                       price, quantity, post_only=_post_only(request),
                       display_quantity=display_quantity, stop_price=stop_price,
                       expire_time_ns=_expire_time_ns(request, tif))


def _post_only(request: _Request) -> bool:
    values = (request.message.get(18) or b"").split()
    unsupported = [value for value in values if value != POST_ONLY_EXEC_INST]
    if unsupported:
        shown = b" ".join(unsupported).decode(errors="replace")
        raise request.business(f"ExecInst {shown} is not supported",
                               UNSUPPORTED_CHARACTERISTIC)
    return bool(values)


def _expire_time_ns(request: _Request, tif: TimeInForce) -> int:
    """ExpireTime(126) for a GTD order; ignored (0) for the others."""
    if tif != TimeInForce.GTD:
        return 0
    value = request.message.get(126)
    if value is None:
        raise request.business("ExpireTime(126) is required for TimeInForce GTD")
    expire_time_ns = parse_utc(value)
    if expire_time_ns is None:
        raise request.session(INCORRECT_DATA_FORMAT, 126,
                              "Incorrect data format for value ExpireTime")
    return expire_time_ns


def cancel_request(message, account: int, instruments: Instruments) -> CancelOrder:
    """An OrderCancelRequest(F) as ``CancelOrder``; raises ``RequestError``."""
    request = _Request(message, "F")
    request.check_account(account)
    client_order_id = request.text_id(11, "ClOrdID")
    orig_client_order_id = request.text_id(41, "OrigClOrdID")
    info = request.instrument(instruments)
    return CancelOrder(account, info.instrument_id, client_order_id,
                       order_id=request.order_id(), orig_client_order_id=orig_client_order_id)


def replace_request(message, account: int, instruments: Instruments) -> ReplaceOrder:
    """An OrderCancelReplaceRequest(G) as ``ReplaceOrder`` (OrderQty is the new total
    quantity; Price required for LIMIT and STOP_LIMIT; StopPx absent keeps the stop price).
    Side, TimeInForce and OrdType cannot change: the engine keeps the order's."""
    request = _Request(message, "G")
    request.check_account(account)
    client_order_id = request.text_id(11, "ClOrdID")
    orig_client_order_id = request.text_id(41, "OrigClOrdID")
    info = request.instrument(instruments)
    order_type = request.choice(40, "OrdType", ORDER_TYPES)
    quantity = request.units(info, 38, "OrderQty", is_price=False)
    if quantity is None:
        raise request.business("OrderQty(38) is required")
    price = 0
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = request.units(info, 44, "Price", is_price=True) or 0
        if message.get(44) is None:
            raise request.business(f"Price(44) is required for OrdType {order_type.name}")
    stop_price = 0
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop_price = request.units(info, 99, "StopPx", is_price=True) or 0
    return ReplaceOrder(account, info.instrument_id, client_order_id, price, quantity,
                        order_id=request.order_id(),
                        orig_client_order_id=orig_client_order_id, stop_price=stop_price)


def mass_cancel_request(message, account: int, instruments: Instruments) -> MassCancel:
    """An OrderMassCancelRequest(q) as ``MassCancel`` of the session's account:
    MassCancelRequestType(530) 1 (one security: Symbol) or 7 (all orders); others are
    rejected (MassCancelRejectReason 0, not supported)."""
    request = _Request(message, "q")
    request.check_account(account)
    client_request_id = request.text_id(11, "ClOrdID")
    request_type = request.required(530, "MassCancelRequestType")
    if request_type == b"1":
        instrument_id = request.instrument(instruments).instrument_id
    elif request_type == b"7":
        instrument_id = 0
    else:
        raise request.business(
            f"MassCancelRequestType {request_type.decode(errors='replace')} is not "
            "supported (1 by security, 7 all orders)", mass_reason=MASS_NOT_SUPPORTED)
    return MassCancel(client_request_id, account=account, instrument_id=instrument_id)
