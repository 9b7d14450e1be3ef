"""Fixtures for the RFQ module's tests (this folder has no __init__.py: pytest puts it on
sys.path, so the tests import ``rfq_harness`` directly)."""

from __future__ import annotations

import pytest
from rfq_harness import RfqVenue


@pytest.fixture
def rfq_venue() -> RfqVenue:
    """A fresh engine running the RFQ module, with session 1 open."""
    return RfqVenue()
