"""The WebSocket gateway: a JSON API (``schema.py``) over WebSocket in front of a cluster.

``core.py`` is the sans-I/O core (connections, auth, limits, subscriptions, routing of the
event stream), ``server.py`` its asyncio shell on the ``websockets`` library, ``http.py``
the plain HTTP answers on the same port, ``cli.py`` the ``venue ws-gateway`` command and
``local.py`` the pieces ``venue up`` needs.
"""
