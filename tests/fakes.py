"""The connector the engine tests run against Fake Market (tests/fakeplatform.py): the
SDK's example connector, ``tradewind.connectors.example``, under the name the tests use.
The engine knows nothing about it beyond what ``tradewind.connectors`` defines."""

from __future__ import annotations

from tradewind.connectors.example import FakeMarketConnector as FakeConnector

__all__ = ["FakeConnector"]
