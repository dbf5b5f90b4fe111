"""The shipped TaxJar template against the TaxJar sandbox, over real HTTP, through the
engine: an order made in Tradewind on a channel whose tax plugin is TaxJar is taxed per
line as it is created (the sandbox's documented rates), its tax is committed as a sale
once it ships, the tax of units returned is refunded on that sale once, and an address
TaxJar cannot place is refused with TaxJar's reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import factories
from tests.api.conftest import Api, make_token
from tests.sync.conftest import Harness
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import shipping as actions
from tradewind.app.calls import ConnectorFailed
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sandbox.taxjar import TaxJarSandbox
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.vocabulary import ServiceCapability

(TAXJAR,) = [t for t in shipped_templates() if t.id == "taxjar"]
TaxJar = connector_class(TAXJAR)
LOS_ANGELES = Address(
    first_name="Ada",
    address1="1 Main St",
    city="Los Angeles",
    province="CA",
    postal_code="90002",
    country_code="US",
)


@dataclass
class Shop:
    hub: Hub
    sandbox: TaxJarSandbox
    token: str
    plugin_id: int
    channel_id: int


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with TaxJarSandbox() as sandbox, Hub(settings, registry=ConnectorRegistry.of(TaxJar)) as hub:
        token = sandbox.create_account().token
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session)
            warehouse = factories.warehouse(session)
            warehouse.is_default = True
            warehouse.address = {
                "address1": "1 Dock Rd",
                "city": "Oakland",
                "province": "CA",
                "postal_code": "94607",
                "country_code": "US",
            }
            mug = factories.product(session, "MUG")
            inventory.receive(session, mug.id, warehouse.id, 5)
            made = plugins.add_plugin(
                session,
                hub.vault,
                TaxJar.info,
                name="taxjar",
                config={"api_token": token, "api_url": f"{sandbox.base_url}/v2"},
            )
            plugins.attach(session, made.id, channel.id)
            plugins.activate(session, made.id)
            for capability in (ServiceCapability.CALCULATE_TAX, ServiceCapability.COMMIT_TAX):
                shipping.set_service(session, channel.id, capability, made.id)
            ids = (made.id, channel.id)
        yield Shop(hub, sandbox, token, *ids)


def _order(shop: Shop, number: str, address: Address) -> int:
    with shop.hub.db.unit_of_work() as session:
        data = factories.order_in(number, ("MUG", 2)).model_copy(
            update={"external_id": None, "shipping_address": address}
        )
        return orders.create_manual_order(session, shop.channel_id, data).id


def test_an_order_made_here_is_taxed_per_line_and_committed_once_shipped(shop: Shop) -> None:
    order_id = _order(shop, "T1", LOS_ANGELES)
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        order = orders.get_order(session, order_id)
        tax = taxes.tax_of(session, order_id)
        assert tax is not None
        # 2 × 10.00 at Los Angeles 90002: 6.25 % state + 0.25 % county + 2.5 % special.
        assert (tax.amount, tax.rate) == (Decimal("1.8000"), Decimal("0.090000"))
        assert [line.tax_amount for line in order.lines] == [Decimal("1.8000")]
        assert order.tax_total == Decimal("1.8000")
        number = order.number
    with shop.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn())
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        committed = taxes.tax_of(session, order_id)
        assert committed is not None and committed.committed_at is not None
        assert committed.external_id == number.lstrip("#")
    sale = httpx2.get(
        f"{shop.sandbox.base_url}/v2/transactions/orders/{number.lstrip('#')}",
        headers={"Authorization": f"Bearer {shop.token}"},
    ).json()["order"]
    assert (sale["sales_tax"], sale["amount"]) == ("1.8", "20.0")


def test_an_address_taxjar_cannot_place_is_refused_with_its_reason(shop: Shop) -> None:
    wrong = LOS_ANGELES.model_copy(update={"postal_code": "10001"})  # a New York zip
    order_id = _order(shop, "T2", wrong)
    with pytest.raises(ConnectorFailed, match="to_zip 10001 is not used within to_state CA"):
        actions.calculate_tax(shop.hub, order_id)
    with shop.hub.db.read() as session:
        assert taxes.tax_of(session, order_id) is None  # nothing half-written


def test_an_order_taxjar_cannot_place_says_so_on_the_order_until_it_is_taxed(
    shop: Shop,
) -> None:
    wrong = LOS_ANGELES.model_copy(update={"postal_code": "10001"})
    order_id = _order(shop, "T7", wrong)
    Harness(shop.hub).run(shop.plugin_id)  # the engine's calculate_tax, refused
    reason = "to_zip 10001 is not used within to_state CA"
    with shop.hub.db.read() as session:
        assert taxes.tax_of(session, order_id) is None  # nothing half-written
        order = orders.get_order(session, order_id)
        assert order.tax_total == 0 and [line.tax_amount for line in order.lines] == [0]
        (said,) = [a for a in orders.activities(session, order_id) if a.kind == "tax_refused"]
        assert reason in said.message and "Correct the order's shipping address" in said.message
        (told,) = notifications.open_notifications(
            session, kind=NotificationKind.RECORD_REJECTED, plugin_id=shop.plugin_id
        )
        assert told.subject == f"tax of order {order.number}" and reason in told.message
        (work,) = session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.CALCULATE_TAX))
        assert work.state is WorkState.DONE  # told, not failed and retried
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    with TestClient(create_app(shop.hub)) as client:
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        assert reason in browser.get(f"/orders/{order_id}").text
    with shop.hub.db.unit_of_work() as session:  # the address corrected, taxed by a person
        orders.get_order(session, order_id).shipping_address = LOS_ANGELES.model_dump()
    actions.calculate_tax(shop.hub, order_id)
    with shop.hub.db.read() as session:
        assert not notifications.open_notifications(
            session, kind=NotificationKind.RECORD_REJECTED, plugin_id=shop.plugin_id
        )


def _shipped_and_committed(shop: Shop, number: str) -> int:
    order_id = _order(shop, number, LOS_ANGELES)
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn())
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        committed = taxes.tax_of(session, order_id)
        assert committed is not None and committed.committed_at is not None
    return order_id


def _return_one(shop: Shop, order_id: int, *, receive: bool = True) -> int:
    with shop.hub.db.unit_of_work() as session:
        line = orders.get_order(session, order_id).lines[0]
        made = returns.request_return(
            session, order_id, ReturnIn(lines=[ReturnLineIn(order_line_id=line.id, quantity=1)])
        )
        if receive:
            returns.advance_return(session, made.id, ReturnStatus.RECEIVED)
        return made.id


def _refund_there(shop: Shop, refund_id: str) -> dict[str, object]:
    answer = httpx2.get(
        f"{shop.sandbox.base_url}/v2/transactions/refunds/{refund_id}",
        headers={"Authorization": f"Bearer {shop.token}"},
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()["refund"]
    return found


def test_a_received_return_refunds_its_units_tax_on_the_sale_once(shop: Shop) -> None:
    order_id = _shipped_and_committed(shop, "T3")
    return_id = _return_one(shop, order_id)
    harness = Harness(shop.hub)
    assert harness.run(shop.plugin_id) == 1
    refund_id = f"T3-R{return_id}"
    refund = _refund_there(shop, refund_id)
    # One of the two mugs: half the line's 1.80 of tax, on the sale T3.
    assert (refund["transaction_reference_id"], refund["sales_tax"], refund["amount"]) == (
        "T3",
        "-0.9",
        "-10.0",
    )
    with shop.hub.db.read() as session:
        tax = taxes.tax_of(session, order_id)
        assert tax is not None and tax.refunded == Decimal("0.9000")
        (kept,) = taxes.tax_refunds(session, order_id)
        assert (kept.return_id, kept.external_id) == (return_id, refund_id)
        assert "tax_refunded" in [a.kind for a in orders.activities(session, order_id)]
    with shop.hub.db.unit_of_work() as session:  # closing the return refunds nothing more
        returns.advance_return(session, return_id, ReturnStatus.CLOSED)
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    assert harness.run(shop.plugin_id) == 0
    with TestClient(create_app(shop.hub)) as client:
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        assert "tax refunded 0.90" in browser.get(f"/orders/{order_id}").text
        api = Api(client, make_token(shop.hub, TokenScope.READ))
        assert api.get(f"/orders/{order_id}/tax").json()["refunded"] == "0.9000"


def test_a_refund_whose_answer_was_lost_is_read_back_not_sent_twice(shop: Shop) -> None:
    order_id = _shipped_and_committed(shop, "T4")
    return_id = _return_one(shop, order_id)
    refund_id = f"T4-R{return_id}"
    # Tradewind's first request reached TaxJar; its answer never came back.
    sent = httpx2.post(
        f"{shop.sandbox.base_url}/v2/transactions/refunds",
        headers={"Authorization": f"Bearer {shop.token}"},
        json={
            "transaction_id": refund_id,
            "transaction_reference_id": "T4",
            "transaction_date": "2026/12/03",
            "to_country": "US",
            "to_zip": "90002",
            "to_state": "CA",
            "amount": -10,
            "shipping": 0,
            "sales_tax": -0.9,
        },
    )
    assert sent.status_code == 200, sent.text
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.read() as session:
        (kept,) = taxes.tax_refunds(session, order_id)
        assert kept.external_id == refund_id
    listed = httpx2.get(
        f"{shop.sandbox.base_url}/v2/transactions/refunds",
        headers={"Authorization": f"Bearer {shop.token}"},
    ).json()["refunds"]
    assert listed.count(refund_id) == 1


def test_a_return_received_before_the_sale_is_committed_is_refunded_after_it(
    shop: Shop,
) -> None:
    order_id = _order(shop, "T5", LOS_ANGELES)
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)  # taxed, not shipped: no sale yet
    with shop.hub.db.unit_of_work() as session:
        line = orders.get_order(session, order_id).lines[0]
        shipments.create_shipment(
            session, order_id, ShipmentIn(lines=[ShipmentLineIn(order_line_id=line.id, quantity=1)])
        )
    return_id = _return_one(shop, order_id)  # the shipped mug comes back; still no sale
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        assert taxes.tax_refunds(session, order_id) == []
    with shop.hub.db.unit_of_work() as session:  # the other mug ships: the sale is recorded
        shipments.create_shipment(session, order_id, ShipmentIn())
    harness.run(shop.plugin_id)
    assert _refund_there(shop, f"T5-R{return_id}")["transaction_reference_id"] == "T5"
    with shop.hub.db.read() as session:
        tax = taxes.tax_of(session, order_id)
        assert tax is not None and tax.refunded == Decimal("0.9000")


def test_an_order_without_committed_tax_refunds_nothing(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:  # not taxed here: imported tax, say
        for capability in (ServiceCapability.CALCULATE_TAX, ServiceCapability.COMMIT_TAX):
            shipping.set_service(session, shop.channel_id, capability, None)
    order_id = _order(shop, "T6", LOS_ANGELES)
    with shop.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn())
    _return_one(shop, order_id)
    assert Harness(shop.hub).run(shop.plugin_id) == 0


def test_a_sale_whose_answer_was_lost_is_read_back_and_committed(shop: Shop) -> None:
    order_id = _order(shop, "T8", LOS_ANGELES)
    harness = Harness(shop.hub)
    harness.run(shop.plugin_id)
    # Tradewind's first request reached TaxJar; its answer never came back.
    sent = httpx2.post(
        f"{shop.sandbox.base_url}/v2/transactions/orders",
        headers={"Authorization": f"Bearer {shop.token}"},
        json={
            "transaction_id": "T8",
            "transaction_date": "2026/12/03",
            "to_country": "US",
            "to_zip": "90002",
            "to_state": "CA",
            "amount": 20,
            "shipping": 0,
            "sales_tax": 1.8,
        },
    )
    assert sent.status_code == 200, sent.text
    with shop.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn())
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        committed = taxes.tax_of(session, order_id)
        assert committed is not None and committed.committed_at is not None
        assert committed.external_id == "T8"
