"""The product documents' channel, exactly: one channel with the Shopify plugin (orders
and products), ShipStation (fulfilment and labels) and TaxJar (tax), each against its
sandbox over real HTTP, the hub's webhook endpoint served on loopback so that Shopify's
and ShipStation's deliveries really arrive.

- An order placed on Shopify arrives, is handed to ShipStation, ShipStation ships it
  (SHIP_NOTIFY, thin: Tradewind reads the shipments back), and the shipment with its
  tracking appears in Tradewind and goes back to Shopify as a fulfillment.
- An order made in Tradewind gets TaxJar's tax, is handed to ShipStation with it, and
  its tax is committed to TaxJar as a sale once ShipStation ships it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from tests import factories
from tests.integrations.shopify.conftest import World, make_world
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.sandbox.shipstation import ShipStationSandbox
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.taxjar import TaxJarSandbox
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, ServiceCapability

TEMPLATES = {t.id: t for t in shipped_templates()}
ShipStation = connector_class(TEMPLATES["shipstation"])
TaxJar = connector_class(TEMPLATES["taxjar"])
TOKEN = "seed-ship-notify-3c1f9e27a4b8"
LOS_ANGELES = Address(
    first_name="Ada",
    last_name="Lovelace",
    address1="1 Main St",
    city="Los Angeles",
    province="CA",
    postal_code="90002",
    country_code="US",
)


@dataclass
class Channel:
    world: World
    shipstation: ShipStationSandbox
    taxjar: TaxJarSandbox
    ss_key: str
    ss_secret: str
    tj_token: str
    ss_plugin: int
    tj_plugin: int

    def drain(self) -> None:
        """Deliveries arrive and every plugin's work runs, until nothing is left."""
        for _ in range(3):
            assert self.shipstation.wait_for_webhooks()
            self.world.settle()
            for plugin_id in (self.tj_plugin, self.ss_plugin):
                self.world.harness.run(plugin_id, rounds=50)
        self.world.settle()

    def shipstation_order(self, number: str) -> dict[str, Any]:
        answer = httpx2.get(
            f"{self.shipstation.base_url}/orders",
            params={"orderNumber": number},
            auth=(self.ss_key, self.ss_secret),
        )
        (found,) = answer.json()["orders"]
        return dict(found)


@pytest.fixture
def channel(sandbox: ShopifySandbox, sqlite_url: str, tmp_path: Path) -> Iterator[Channel]:
    with (
        ShipStationSandbox() as shipstation,
        TaxJarSandbox() as taxjar,
        make_world(sandbox, sqlite_url, tmp_path, also=(ShipStation, TaxJar)) as world,
    ):
        key, secret = shipstation.add_account()
        token = taxjar.create_account().token
        hub = world.hub
        with hub.db.unit_of_work() as session:
            warehouse = session.get(Warehouse, world.warehouse_id)
            assert warehouse is not None
            warehouse.address = {
                "company": "Tradewind Demo",
                "address1": "1 Dock Rd",
                "city": "Oakland",
                "province": "CA",
                "postal_code": "94607",
                "country_code": "US",
            }
            ss = plugins.add_plugin(
                session,
                hub.vault,
                ShipStation.info,
                name="ShipStation",
                config={
                    "api_key": key,
                    "api_secret": secret,
                    "api_url": shipstation.base_url,
                    "webhook_token": TOKEN,
                },
            )
            tj = plugins.add_plugin(
                session,
                hub.vault,
                TaxJar.info,
                name="TaxJar",
                config={"api_token": token, "api_url": f"{taxjar.base_url}/v2"},
            )
            for made in (ss, tj):
                plugins.attach(session, made.id, world.channel_id)
                plugins.activate(session, made.id)
            for capability, plugin_id in (
                (ServiceCapability.PUSH_ORDER_FOR_FULFILMENT, ss.id),
                (ServiceCapability.GET_RATES, ss.id),
                (ServiceCapability.BUY_LABEL, ss.id),
                (ServiceCapability.CALCULATE_TAX, tj.id),
                (ServiceCapability.COMMIT_TAX, tj.id),
            ):
                shipping.set_service(session, world.channel_id, capability, plugin_id)
            ids = (ss.id, tj.id)
        # ShipStation → Settings → Integrations → Webhooks: the plugin's address, with its
        # token (ShipStation signs nothing).
        hooked = httpx2.post(
            f"{shipstation.base_url}/webhooks/subscribe",
            json={
                "target_url": f"{hub.settings.base_url}/hooks/{ids[0]}/ship_notify?token={TOKEN}",
                "event": "SHIP_NOTIFY",
                "friendly_name": "Tradewind",
            },
            auth=(key, secret),
        )
        assert hooked.status_code == 200, hooked.text
        yield Channel(world, shipstation, taxjar, key, secret, token, *ids)


def test_a_shopify_order_ships_through_shipstation_and_its_tracking_reaches_shopify(
    channel: Channel,
) -> None:
    world = channel.world
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(
        lambda: _imported(channel, str(placed["id"])) is not None  # by Shopify's webhook
    )
    channel.drain()
    handed = channel.shipstation_order(placed["name"])
    assert handed["orderStatus"] == "awaiting_shipment"  # Shopify says it is paid
    assert [(i["sku"], i["quantity"]) for i in handed["items"]] == [("MUG", 2)]

    shipped = channel.shipstation.ship_order(
        channel.ss_key, handed["orderId"], carrier_code="fedex", service_code="fedex_ground"
    )
    channel.drain()  # SHIP_NOTIFY → the shipments read back → Shopify's fulfillment
    order = _imported(channel, str(placed["id"]))
    assert order is not None and order.fulfillment_status is FulfillmentStatus.FULFILLED
    with world.hub.db.read() as session:
        (shipment,) = session.scalars(select(Shipment).where(Shipment.order_id == order.id))
        assert (shipment.carrier, shipment.tracking_number) == (
            "FedEx",
            shipped["trackingNumber"],
        )
    (on_shopify,) = [
        o for o in world.sandbox.state(world.shop)["orders"] if o["id"] == placed["id"]
    ]
    (fulfillment,) = on_shopify["fulfillments"]
    assert fulfillment["tracking_number"] == shipped["trackingNumber"]
    assert fulfillment["tracking_company"] == "FedEx"
    assert channel.shipstation.labels(channel.ss_key)["bought"] == 0  # shipped there, by hand


def test_an_order_made_here_is_taxed_by_taxjar_and_committed_once_shipstation_ships_it(
    channel: Channel,
) -> None:
    world = channel.world
    with world.hub.db.unit_of_work() as session:
        data = factories.order_in(
            "M1", ("MUG", 2), financial_status=FinancialStatus.PAID
        ).model_copy(update={"external_id": None, "shipping_address": LOS_ANGELES})
        order_id = orders.create_manual_order(session, world.channel_id, data).id
    channel.drain()
    with world.hub.db.read() as session:
        tax = taxes.tax_of(session, order_id)
        assert tax is not None and tax.amount == Decimal("1.8000")  # LA 90002: 9 % of 20.00
        assert tax.committed_at is None
        number = orders.get_order(session, order_id).number
    handed = channel.shipstation_order(number)
    assert handed["taxAmount"] == 1.8  # handed over with TaxJar's tax (sent again once taxed)

    channel.shipstation.ship_order(channel.ss_key, handed["orderId"])
    channel.drain()
    with world.hub.db.read() as session:
        order = orders.get_order(session, order_id)
        assert order.fulfillment_status is FulfillmentStatus.FULFILLED
        committed = taxes.tax_of(session, order_id)
        assert committed is not None and committed.committed_at is not None
    sale = httpx2.get(
        f"{channel.taxjar.base_url}/v2/transactions/orders/{number.lstrip('#')}",
        headers={"Authorization": f"Bearer {channel.tj_token}"},
    ).json()["order"]
    assert (sale["sales_tax"], sale["amount"]) == ("1.8", "20.0")


def _imported(channel: Channel, external_id: str) -> Any:
    with channel.world.hub.db.read() as session:
        return orders.find_imported(session, channel.world.plugin_id, external_id)
