"""A Shopify store in the sandbox and a Tradewind wired to it over real HTTP: the hub's
webhook endpoint is served on loopback, so the sandbox's webhooks really arrive."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from starlette.types import Receive, Scope, Send

from tests.conftest import _truncate_all
from tests.sync.conftest import Harness, time_passes
from tradewind.api.app import WebhookIntake
from tradewind.app import actions
from tradewind.connectors.base import ConnectorClass
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders.models import OrderActivity
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring.executions import Execution
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.settings import Settings
from tradewind.sync.inbox import GroupCommit, Inbox
from tradewind.sync.models import SyncWork, WorkState
from tradewind.vocabulary import StockMode, Toggle

APP_KEY = "tw-app"
APP_SECRET = "tw-app-secret"
# World.settle() waits for work a rate limit put back if it is due within this long.
BUDGET_WAIT_SECONDS = 5.0
_names = itertools.count(1)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(time_scale=10_000) as running:
        yield running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _nothing_else(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class Served:
    """The hub's webhook endpoint (the same ``WebhookIntake`` the app serves) on
    127.0.0.1 in a thread."""

    def __init__(self, hub: Hub, port: int) -> None:
        inbox = Inbox(hub)
        app = WebhookIntake(_nothing_else, inbox=inbox, writer=GroupCommit(inbox))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the hub's server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class World:
    hub: Hub
    sandbox: ShopifySandbox
    shop: str
    token: str
    plugin_id: int
    channel_id: int
    warehouse_id: int
    harness: Harness

    def settle(self, until: Callable[[], bool] | None = None, timeout: float = 15.0) -> None:
        """Let webhooks arrive and work drain until ``until`` holds — or, with no
        ``until``, until nothing is left but work that waits longer than a moment (work
        waiting only for the plugin's rate budget, which frees up within seconds, is
        waited for; a platform that keeps throttling holds it up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            self._deliveries_done()
            self.harness.run(self.plugin_id, rounds=50)
            if until is None and not self._waiting_for_budget():
                return
            if until is not None and until():
                return
            if time.monotonic() > deadline:
                if until is None:
                    return
                raise AssertionError("the expected state was not reached")
            time.sleep(0.05)

    def _waiting_for_budget(self) -> bool:
        """Whether pending work of the plugin was put back by a rate limit (the budget's
        or the platform's) and is due within a few seconds."""
        soon = utcnow() + dt.timedelta(seconds=BUDGET_WAIT_SECONDS)
        query = select(func.count(SyncWork.id)).where(
            SyncWork.plugin_id == self.plugin_id,
            SyncWork.state == WorkState.PENDING,
            SyncWork.throttled > 0,
            SyncWork.not_before <= soon,
        )
        with self.hub.db.read() as session:
            return bool(session.scalar(query))

    def _deliveries_done(self, timeout: float = 2.0) -> None:
        """Wait until this shop's webhook deliveries have arrived (or given up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            delivery.state == "pending" for delivery in self.sandbox.deliveries(self.shop)
        ):
            time.sleep(0.01)

    def stock_disagreements(self, skus: Collection[str]) -> dict[str, tuple[int, int]]:
        """SKU → (the store's available, Tradewind's available) at the mapped location,
        for each of ``skus`` where the two differ."""
        state = self.sandbox.state(self.shop)
        items = {v["inventory_item_id"]: v["sku"] for p in state["products"] for v in p["variants"]}
        location = self.location_id()
        differ: dict[str, tuple[int, int]] = {}
        with self.hub.db.read() as session:
            for level in state["inventory_levels"]:
                sku = items.get(level["inventory_item_id"])
                if level["location_id"] != location or sku is None or sku not in skus:
                    continue
                product = catalog.find_by_sku(session, sku)
                ours = inventory.level(session, product.id, self.warehouse_id) if product else None
                available = ours.available if ours is not None else 0
                if level["available"] != available:
                    differ[sku] = (level["available"], available)
        return differ

    def activities(self, order_id: int) -> list[str]:
        """The kinds on the order's timeline, oldest first."""
        with self.hub.db.read() as session:
            kinds = session.scalars(
                select(OrderActivity.kind)
                .where(OrderActivity.order_id == order_id)
                .order_by(OrderActivity.id)
            )
            return list(kinds)

    def rounds(self, times: int) -> None:
        """Settle, then let time pass, ``times`` over: retries under faults run out."""
        for _ in range(times):
            self.settle()
            time_passes(self.hub)

    def admin(self, method: str, path: str, body: object = None) -> Any:
        """The merchant (or another app) acting on the store directly, over its REST API."""
        response = httpx2.request(
            method,
            f"{self.sandbox.admin_url('2026-04')}/{path}.json",
            headers={"X-Shopify-Access-Token": self.token, "Host": f"{self.shop}.myshopify.com"},
            json=body,
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    def calls(self, *operations: str) -> int:
        """How many calls of any of ``operations`` the plugin's executions recorded."""
        query = select(func.count(Execution.id)).where(
            Execution.plugin_id == self.plugin_id, Execution.operation.in_(operations)
        )
        with self.hub.db.read() as session:
            return int(session.scalar(query) or 0)

    def plugin(self) -> Plugin:
        with self.hub.db.read() as session:
            return plugins.get_plugin(session, self.plugin_id)

    def location_id(self) -> int:
        return int(self.sandbox.state(self.shop)["locations"][0]["id"])


@pytest.fixture
def world(sandbox: ShopifySandbox, sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    """A fresh shop with two products, a plugin importing its orders into one channel,
    locations mapped, products synced, stock exported in absolute mode (window 0).
    (The connector does not care which database is behind the hub: the end-to-end flows
    run on SQLite; the recovery test runs on PostgreSQL too.)"""
    with make_world(sandbox, sqlite_url, tmp_path) as built:
        yield built


def database_for(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh database of ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("postgres_url"))
    _truncate_all(url)
    return url


@contextlib.contextmanager
def make_world(
    sandbox: ShopifySandbox,
    database_url: str,
    tmp_path: Path,
    also: Sequence[ConnectorClass] = (),
    shadow: bool = False,
) -> Iterator[World]:
    """The world of ``world``; ``also``: more connector types the hub knows (the service
    plugins of a channel); ``shadow``: the plugin is made in shadow."""
    shop = f"store{next(_names)}-{int(time.time() * 1000) % 100000}"
    made = sandbox.create_shop(shop, token=f"shpat_{shop}", app_key=APP_KEY, app_secret=APP_SECRET)
    assert made.token is not None
    sandbox.add_product(shop, "Mug", [{"sku": "MUG", "price": "12.00", "available": 7}])
    sandbox.add_product(
        shop,
        "Plate",
        [{"sku": "PLATE", "price": "9.50", "available": 3, "barcode": "5012345678900"}],
    )
    port = _free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_keys=(Fernet.generate_key().decode(),),
        base_url=f"http://127.0.0.1:{port}",
        allow_sandbox_hosts=True,
    )
    registry = ConnectorRegistry.of(ShopifyConnector, *also)
    with Hub(settings, registry=registry) as hub, Served(hub, port):
        harness = Harness(hub)
        with hub.db.unit_of_work() as session:
            channel = channels.create_channel(session, "Shopify")
            warehouse = inventory.create_warehouse(session, "MAIN")
            for sku in ("MUG", "PLATE"):
                from tradewind.core.catalog import service as catalog
                from tradewind.core.catalog.schemas import ProductIn

                product = catalog.create_product(session, ProductIn(sku=sku, title=sku))
                inventory.receive(session, product.id, warehouse.id, 20)
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                ShopifyConnector.info,
                name=shop,
                config={
                    "store_url": f"https://{shop}.myshopify.com",
                    "access_token": made.token,
                    "client_id": APP_KEY,
                    "client_secret": APP_SECRET,
                    "sandbox_url": sandbox.base_url,
                },
                shadow=shadow,
            )
            plugins.attach(session, plugin.id, channel.id)
            for toggle in (Toggle.IMPORT_ORDERS, Toggle.EXPORT_TRACKING, Toggle.IMPORT_SHIPMENTS):
                plugins.set_toggle(session, ShopifyConnector.info, plugin.id, toggle, True)
        actions.activate(hub, plugin.id)
        with hub.db.unit_of_work() as session:  # orders from a minute ago count as "after"
            found = plugins.get_plugin(session, plugin.id)
            found.enabled_at = utcnow() - dt.timedelta(minutes=1)
        harness.run(plugin.id)  # locations, webhooks
        with hub.db.unit_of_work() as session:
            (location,) = [m for m in links.location_mappings(session, plugin.id) if m.active]
            links.map_location(
                session, plugin.id, location.external_id, warehouse_id=warehouse.id, is_default=True
            )
        actions.sync_products(hub, plugin.id)
        harness.run(plugin.id)
        actions.set_stock_mode(hub, plugin.id, mode=StockMode.ABSOLUTE, window_seconds=0)
        harness.run(plugin.id)
        try:
            yield World(
                hub, sandbox, shop, made.token, plugin.id, channel.id, warehouse.id, harness
            )
        finally:
            _unsubscribe(sandbox, shop, made.token)


def _unsubscribe(sandbox: ShopifySandbox, shop: str, token: str) -> None:
    """Remove the shop's subscriptions, so no delivery retries towards a hub that is gone
    (the sandbox is shared by the session)."""
    headers = {"X-Shopify-Access-Token": token, "Host": f"{shop}.myshopify.com"}
    base = sandbox.admin_url("2026-04")
    for hook in sandbox.state(shop)["webhooks"]:
        httpx2.delete(f"{base}/webhooks/{hook['id']}.json", headers=headers)
