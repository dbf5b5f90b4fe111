"""A hub wired to Fake Market over real HTTP, and a harness that drains work
synchronously (the queue itself is exercised in test_worker and test_multiprocess)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import update

from tests import factories
from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarket, FakeMarketServer
from tests.fakes import FakeConnector
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.sync import schedule
from tradewind.sync.drain import Drainer
from tradewind.sync.models import RateBudgetRow, SyncWork, WorkState
from tradewind.vocabulary import Toggle


def time_passes(hub: Hub) -> None:
    """Every pending row is due and the shared rate budgets have refilled."""
    with hub.db.unit_of_work() as session:
        session.execute(
            update(SyncWork)
            .where(SyncWork.state == WorkState.PENDING)
            .values(not_before=utcnow() - dt.timedelta(seconds=1))
        )
        session.execute(update(RateBudgetRow).values(blocked_until=0, level=0))


@dataclass
class Harness:
    """Drains due work in this thread; records every kick the engine asked for."""

    hub: Hub
    kicks: list[tuple[int, dt.datetime | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.drainer = Drainer(self.hub, holder="test", kick=self.kick)
        self.hub.kick = self.kick

    def kick(self, plugin_id: int, at: dt.datetime | None = None) -> None:
        self.kicks.append((plugin_id, at))

    def run(self, plugin_id: int, *, rounds: int = 20) -> int:
        """Drain until nothing is due now; returns units processed."""
        total = 0
        for _ in range(rounds):
            done = self.drainer.drain(plugin_id)
            total += done
            if done == 0:
                break
        return total

    def sweep(self) -> schedule.SweepReport:
        return schedule.sweep(self.hub, self.kick)


@dataclass
class Shop:
    hub: Hub
    market: FakeMarket
    plugin_id: int
    channel_id: int
    warehouse_id: int
    products: dict[str, int]
    harness: Harness


@pytest.fixture
def market() -> Iterator[FakeMarketServer]:
    with FakeMarketServer() as server:
        yield server


@pytest.fixture
def shop(hub: Hub, market: FakeMarketServer) -> Shop:
    """A plugin on Fake Market, importing orders and exporting stock (absolute, window
    0), with MUG and PLATE stocked in MAIN, which is mapped to location loc-1."""
    harness = Harness(hub)
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Fake channel")
        plugin = plugins.add_plugin(
            session,
            hub.vault,
            FakeConnector.info,
            name="fake-shop",
            config={
                "shop": "fake-shop",
                "api_token": TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "base_url": market.url,
            },
        )
        plugins.attach(session, plugin.id, channel.id)
        for toggle in (Toggle.IMPORT_ORDERS, Toggle.EXPORT_TRACKING):
            plugins.set_toggle(session, FakeConnector.info, plugin.id, toggle, True)
        warehouse = factories.warehouse(session, "MAIN")
        products = {sku: factories.product(session, sku).id for sku in ("MUG", "PLATE")}
        for product_id in products.values():
            inventory.receive(session, product_id, warehouse.id, 20)
        links.sync_locations(session, plugin.id, [("loc-1", "Main"), ("loc-2", "Popup")])
        links.map_location(session, plugin.id, "loc-1", warehouse_id=warehouse.id, is_default=True)
        plugin = plugins.activate(session, plugin.id)
        plugin.enabled_at = utcnow() - dt.timedelta(days=1)
    return Shop(hub, market.market, plugin.id, channel.id, warehouse.id, products, harness)
