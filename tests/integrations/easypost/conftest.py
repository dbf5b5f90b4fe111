"""An EasyPost sandbox with a key, and a hub with the shipped EasyPost template as a
plugin of a channel (rates, labels, voids, tracking) and a package ready to rate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests import factories
from tests.sync.conftest import Harness, time_passes
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn
from tradewind.hub import Hub
from tradewind.sandbox.easypost import EasyPostSandbox
from tradewind.settings import Settings
from tradewind.sync import ledger
from tradewind.vocabulary import ServiceCapability

(EASYPOST,) = [t for t in shipped_templates() if t.id == "easypost"]
EasyPost = connector_class(EASYPOST)
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
    sandbox: EasyPostSandbox
    key: str
    plugin_id: int
    package_id: int


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with (
        EasyPostSandbox() as sandbox,
        Hub(settings, registry=ConnectorRegistry.of(EasyPost)) as hub,
    ):
        key = sandbox.add_key()
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
            mug = factories.product(session, "MUG")
            inventory.receive(session, mug.id, warehouse.id, 5)
            made = plugins.add_plugin(
                session,
                hub.vault,
                EasyPost.info,
                name="easypost",
                config={"api_key": key, "api_url": sandbox.api_base},
            )
            plugins.attach(session, made.id, channel.id)
            plugins.activate(session, made.id)
            for capability in ("get_rates", "buy_label", "void_label", "track"):
                shipping.set_service(session, channel.id, ServiceCapability(capability), made.id)
            data = factories.order_in("E1", ("MUG", 1)).model_copy(
                update={"external_id": None, "shipping_address": Address(**ADDRESS)}
            )
            order = orders.create_manual_order(session, channel.id, data)
            # 1,868 g is the docs' 65.9 oz parcel.
            package = shipping.prepare_package(
                session,
                order.id,
                [
                    ParcelIn(
                        weight=Decimal("1868"),
                        length=Decimal("25"),
                        width=Decimal("20"),
                        height=Decimal("12"),
                    )
                ],
            )
            ids = (made.id, package.id)
        yield Shop(hub, sandbox, key, *ids)


def drain(hub: Hub, plugin_id: int, rounds: int = 10) -> int:
    """Run the plugin's work until none is left pending, letting the time its own rate
    budget spreads calls over pass at once; returns the units done."""
    harness = Harness(hub)
    done = 0
    for _ in range(rounds):
        time_passes(hub)
        done += harness.run(plugin_id)
        with hub.db.read() as session:
            if not ledger.depth(session, plugin_id):
                break
    return done
