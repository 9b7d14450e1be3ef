"""venue-rfq: a request-for-quote module for venue, and the example to copy for a first module.

Load it into a node by entry point (``rfq``) or by dotted path
(``venue_rfq.module:RfqModule``); see README.md.
"""

from .commands import RFQ_COMMANDS, AcceptQuote, CancelRfq, RequestQuote, SubmitQuote
from .events import (
    RFQ_EVENTS,
    QuoteAccepted,
    QuoteExpired,
    QuoteReceived,
    RfqCancelled,
    RfqExpired,
    RfqOpened,
    RfqRejected,
    RfqRejectReason,
)
from .module import RfqModule

__all__ = [
    "RFQ_COMMANDS", "RFQ_EVENTS", "AcceptQuote", "CancelRfq", "QuoteAccepted", "QuoteExpired",
    "QuoteReceived", "RequestQuote", "RfqCancelled", "RfqExpired", "RfqModule", "RfqOpened",
    "RfqRejectReason", "RfqRejected", "SubmitQuote",
]
