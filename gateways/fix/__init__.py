"""The FIX 4.4 gateway: a sans-I/O session layer with a thin asyncio acceptor.

- ``dictionary``: the FIX data dictionaries (``spec/``) and message validation.
- ``session``: one FIX session's state machine (logon, heartbeats, test requests, sequence
  numbers, resend and gap fill, sequence reset, reject, logout), no I/O.
- ``store``: sequence numbers and sent messages, persisted so a restart resumes sessions.
- ``acceptor``: the asyncio shell that accepts TCP connections and routes them to sessions.
- ``reflector``: the application the QuickFIX acceptance scripts expect.
- ``gateway``, ``order_entry``, ``orders``, ``execreports``, ``marketdata``: the gateway in
  front of a cluster (order entry, execution reports, market data, drop copy).
- ``conformance``: the runner of the QuickFIX acceptance scripts.

The tag=value parser and encoder are ``venue.codecs.tagvalue`` (with a Cython twin).
"""
