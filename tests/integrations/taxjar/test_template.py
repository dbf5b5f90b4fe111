"""The shipped TaxJar template against the TaxJar sandbox, over real HTTP, through the
engine: an order made in Tradewind on a channel whose tax plugin is TaxJar is taxed per
line as it is created (the sandbox's documented rates), its tax is committed as a sale
once it ships, and an address TaxJar cannot place is refused with TaxJar's reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx2
import pytest

from tests import factories
from tests.sync.conftest import Harness
from tradewind.app import shipping as actions
from tradewind.app.calls import ConnectorFailed
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.core.shipping import service as shipping
from tradewind.hub import Hub
from tradewind.sandbox.taxjar import TaxJarSandbox
from tradewind.settings import Settings
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
        tax = shipping.tax_of(session, order_id)
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
        committed = shipping.tax_of(session, order_id)
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
        assert shipping.tax_of(session, order_id) is None  # nothing half-written
