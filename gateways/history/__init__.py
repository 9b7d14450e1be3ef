"""The trade-history read model: the event stream folded into SQL (SQLite by default,
PostgreSQL with a DSN), resumed exactly from its high-water mark, queried over HTTP/JSON and
``venue history-query``. ``fold`` is the sans-I/O core (entries -> rows), ``backends`` the
databases, ``queries`` the read side, ``process`` and ``http`` the asyncio shell."""
