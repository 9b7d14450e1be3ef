"""venue: a framework for fault-tolerant, deterministic, Raft-replicated trading venues.

Subpackages: ``venue.engine`` (deterministic core), ``venue.codecs`` (formats),
``venue.cluster`` (log, replication, tools), ``venue.gateways`` (FIX, WebSocket, history).
"""

__version__ = "0.1.0"
