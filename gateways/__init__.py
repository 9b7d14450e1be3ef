"""Edge processes in front of a cluster: the FIX 4.4 gateway (``fix``), the WebSocket/JSON
gateway (``ws``), the operator console (``console``) and the history read model
(``history``). What they share: ``link`` (the client session and event stream),
``instruments``, ``l2book``, ``order_table`` (read models folded from the stream),
``edgeconfig`` and ``service`` (config sections, running until stopped)."""
