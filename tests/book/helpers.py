"""The book implementations under test: the reference always, the twin when compiled."""

from __future__ import annotations

from venue.engine.book import CyOrderBook, PyOrderBook

BOOK_CLASSES = [PyOrderBook] + ([CyOrderBook] if CyOrderBook is not None else [])
