"""The shipped ShipStation template against the ShipStation sandbox, over real HTTP: an
order of the channel is handed to ShipStation as it is created (and updated there when
it changes), ShipStation ships it, its thin SHIP_NOTIFY is read back by its
``resource_url`` — only on ShipStation's own host — and the shipment with its tracking
is recorded once; rates and a label for a package; a revoked key pauses the plugin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import factories
from tests.api.conftest import make_token
from tests.connectors.listener import Listener
from tests.sync.conftest import Harness, time_passes
from tests.web.conftest import Browser
from tradewind.app import shipping as actions
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.customers.schemas import Address
from tradewind.core.fulfilment.models import FulfilmentOrder, FulfilmentShipment
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn
from tradewind.hub import Hub
from tradewind.monitoring.notifications import Notification
from tradewind.sandbox.shipstation import ShipStationSandbox
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, ServiceCapability

(SHIPSTATION,) = [t for t in shipped_templates() if t.id == "shipstation"]
ShipStation = connector_class(SHIPSTATION)
TOKEN = "ship-notify-token-0123456789"
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address1": "417 Montgomery St",
    "city": "San Francisco",
    "province": "CA",
    "postal_code": "94104",
    "country_code": "US",
}


@dataclass
class Shop:
    hub: Hub
    sandbox: ShipStationSandbox
    key: str
    secret: str
    plugin_id: int
    channel_id: int

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx2.request(
            method, self.sandbox.base_url + path, auth=(self.key, self.secret), **kwargs
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def order(self, number: str, *lines: tuple[str, int], paid: bool = True) -> int:
        with self.hub.db.unit_of_work() as session:
            data = factories.order_in(
                number,
                *lines,
                financial_status=FinancialStatus.PAID if paid else FinancialStatus.PENDING,
            ).model_copy(update={"external_id": None, "shipping_address": Address(**ADDRESS)})
            return orders.create_manual_order(session, self.channel_id, data).id

    def post_hook(self, body: bytes, token: str = TOKEN) -> int:
        with TestClient(create_app(self.hub)) as client:
            answer = client.post(
                f"/hooks/{self.plugin_id}/ship_notify",
                params={"token": token},
                content=body,
                headers={"Content-Type": "application/json"},
            )
        return answer.status_code


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with (
        ShipStationSandbox() as sandbox,
        Hub(settings, registry=ConnectorRegistry.of(ShipStation)) as hub,
    ):
        key, secret = sandbox.add_account()
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session)
            warehouse = factories.warehouse(session)
            warehouse.address = {
                "address1": "1 Dock Rd",
                "city": "Oakland",
                "province": "CA",
                "postal_code": "94607",
                "country_code": "US",
            }
            for sku in ("MUG", "CAP"):
                product = factories.product(session, sku)
                inventory.receive(session, product.id, warehouse.id, 10)
            made = plugins.add_plugin(
                session,
                hub.vault,
                ShipStation.info,
                name="shipstation",
                config={
                    "api_key": key,
                    "api_secret": secret,
                    "api_url": sandbox.base_url,
                    "webhook_token": TOKEN,
                },
            )
            plugins.attach(session, made.id, channel.id)
            plugins.activate(session, made.id)
            for capability in ServiceCapability:
                if capability.value in SHIPSTATION.capabilities:
                    shipping.set_service(session, channel.id, capability, made.id)
            ids = (made.id, channel.id)
        yield Shop(hub, sandbox, key, secret, *ids)


def _ship_notify(shop: Shop, order_id: int, **ship: Any) -> bytes:
    """ShipStation ships the order; the SHIP_NOTIFY delivery it sends, as sent."""
    with Listener() as receiver:
        shop.api(
            "POST",
            "/webhooks/subscribe",
            json={"target_url": f"{receiver.url}/hook", "event": "SHIP_NOTIFY"},
        )
        shop.sandbox.ship_order(shop.key, order_id, **ship)
        assert shop.sandbox.wait_for_webhooks()
        (sent,) = [r for r in receiver.reached if b"SHIP_NOTIFY" in r.body]
    return sent.body


def test_an_order_is_handed_over_shipped_there_and_recorded_once(shop: Shop) -> None:
    order_id = shop.order("S1", ("MUG", 2), ("CAP", 1))
    Harness(shop.hub).run(shop.plugin_id)
    (remote,) = shop.api("GET", "/orders", params={"orderNumber": "#S1"})["orders"]
    assert remote["orderKey"] == f"tradewind-{order_id}"
    assert remote["orderStatus"] == "awaiting_shipment"
    assert [(i["sku"], i["quantity"]) for i in remote["items"]] == [("MUG", 2), ("CAP", 1)]
    assert remote["shipTo"]["postalCode"] == "94104"
    with shop.hub.db.read() as session:
        handed = session.scalars(select(FulfilmentOrder)).one()
        assert handed.external_id == str(remote["orderId"])

    body = _ship_notify(shop, remote["orderId"], carrier_code="ups", service_code="ups_ground")
    assert shop.post_hook(body) == 200
    assert shop.post_hook(body) == 200  # ShipStation retries; read again, recorded once
    Harness(shop.hub).run(shop.plugin_id)
    (shipped,) = shop.api("GET", "/shipments", params={"orderId": remote["orderId"]})["shipments"]
    with shop.hub.db.read() as session:
        (shipment,) = session.scalars(select(Shipment).where(Shipment.order_id == order_id))
        assert shipment.carrier == "UPS"
        assert shipment.tracking_number == shipped["trackingNumber"]
        assert shipment.tracking_url.endswith(shipped["trackingNumber"])
        assert sum(line.quantity for line in shipment.lines) == 3
        order = orders.get_order(session, order_id)
        assert order.fulfillment_status is FulfillmentStatus.FULFILLED
        (row,) = session.scalars(select(FulfilmentShipment))
        assert row.external_id == str(shipped["shipmentId"]) and row.shipment_id == shipment.id


def test_a_delivery_with_a_wrong_token_is_refused_and_changes_nothing(shop: Shop) -> None:
    order_id = shop.order("S2", ("MUG", 1))
    Harness(shop.hub).run(shop.plugin_id)
    (remote,) = shop.api("GET", "/orders", params={"orderNumber": "#S2"})["orders"]
    body = _ship_notify(shop, remote["orderId"])
    assert shop.post_hook(body, token="not-the-token") == 401
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.read() as session:
        assert not session.scalars(select(Shipment).where(Shipment.order_id == order_id)).all()


@pytest.mark.parametrize(
    "elsewhere",
    [
        "http://169.254.169.254/latest/meta-data/?batchId=1",
        "https://evil.example/shipments?batchId=1",
        "SANDBOX_OTHER_PORT",
    ],
)
def test_a_resource_url_off_shipstations_host_is_never_read(shop: Shop, elsewhere: str) -> None:
    with Listener() as trap:
        url = f"{trap.url}/shipments?batchId=1" if elsewhere == "SANDBOX_OTHER_PORT" else elsewhere
        body = f'{{"resource_url": "{url}", "resource_type": "SHIP_NOTIFY"}}'.encode()
        assert shop.post_hook(body) == 200  # the token is right: it is stored, then judged
        Harness(shop.hub).run(shop.plugin_id)
        assert trap.reached == []  # the plugin's credentials went nowhere
    with shop.hub.db.read() as session:
        (work,) = session.scalars(
            select(SyncWork).where(SyncWork.kind == WorkKind.IMPORT_SHIPMENTS)
        ).all()
        assert work.state is WorkState.FAILED
        assert "not the service's host" in (work.last_error or "") or "https is needed" in (
            work.last_error or ""
        )


def test_an_order_changed_before_shipping_is_updated_there_not_duplicated(shop: Shop) -> None:
    order_id = shop.order("S3", ("MUG", 1))
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        orders.cancel_order(session, order_id, reason="customer")
    Harness(shop.hub).run(shop.plugin_id)
    found = shop.api("GET", "/orders", params={"orderNumber": "#S3"})["orders"]
    assert [o["orderStatus"] for o in found] == ["cancelled"]


def test_a_shipment_of_an_order_tradewind_never_sent_is_ignored(shop: Shop) -> None:
    stray = {
        "orderNumber": "X9",
        "orderKey": "tradewind-999",  # looks like ours, was never handed over
        "orderDate": "2026-12-01T10:00:00",
        "orderStatus": "awaiting_shipment",
        "billTo": {"name": "Someone"},
        "shipTo": {
            "name": "Someone",
            "street1": "1 Main St",
            "city": "Reno",
            "state": "NV",
            "postalCode": "89501",
            "country": "US",
        },
        "items": [{"sku": "MUG", "quantity": 1, "unitPrice": 10}],
    }
    made = shop.api("POST", "/orders/createorder", json=stray)
    body = _ship_notify(shop, made["orderId"])
    assert shop.post_hook(body) == 200
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.read() as session:
        assert not session.scalars(select(Shipment)).all()
        assert not session.scalars(select(Notification)).all()
        (work,) = session.scalars(
            select(SyncWork).where(SyncWork.kind == WorkKind.IMPORT_SHIPMENTS)
        ).all()
        assert work.state is WorkState.DONE


def test_rates_and_a_label_for_a_package(shop: Shop) -> None:
    order_id = shop.order("S5", ("MUG", 1))
    with shop.hub.db.unit_of_work() as session:
        package = shipping.prepare_package(session, order_id, [ParcelIn(weight=Decimal("400"))])
        package_id = package.id
    quotes = actions.get_rates(shop.hub, package_id)
    prices = {(q.carrier, q.service): q.amount for q in quotes}
    assert len({carrier for carrier, _ in prices}) == 3  # FedEx, UPS and USPS
    cheapest = shipping.cheapest(quotes)
    assert cheapest is not None and cheapest.carrier == "USPS"
    assert cheapest.amount == Decimal("4.2500")  # first class, up to a pound: the base
    label = actions.buy_label(shop.hub, package_id, cheapest.id)
    assert label.tracking_number.startswith("9400") and label.label_data
    assert shop.sandbox.labels(shop.key) == {"bought": 1, "voided": 0}


def test_a_revoked_key_pauses_the_plugin(shop: Shop) -> None:
    shop.sandbox.revoke(shop.key)
    shop.order("S6", ("MUG", 1))
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.read() as session:
        plugin = plugins.get_plugin(session, shop.plugin_id)
        assert plugin.state is PluginState.NEEDS_REAUTHORIZATION


def test_a_failed_push_is_not_lost(shop: Shop) -> None:
    shop.sandbox.inject_fault("server_error", status=503, path_contains="createorder")
    shop.order("S7", ("MUG", 1))
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)
    assert shop.api("GET", "/orders", params={"orderNumber": "#S7"})["orders"] == []
    time_passes(shop.hub)
    harness.run(shop.plugin_id)
    assert len(shop.api("GET", "/orders", params={"orderNumber": "#S7"})["orders"]) == 1


def test_a_lost_ship_notify_is_made_good_by_the_hourly_poll(shop: Shop) -> None:
    order_id = shop.order("S8", ("MUG", 1))
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)
    (remote,) = shop.api("GET", "/orders", params={"orderNumber": "#S8"})["orders"]
    shipped = shop.sandbox.ship_order(shop.key, remote["orderId"])  # no webhook: no notice
    report = harness.sweep()  # the schedule queues the plugin's fulfilment poll
    assert report.polls_queued >= 1
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        (shipment,) = session.scalars(select(Shipment).where(Shipment.order_id == order_id))
        assert shipment.tracking_number == shipped["trackingNumber"]
        handed = session.scalars(select(FulfilmentOrder)).one()
        assert handed.checked_at is not None


def test_the_order_says_where_it_was_handed_in_the_api_and_on_its_page(shop: Shop) -> None:
    order_id = shop.order("S9", ("MUG", 1))
    Harness(shop.hub).run(shop.plugin_id)
    (remote,) = shop.api("GET", "/orders", params={"orderNumber": "#S9"})["orders"]
    body = _ship_notify(shop, remote["orderId"])
    assert shop.post_hook(body) == 200
    Harness(shop.hub).run(shop.plugin_id)
    token = make_token(shop.hub, TokenScope.READ)
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "clerk", "a long enough password", Role.READ_ONLY)
    with TestClient(create_app(shop.hub)) as client:
        (handed,) = client.get(
            f"/api/v1/orders/{order_id}/fulfilment", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert (handed["plugin_id"], handed["external_id"]) == (
            shop.plugin_id,
            str(remote["orderId"]),
        )
        assert handed["reference"] == f"tradewind-{order_id}"
        (reported,) = handed["shipments"]
        assert reported["shipment_id"] is not None
        browser = Browser(client)
        assert browser.login("clerk", "a long enough password").status_code == 303
        page = browser.get(f"/orders/{order_id}").text
    assert (
        f"Handed to <strong>shipstation</strong> for fulfilment as its order {remote['orderId']}"
        in page
    )
    assert f"shipment #{reported['shipment_id']}" in page
