"""The Vendure tier's fixtures: one real Vendure server per test session (see harness.py),
and a Tradewind wired to it (``store``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests import factories
from tests.integrations.vendure.harness import (
    HOOK_PLUGIN_ID,
    VendurePeer,
    session_peer,
    stop_session_peer,
)
from tests.sync.conftest import Harness
from tradewind.app import actions
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog.models import Product
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.integrations.vendure import VendureConnector
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.models import InboxDelivery
from tradewind.vocabulary import StockMode, Toggle


@pytest.fixture(scope="session", autouse=True)
def _stop_vendure_when_done() -> Iterator[None]:
    yield
    stop_session_peer()


@pytest.fixture(scope="session")
def vendure() -> VendurePeer:
    return session_peer()


CUP_BARCODE = "5012345678900"


@dataclass
class Store:
    """Tradewind wired to the session's Vendure: one plugin, one warehouse mapped to
    Vendure's default stock location (the second location stays unmapped)."""

    hub: Hub
    peer: VendurePeer
    harness: Harness
    plugin_id: int
    warehouse_id: int
    cup_id: int

    def drain(self) -> None:
        self.harness.run(self.plugin_id, rounds=50)

    def product_id(self, sku: str) -> int:
        with self.hub.db.read() as session:
            found = session.scalar(select(Product.id).where(Product.sku == sku))
        assert found is not None, f"no product {sku} in Tradewind"
        return found

    def available(self, product_id: int) -> int:
        with self.hub.db.read() as session:
            return inventory.available(session, product_id, [self.warehouse_id])

    def orders(self) -> list[Order]:
        with self.hub.db.read() as session:
            return orders.list_orders(session, plugin_id=self.plugin_id, limit=1000)

    def deliveries(self, topic: str) -> list[InboxDelivery]:
        with self.hub.db.read() as session:
            return list(session.scalars(select(InboxDelivery).where(InboxDelivery.topic == topic)))


def wait_for(what: str, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """The plugin posts after Vendure commits, asynchronously: wait for its effect."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def store(vendure: VendurePeer, sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_keys=(Fernet.generate_key().decode(),),
        allow_sandbox_hosts=True,  # the Vendure peer listens on loopback
    )
    with Hub(settings, registry=ConnectorRegistry.of(VendureConnector)) as hub:
        harness = Harness(hub)
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session, "Vendure shop")
            plugin = plugins.add_plugin(
                session, hub.vault, VendureConnector.info, name="vendure", config=vendure.settings()
            )
            # The companion plugin in the running Vendure posts to /hooks/1.
            assert plugin.id == HOOK_PLUGIN_ID
            plugins.attach(session, plugin.id, channel.id)
            for toggle in (Toggle.IMPORT_ORDERS, Toggle.IMPORT_PRODUCTS, Toggle.EXPORT_TRACKING):
                plugins.set_toggle(session, VendureConnector.info, plugin.id, toggle, True)
            warehouse = factories.warehouse(session, "MAIN")
            # Known to Tradewind by its barcode only: Vendure's SKU for it differs.
            cup = factories.product(session, "CUP-TW", barcode=CUP_BARCODE)
            inventory.receive(session, cup.id, warehouse.id, 4)
        actions.set_stock_mode(hub, plugin.id, mode=StockMode.ABSOLUTE, window_seconds=0)
        vendure.switchboard.app = create_app(hub)
        try:
            yield Store(hub, vendure, harness, plugin.id, warehouse.id, cup.id)
        finally:
            vendure.switchboard.app = None
