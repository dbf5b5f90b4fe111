"""The Vendure tier's fixtures: one real Vendure server per test session (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integrations.vendure.harness import VendurePeer, session_peer, stop_session_peer


@pytest.fixture(scope="session", autouse=True)
def _stop_vendure_when_done() -> Iterator[None]:
    yield
    stop_session_peer()


@pytest.fixture(scope="session")
def vendure() -> VendurePeer:
    return session_peer()
