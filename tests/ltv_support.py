"""A real RFC 3161 time-stamping authority for the long-term validation tests (bench/local_tsa.py)."""
from __future__ import annotations

import pytest

from bench.local_tsa import free_port, local_tsa

__all__ = ["free_port", "tsa"]


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    """{"url": TSA URL, "root": PEM file of its root, "crl_url": its CRL}; the server stops after the session."""
    with local_tsa(tmp_path_factory.mktemp("certomancer")) as running:
        yield running
