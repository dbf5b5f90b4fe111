"""The Shopify connector end to end against the sandbox over real HTTP."""

from __future__ import annotations

from tests.integrations.shopify.conftest import World
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn


def _order(world: World, external_id: str) -> Order | None:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, external_id)


def _available(world: World, sku: str) -> int:
    state = world.sandbox.state(world.shop)
    items = {v["sku"]: v["inventory_item_id"] for p in state["products"] for v in p["variants"]}
    for level in state["inventory_levels"]:
        if level["inventory_item_id"] == items[sku]:
            return int(level["available"])
    raise AssertionError(f"no level for {sku}")


def test_setup_mapped_locations_products_and_stock(world: World) -> None:
    with world.hub.db.read() as session:
        mapped = links.product_links(session, world.plugin_id)
        assert len(mapped) == 2
    assert _available(world, "MUG") == 20
    assert _available(world, "PLATE") == 20


def test_a_web_order_arrives_by_webhook_reserves_and_stock_follows(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(lambda: _order(world, str(placed["id"])) is not None)
    order = _order(world, str(placed["id"]))
    assert order is not None and order.number == placed["name"]
    world.settle(lambda: _available(world, "MUG") == 18)
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session, order.id, ShipmentIn(carrier="UPS", tracking_number="1Z999")
        )
    world.settle(lambda: bool(world.sandbox.state(world.shop)["orders"][-1].get("fulfillments")))
    with world.hub.db.read() as session:
        assert [
            s.external_id is not None for s in shipments.list_shipments(session, order_id=order.id)
        ] == [True]
