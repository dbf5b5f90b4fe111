"""The shop a carrier template's end-to-end test starts from: a channel whose only
plugin does rates, labels, voids and tracking, a warehouse in Oakland with mugs in stock,
and an order made in Tradewind for Ada Lovelace in San Francisco with one package of
1,868 g (25 × 20 × 12 cm) ready to be rated."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tests import factories
from tradewind.connectors.base import ConnectorInfo
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn
from tradewind.hub import Hub
from tradewind.vocabulary import ServiceCapability

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address1": "417 Montgomery St",
    "city": "San Francisco",
    "province": "CA",
    "postal_code": "94104",
    "country_code": "US",
}
WAREHOUSE = {
    "address1": "1 Dock Rd",
    "city": "Oakland",
    "province": "CA",
    "postal_code": "94607",
    "country_code": "US",
}
SERVICES = ("get_rates", "buy_label", "void_label", "track")


def carrier_shop(
    hub: Hub, info: ConnectorInfo, config: Mapping[str, Any], order: str
) -> tuple[int, int]:
    """The shop with a plugin of ``info`` made from ``config``: (plugin id, package id)."""
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        warehouse = factories.warehouse(session)
        warehouse.address = dict(WAREHOUSE)
        mug = factories.product(session, "MUG")
        inventory.receive(session, mug.id, warehouse.id, 5)
        made = plugins.add_plugin(session, hub.vault, info, name=info.key, config=dict(config))
        plugins.attach(session, made.id, channel.id)
        plugins.activate(session, made.id)
        for capability in SERVICES:
            shipping.set_service(session, channel.id, ServiceCapability(capability), made.id)
        data = factories.order_in(order, ("MUG", 1)).model_copy(
            update={"external_id": None, "shipping_address": Address(**ADDRESS)}
        )
        placed = orders.create_manual_order(session, channel.id, data)
        package = shipping.prepare_package(
            session,
            placed.id,
            [
                ParcelIn(
                    weight=Decimal("1868"),
                    length=Decimal("25"),
                    width=Decimal("20"),
                    height=Decimal("12"),
                )
            ],
        )
        return made.id, package.id
