"""Discovery: entry points become typed connector classes, and a bad one is reported
broken without stopping the others."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from tradewind.connectors.registry import GROUP, ConnectorRegistry, UnknownConnector
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.integrations.vendure import VendureConnector


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def test_the_built_ins_are_found_by_their_entry_points() -> None:
    registry = ConnectorRegistry.discover(
        [
            entry("shopify", "tradewind.integrations.shopify:ShopifyConnector"),
            entry("vendure", "tradewind.integrations.vendure:VendureConnector"),
        ]
    )
    assert registry.get("shopify") is ShopifyConnector
    assert registry.get("vendure") is VendureConnector
    assert [info.key for info in registry.infos()] == ["shopify", "vendure"]
    assert not registry.broken


def test_a_bad_entry_point_is_broken_and_the_rest_load() -> None:
    registry = ConnectorRegistry.discover(
        [
            entry("shopify", "tradewind.integrations.shopify:ShopifyConnector"),
            entry("vendor", "tradewind.integrations.vendure:VendureConnector"),
            entry("gone", "tradewind.integrations.gone:Connector"),
        ]
    )
    assert list(registry.connectors) == ["shopify"]
    assert "registered as 'vendor'" in registry.broken["vendor"]
    assert registry.broken["gone"].startswith("ModuleNotFoundError")
    with pytest.raises(UnknownConnector, match="it failed to load"):
        registry.get("gone")


def test_of_keys_the_classes_by_their_info() -> None:
    registry = ConnectorRegistry.of(VendureConnector)
    assert registry.info("vendure") is VendureConnector.info
    with pytest.raises(UnknownConnector, match="available: vendure"):
        registry.info("shopify")
