"""A plugin of the shipped REST storefront template on Fake Market, over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from importlib.resources import files

import pytest

from tests import factories
from tests.fakeplatform import TOKEN, FakeMarketServer
from tests.sync.conftest import Harness, Shop
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.vocabulary import StockMode, Toggle

SOURCE = (
    files("tradewind.integrations").joinpath("templates/rest_storefront.yaml").read_text("utf-8")
)
(REST_STOREFRONT,) = [t for t in shipped_templates() if t.id == "rest_storefront"]
RestStorefront = connector_class(REST_STOREFRONT)


@pytest.fixture
def store(settings: Settings) -> Iterator[Shop]:
    with (
        FakeMarketServer() as server,
        Hub(settings, registry=ConnectorRegistry.of(RestStorefront)) as hub,
    ):
        info = RestStorefront.info
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session, "Template channel")
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                info,
                name="rest-store",
                config={"store_url": server.url, "api_token": TOKEN},
            )
            plugins.attach(session, plugin.id, channel.id)
            plugins.set_toggle(session, info, plugin.id, Toggle.IMPORT_ORDERS, True)
            warehouse = factories.warehouse(session, "MAIN")
            products = {sku: factories.product(session, sku).id for sku in ("MUG", "PLATE")}
            for product_id in products.values():
                inventory.receive(session, product_id, warehouse.id, 20)
            links.sync_locations(session, plugin.id, [("loc-1", "Main")])
            links.map_location(
                session, plugin.id, "loc-1", warehouse_id=warehouse.id, is_default=True
            )
            plugin = plugins.activate(session, plugin.id)
            plugin.enabled_at = utcnow() - dt.timedelta(days=1)
            plugin.stock_mode = StockMode.ABSOLUTE
            plugin.stock_window_seconds = 0
        yield Shop(hub, server.market, plugin.id, channel.id, warehouse.id, products, Harness(hub))
