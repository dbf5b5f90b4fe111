"""Browser tests: the whole Tradewind (API, UI and the embedded sync engine) served by
uvicorn on 127.0.0.1 in a thread, driven by Playwright through Debian's Chromium.

The browser is never downloaded: ``/usr/bin/chromium`` comes from ``apt-get install
chromium`` (``make test`` installs it when missing). One browser serves the whole session.
Screenshots go to ``test-artifacts/`` (git-ignored), which CI keeps as artefacts.

The platforms the flows run against are fixtures with one small interface: Fake Market
(tests/fakeplatform.py) and the Shopify sandbox with the Shopify connector.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import uvicorn
from cryptography.fernet import Fernet

from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tests.fakes import FakeConnector
from tradewind import migrations
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.worker import Engine

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "admin", "correct horse battery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Platform(Protocol):
    """What a browser flow needs from a platform under test."""

    key: str  # the connector key
    label: str  # the connector's name in the "Add plugin" form
    channel: str  # the channel the flow creates for it
    plugin: str  # the plugin's name
    unmatched_sku: str | None  # a platform SKU that Sync products cannot map (None: no catalog)

    def settings(self) -> dict[str, str]:
        """Form values (field name → value) for the plugin's settings."""

    def place_old_orders(self, count: int) -> None:
        """Orders placed well before the plugin is activated (only a backfill imports
        them); returns once activating now would count them as older."""

    def place_order(self, sku: str) -> None:
        """An order placed now, after activation (it imports by itself)."""

    def close(self) -> None: ...


@dataclass
class FakeMarketPlatform:
    key: str = "fake"
    label: str = "Fake Market"
    channel: str = "Fake Market"
    plugin: str = "fake-market-shop"
    unmatched_sku: str | None = None
    server: FakeMarketServer = field(default_factory=FakeMarketServer)
    counter: int = 0

    def __post_init__(self) -> None:
        self.server.__enter__()
        self.server.market.page_size = 2  # a backfill of several pages shows its progress

    def settings(self) -> dict[str, str]:
        return {
            "shop": "fake-shop",
            "api_token": TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "base_url": self.server.url,
        }

    def place_old_orders(self, count: int) -> None:
        placed = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        for _ in range(count):
            self.counter += 1
            self.server.market.add_order(f"OLD{self.counter}", placed_at=placed)

    def place_order(self, sku: str) -> None:
        self.counter += 1
        self.server.market.add_order(f"NEW{self.counter}", sku=sku)

    def close(self) -> None:
        self.server.__exit__()


@dataclass
class Served:
    hub: Hub
    url: str
    server: uvicorn.Server
    thread: threading.Thread


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Tradewind as ``tradewind run`` starts it (API, UI and engine in one process), with
    Fake Market and Shopify installed, an admin user, and MUG in stock."""
    from tradewind.integrations.shopify import ShopifyConnector

    data = tmp_path_factory.mktemp("served")
    port = _free_port()
    settings = Settings(
        data_dir=data,
        secret_keys=(Fernet.generate_key().decode(),),
        base_url=f"http://127.0.0.1:{port}",
        allow_sandbox_hosts=True,
        reconcile_seconds=0.3,
        workers=2,
    )
    hub = Hub(settings, registry=ConnectorRegistry.of(FakeConnector, ShopifyConnector))
    migrations.upgrade(hub.db.engine)
    with hub.db.unit_of_work() as session:
        auth.create_user(session, USER, PASSWORD, Role.ADMIN)
        warehouse = inventory.create_warehouse(session, "MAIN", "Main warehouse")
        mug = catalog.create_product(session, ProductIn(sku="MUG", title="Mug", price=12))
        inventory.receive(session, mug.id, warehouse.id, 50)
        # The catalog knows the teapot under its own SKU (a platform's SKU maps to it).
        catalog.create_product(session, ProductIn(sku="TEAPOT-01", title="Teapot", price=30))
    app = create_app(hub, engine=Engine(hub), run_engine=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tradewind-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server under test did not start")
        time.sleep(0.02)
    try:
        yield Served(hub, settings.base_url, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        hub.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any) -> None:
    page.goto("/")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Plugin health")


@dataclass
class ShopifyPlatform:
    sandbox: Any
    key: str = "shopify"
    label: str = "Shopify"
    channel: str = "Shopify"
    plugin: str = "shopify-store"
    unmatched_sku: str | None = "TP-RED"
    shop: str = "tradewind-demo"
    token: str = ""

    def __post_init__(self) -> None:
        made = self.sandbox.create_shop(
            self.shop, token="shpat_browser", app_key="tw-app", app_secret="tw-app-secret"
        )
        self.token = made.token
        self.sandbox.add_product(
            self.shop, "Mug", [{"sku": "MUG", "price": "12.00", "available": 9}]
        )
        self.sandbox.add_product(
            self.shop, "Teapot", [{"sku": "TP-RED", "price": "30.00", "available": 2}]
        )

    def settings(self) -> dict[str, str]:
        return {
            "store_url": f"https://{self.shop}.myshopify.com",
            "access_token": self.token,
            "client_id": "tw-app",
            "client_secret": "tw-app-secret",
            "sandbox_url": self.sandbox.base_url,
        }

    def place_old_orders(self, count: int) -> None:
        placed = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)  # well before activation
        for _ in range(count):
            self.sandbox.place_order(self.shop, [("MUG", 1)], placed_at=placed)

    def place_order(self, sku: str) -> None:
        self.sandbox.place_order(self.shop, [(sku, 1)])

    def close(self) -> None:
        return None


@pytest.fixture(params=["fake", "shopify"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Each flow runs against Fake Market and against the Shopify sandbox."""
    with contextlib.ExitStack() as stack:
        made: Platform
        if request.param == "fake":
            made = FakeMarketPlatform()
        else:
            from tradewind.sandbox.shopify import ShopifySandbox

            made = ShopifyPlatform(stack.enter_context(ShopifySandbox(time_scale=10_000)))
        stack.callback(made.close)
        yield made


_IDLE = itertools.count(1)


@pytest.fixture
def idle_plugin(served: Served) -> int:
    """A Fake Market plugin, not yet active: its page has every form."""
    with served.hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session,
            served.hub.vault,
            FakeConnector.info,
            name=f"idle-{next(_IDLE)}",
            config={
                "shop": "answers",
                "api_token": TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "base_url": served.url,  # never called: nothing here reaches the market
            },
        )
        return plugin.id
