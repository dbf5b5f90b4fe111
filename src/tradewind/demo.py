"""The first-run demo: a sandbox Shopify store already connected as a plugin on a
"Shopify" channel, two warehouses with the store's catalog in stock, historical orders
coming in by backfill and the store's order generator placing new ones, so a newcomer
sees orders, stock and notifications move within a minute; on the same channel, EasyPost
(rates, labels, tracking) and TaxJar (tax of orders made in Tradewind) on their
sandboxes, so labels and tax work without any set-up.

Everything here is idempotent: the second ``tradewind demo`` finds the shop (its state
is kept beside the database) and the plugin, and only points the plugin at the
sandbox's new address.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.app import actions
from tradewind.auth import service as auth
from tradewind.auth.models import Role, User
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.channels.models import Channel
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.shipping import service as shipping
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.easypost import EasyPostSandbox
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.runner import DEMO_CATALOG, seed_demo
from tradewind.sandbox.taxjar import TaxJarSandbox
from tradewind.vocabulary import ServiceCapability, StockMode, Toggle

SHOP = "demo"
TOKEN = "shpat_demo_store"  # noqa: S105 - the sandbox shop's token, not a real secret
APP_KEY = "tradewind-demo"
APP_SECRET = "tradewind-demo-secret"  # noqa: S105 - signs the sandbox's webhooks
PLUGIN = "Demo Shopify store"
CHANNEL = "Shopify"
ADMIN = "admin"
HISTORY = 12  # orders the store already has before Tradewind connects
STOCK_WINDOW_SECONDS = 10  # short, so stock changes show on the store quickly
TOGGLES = (Toggle.IMPORT_ORDERS, Toggle.EXPORT_TRACKING, Toggle.EXPORT_SHIPMENTS)
EASYPOST_KEY = "EZTKtradewinddemo"
TAXJAR_TOKEN = "tradewind-demo-taxjar"  # noqa: S105 - the TaxJar sandbox's token
# Where the demo's parcels ship from (a carrier rates from an address, a tax service
# taxes from one).
ADDRESSES = {
    "MAIN": {
        "address1": "1 Dock Rd",
        "city": "Oakland",
        "province": "CA",
        "postal_code": "94607",
        "country_code": "US",
    },
    "EAST": {
        "address1": "10 Ferry St",
        "city": "Newark",
        "province": "NJ",
        "postal_code": "07105",
        "country_code": "US",
    },
}
# The demo's service plugins: (template, name, what each does on the channel).
SERVICES = (
    (
        "easypost",
        "Demo EasyPost",
        (
            ServiceCapability.GET_RATES,
            ServiceCapability.BUY_LABEL,
            ServiceCapability.VOID_LABEL,
            ServiceCapability.TRACK,
        ),
    ),
    ("taxjar", "Demo TaxJar", (ServiceCapability.CALCULATE_TAX, ServiceCapability.COMMIT_TAX)),
)


@dataclass
class ServiceSandboxes:
    easypost: EasyPostSandbox
    taxjar: TaxJarSandbox

    def settings(self, template: str) -> dict[str, str]:
        if template == "easypost":
            return {"api_key": EASYPOST_KEY, "api_url": self.easypost.api_base}
        return {"api_token": TAXJAR_TOKEN, "api_url": f"{self.taxjar.base_url}/v2"}

    def stop(self) -> None:
        self.easypost.stop()
        self.taxjar.stop()


def start_services() -> ServiceSandboxes:
    """The EasyPost and TaxJar sandboxes, with the demo's key and token."""
    easypost = EasyPostSandbox().start()
    easypost.add_key("test", EASYPOST_KEY)
    taxjar = TaxJarSandbox().start()
    taxjar.create_account(TAXJAR_TOKEN)
    return ServiceSandboxes(easypost, taxjar)


@dataclass(frozen=True)
class DemoReport:
    plugin_id: int
    first_run: bool
    admin_password: str | None  # only when the admin user was created now


def start_sandbox(hub: Hub) -> ShopifySandbox:
    """The demo store, its state kept in the data directory; a fresh one gets the demo
    catalog and a few orders placed before Tradewind connects."""
    sandbox = ShopifySandbox(limits=True, sqlite_path=hub.settings.data_dir / "demo-shop.sqlite")
    sandbox.start()
    fresh = SHOP not in sandbox.sandbox.state.shops
    sandbox.create_shop(SHOP, token=TOKEN, app_key=APP_KEY, app_secret=APP_SECRET)
    if fresh:
        seed_demo(sandbox, SHOP)
        for number in range(HISTORY):
            sandbox.random_order(SHOP, seed=number)
    return sandbox


def prepare(
    hub: Hub, sandbox: ShopifySandbox, services: ServiceSandboxes | None = None
) -> DemoReport:
    """Connect the demo store (first run) or point the plugins at the sandboxes' new
    addresses."""
    password = _ensure_admin(hub)
    with hub.db.unit_of_work() as session:
        existing = session.scalar(select(Plugin).where(Plugin.name == PLUGIN))
        if existing is not None:
            plugins.update_plugin_settings(
                session,
                hub.vault,
                ShopifyConnector.info,
                existing.id,
                {"sandbox_url": sandbox.base_url},
            )
            if services is not None:
                _repoint_services(hub, session, services)
            return DemoReport(existing.id, first_run=False, admin_password=password)
        plugin_id = _connect(hub, session, sandbox)
        service_ids = _connect_services(hub, session, services) if services else []
    for service_id in service_ids:
        actions.activate(hub, service_id)
    actions.activate(hub, plugin_id)
    actions.sync_products(hub, plugin_id)  # links the store's variants to the products
    now = utcnow()
    actions.start_backfill(hub, plugin_id, now - dt.timedelta(days=30), now)
    return DemoReport(plugin_id, first_run=True, admin_password=password)


def _connect(hub: Hub, session: Session, sandbox: ShopifySandbox) -> int:
    main = inventory.create_warehouse(session, "MAIN", "Main warehouse", is_default=True)
    east = inventory.create_warehouse(session, "EAST", "East warehouse (Newark)")
    main.address, east.address = dict(ADDRESSES["MAIN"]), dict(ADDRESSES["EAST"])
    for title, sku, price, stock in DEMO_CATALOG:
        product = catalog.create_product(
            session, ProductIn(sku=sku, title=title, price=Decimal(price))
        )
        inventory.receive(session, product.id, main.id, stock, reason="demo stock")
        inventory.receive(session, product.id, east.id, stock // 2, reason="demo stock")
    channel = channels.create_channel(session, CHANNEL, "The demo store on the Shopify sandbox")
    plugin = plugins.add_plugin(
        session,
        hub.vault,
        ShopifyConnector.info,
        name=PLUGIN,
        config={
            "store_url": f"https://{SHOP}.myshopify.com",
            "access_token": TOKEN,
            "client_id": APP_KEY,
            "client_secret": APP_SECRET,
            "sandbox_url": sandbox.base_url,
        },
    )
    plugins.attach(session, plugin.id, channel.id)
    for toggle in TOGGLES:
        plugins.set_toggle(session, ShopifyConnector.info, plugin.id, toggle, True)
    locations = sandbox.state(SHOP)["locations"]
    links.sync_locations(
        session, plugin.id, [(str(place["id"]), str(place["name"])) for place in locations]
    )
    for place, warehouse in zip(locations, (main, east), strict=False):
        links.map_location(
            session,
            plugin.id,
            str(place["id"]),
            warehouse_id=warehouse.id,
            is_default=warehouse is main,
        )
    plugins.set_stock_sync(
        session, plugin.id, mode=StockMode.ABSOLUTE, window_seconds=STOCK_WINDOW_SECONDS
    )
    return plugin.id


def _connect_services(hub: Hub, session: Session, services: ServiceSandboxes) -> list[int]:
    """EasyPost and TaxJar on the demo channel, each doing its capabilities."""
    channel = session.scalar(select(Channel).where(Channel.name == CHANNEL))
    assert channel is not None  # made by _connect in the same transaction
    made: list[int] = []
    for template, name, capabilities in SERVICES:
        info = hub.registry.info(template)
        plugin = plugins.add_plugin(
            session, hub.vault, info, name=name, config=services.settings(template)
        )
        plugins.attach(session, plugin.id, channel.id)
        for capability in capabilities:
            shipping.set_service(session, channel.id, capability, plugin.id)
        made.append(plugin.id)
    return made


def _repoint_services(hub: Hub, session: Session, services: ServiceSandboxes) -> None:
    for template, name, _ in SERVICES:
        found = session.scalar(select(Plugin).where(Plugin.name == name))
        if found is not None:
            plugins.update_plugin_settings(
                session, hub.vault, hub.info_for(found), found.id, services.settings(template)
            )


def _ensure_admin(hub: Hub) -> str | None:
    """Create the admin user when there is no user at all; its password is returned to
    be shown once (only a hash is kept)."""
    with hub.db.unit_of_work() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        password = secrets.token_urlsafe(12)
        auth.create_user(session, ADMIN, password, Role.ADMIN)
        return password
