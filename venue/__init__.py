"""venue: a framework for fault-tolerant, deterministic, Raft-replicated trading venues.

Subpackages: ``venue.engine`` (deterministic core), ``venue.codecs`` (formats),
``venue.cluster`` (log, replication, tools), ``venue.gateways`` (FIX, WebSocket, history).
"""

__version__ = "0.1.0"

import os as _os

#: VENUE_PURE_PYTHON=1 makes every hot path use its pure-Python twin (read once, here, so
#: that engine code, which may not touch ``os``, can ask).
PURE_PYTHON_REQUESTED = bool(_os.environ.get("VENUE_PURE_PYTHON"))
