"""Engine rules that follow from what a connector declares: a newly mapped product gets its
stock pushed, and a stock mode the connector does not take is refused."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from tests.fakes import FakeConnector
from tests.sync.conftest import Shop
from tradewind.app import actions
from tradewind.connectors import ConnectorInfo
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.errors import Invalid
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vocabulary import StockMode


def test_a_newly_mapped_product_gets_its_stock_pushed(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.set_stock_sync(
            session, shop.plugin_id, mode=StockMode.ABSOLUTE, window_seconds=0, buffer=0
        )
    shop.harness.run(shop.plugin_id)
    shop.market.pushes.clear()
    with shop.hub.db.unit_of_work() as session:
        links.link_product(session, shop.plugin_id, shop.products["PLATE"], "variant-9")
    shop.harness.run(shop.plugin_id)
    assert [level["sku"] for push in shop.market.pushes for level in push["levels"]] == ["PLATE"]


def test_a_stock_mode_the_connector_does_not_take_is_refused(shop: Shop) -> None:
    class AbsoluteOnly(FakeConnector):
        info: ClassVar[ConnectorInfo] = dataclasses.replace(
            FakeConnector.info, stock_modes=frozenset({StockMode.OFF, StockMode.ABSOLUTE})
        )

    shop.hub.registry = ConnectorRegistry.of(AbsoluteOnly)
    with pytest.raises(Invalid, match="cannot push stock in delta mode"):
        actions.set_stock_mode(shop.hub, shop.plugin_id, mode=StockMode.DELTA)
    plugin = actions.set_stock_mode(shop.hub, shop.plugin_id, mode=StockMode.ABSOLUTE)
    assert plugin.stock_mode is StockMode.ABSOLUTE


def test_the_unmapped_stock_notice_closes_once_every_stocked_product_is_mapped(
    shop: Shop,
) -> None:
    class NeedsLink(FakeConnector):
        info: ClassVar[ConnectorInfo] = dataclasses.replace(
            FakeConnector.info, stock_needs_link=True
        )

    shop.hub.registry = ConnectorRegistry.of(NeedsLink)
    actions.set_stock_mode(shop.hub, shop.plugin_id, mode=StockMode.ABSOLUTE, window_seconds=0)
    shop.harness.run(shop.plugin_id)

    def notice() -> str | None:
        with shop.hub.db.read() as session:
            found = notifications.open_notifications(
                session, plugin_id=shop.plugin_id, kind=NotificationKind.MISSING_PRODUCT
            )
            return found[0].message if found else None

    assert notice() is not None and notice().startswith("2 product(s)")  # type: ignore[union-attr]
    with shop.hub.db.unit_of_work() as session:
        links.link_product(session, shop.plugin_id, shop.products["MUG"], "variant-1")
    shop.harness.run(shop.plugin_id)
    assert notice() is not None  # PLATE is stocked and still unmapped
    with shop.hub.db.unit_of_work() as session:
        links.link_product(session, shop.plugin_id, shop.products["PLATE"], "variant-2")
    shop.harness.run(shop.plugin_id)
    assert notice() is None
    assert {level["sku"] for push in shop.market.pushes for level in push["levels"]} == {
        "MUG",
        "PLATE",
    }
