"""Products mapped (point 3), tracking and shipments (point 7), returns and closing
(point 9), many stores (point 10)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.returns.models import Return
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.sync.models import ProductSync
from tradewind.vocabulary import FulfillmentStatus, Toggle


def _order(world: World, external_id: object) -> Order:
    with world.hub.db.read() as session:
        found = orders.find_imported(session, world.plugin_id, str(external_id))
        assert found is not None
        return orders.get_order(session, found.id)


def _latest_sync(world: World) -> ProductSync:
    with world.hub.db.read() as session:
        run = session.scalars(select(ProductSync).order_by(ProductSync.id.desc())).first()
        assert run is not None
        return run


def test_sync_products_reports_and_never_touches_stock_or_mappings(world: World) -> None:
    world.sandbox.add_product(world.shop, "Lamp", [{"sku": "LAMP", "available": 1}])
    world.sandbox.add_product(world.shop, "Mug again", [{"sku": "MUG", "available": 1}])
    world.sandbox.add_product(
        world.shop, "By barcode", [{"sku": "THEIR-CODE", "barcode": "4006381333931"}]
    )
    with world.hub.db.unit_of_work() as session:  # our code differs; the barcode matches
        bowl = catalog.create_product(
            session, ProductIn(sku="BOWL", title="Bowl", barcode="4006381333931")
        )
    world.sandbox.add_product(world.shop, "Nameless", [{"sku": ""}])
    with world.hub.db.read() as session:
        before = {(lvl.product_id, lvl.on_hand) for lvl in inventory.levels(session)}
        mapped = links.product_links(session, world.plugin_id)
    actions.sync_products(world.hub, world.plugin_id)
    world.settle()
    run = _latest_sync(world)
    assert run.state.value == "done"
    assert {u["sku"] for u in run.unmatched} == {"LAMP", ""}
    assert [d["sku"] for d in run.duplicates] == ["MUG"]
    assert run.already_linked == 2 and run.created == 0 and run.linked == 1
    with world.hub.db.read() as session:
        assert links.product_links(session, world.plugin_id)[bowl.id].sku == "THEIR-CODE"
    with world.hub.db.read() as session:
        assert {(lvl.product_id, lvl.on_hand) for lvl in inventory.levels(session)} == before
        after = links.product_links(session, world.plugin_id)
        assert {p: link.external_id for p, link in mapped.items()} == {
            p: after[p].external_id for p in mapped
        }
    with world.hub.db.unit_of_work() as session:  # Import Products creates the missing ones
        from tradewind.integrations.shopify import ShopifyConnector

        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.IMPORT_PRODUCTS, True
        )
    actions.sync_products(world.hub, world.plugin_id)
    world.settle()
    assert _latest_sync(world).created == 1
    with world.hub.db.read() as session:
        lamp = catalog.find_by_sku(session, "LAMP")
        assert lamp is not None and lamp.title == "Lamp"
        assert inventory.levels(session, product_ids=[lamp.id]) == []  # no stock invented


@pytest.mark.parametrize("notify", [False, True], ids=["setting-off", "setting-on"])
def test_partial_shipments_fulfil_only_their_lines_with_notification_per_setting(
    world: World, notify: bool
) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 2), ("PLATE", 1)])
    world.settle(lambda: _exists(world, placed["id"]))
    order = _order(world, placed["id"])
    mug = next(line for line in order.lines if line.sku == "MUG")
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"notify_customer": notify})
        shipments.create_shipment(  # the shipment's own flag left at its default (on)
            session,
            order.id,
            ShipmentIn(
                lines=[ShipmentLineIn(order_line_id=mug.id, quantity=1)],
                carrier="UPS",
                tracking_number="1Z-PART",
                tracking_url="https://ups.example/1Z-PART",
            ),
        )
    world.settle(lambda: _fulfillments(world, placed["id"]) != [])
    (made,) = _fulfillments(world, placed["id"])
    assert made["tracking_number"] == "1Z-PART" and made["tracking_company"] == "UPS"
    assert [(i["sku"], i["quantity"]) for i in made["line_items"]] == [("MUG", 1)]
    (sent,) = [
        r
        for r in world.sandbox.requests(world.shop, "graphql.json")
        if "fulfillmentCreate" in r.body["query"]
    ]
    assert sent.status == 200
    assert (
        sent.body["variables"]["fulfillment"]["notifyCustomer"] is notify
    )  # what Shopify was told
    state = world.sandbox.state(world.shop)
    assert (
        next(o for o in state["orders"] if o["id"] == placed["id"])["fulfillment_status"]
        == "partial"
    )


def _exists(world: World, external_id: object) -> bool:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id)) is not None


def _fulfillments(world: World, order_id: object) -> list[dict[str, Any]]:
    return list(world.admin("GET", f"orders/{order_id}/fulfillments")["fulfillments"])


def test_a_fully_shipped_order_is_closed_on_shopify_when_asked(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"close_orders": True})
    placed = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.settle(lambda: _exists(world, placed["id"]))
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session, _order(world, placed["id"]).id, ShipmentIn(tracking_number="T-1")
        )
    world.settle(
        lambda: world.admin("GET", f"orders/{placed['id']}")["order"]["closed_at"] is not None
    )


def test_fulfillments_made_on_shopify_import_as_shipments(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _exists(world, placed["id"]))
    fulfillment_orders = world.admin("GET", f"orders/{placed['id']}/fulfillment_orders")
    group = fulfillment_orders["fulfillment_orders"][0]
    world.admin(
        "POST",
        "fulfillments",
        {
            "fulfillment": {
                "tracking_info": {"number": "SHOPIFY-1", "company": "DHL"},
                "line_items_by_fulfillment_order": [{"fulfillment_order_id": group["id"]}],
            }
        },
    )
    world.settle(
        lambda: _order(world, placed["id"]).fulfillment_status is FulfillmentStatus.FULFILLED
    )
    with world.hub.db.read() as session:
        (shipment,) = session.scalars(select(Shipment)).all()
        assert (shipment.tracking_number, shipment.carrier) == ("SHOPIFY-1", "DHL")
    world.settle()
    assert len(_fulfillments(world, placed["id"])) == 1  # not sent back as a second one


def test_refunds_import_as_returns_with_restock(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(lambda: _exists(world, placed["id"]))
    order = _order(world, placed["id"])
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order.id, ShipmentIn(tracking_number="R-1"))
    world.settle(lambda: _fulfillments(world, placed["id"]) != [])
    with world.hub.db.read() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        before = inventory.level(session, mug.id, world.warehouse_id)
        assert before is not None
    line = placed["line_items"][0]["id"]
    world.admin(
        "POST",
        f"orders/{placed['id']}/refunds",
        {
            "refund": {
                "note": "too small",
                "refund_line_items": [
                    {
                        "line_item_id": line,
                        "quantity": 1,
                        "restock_type": "return",
                        "location_id": world.location_id(),
                    }
                ],
            }
        },
    )
    world.settle(lambda: _returns(world) != [])
    (returned,) = _returns(world)
    assert returned.status.value == "closed" and returned.restock
    with world.hub.db.read() as session:
        after = inventory.level(session, mug.id, world.warehouse_id)
        assert after is not None and after.on_hand == before.on_hand + 1


def _returns(world: World) -> list[Return]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(Return)))


def test_two_stores_in_parallel_keep_their_own_locations_and_rules(world: World) -> None:
    other = world.sandbox.create_shop(f"{world.shop}-b", token=f"shpat_{world.shop}_b")
    world.sandbox.add_product(other.name, "Mug", [{"sku": "MUG", "available": 1}])
    from tradewind.integrations.shopify import ShopifyConnector

    with world.hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Shopify B")
        second = plugins.add_plugin(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            name=other.name,
            config={
                "store_url": f"https://{other.name}.myshopify.com",
                "access_token": other.token,
                "webhook_secret": "sandbox-secret",
                "sandbox_url": world.sandbox.base_url,
            },
        )
        plugins.attach(session, second.id, channel.id)
        plugins.set_toggle(session, ShopifyConnector.info, second.id, Toggle.IMPORT_ORDERS, True)
        plugins.update_import_rules(session, second.id, {"ignore_financial_status": True})
    actions.activate(world.hub, second.id)
    world.harness.run(second.id)
    with world.hub.db.read() as session:
        first_locations = {m.external_id for m in links.location_mappings(session, world.plugin_id)}
        second_locations = {m.external_id for m in links.location_mappings(session, second.id)}
        assert first_locations.isdisjoint(second_locations)
    unpaid_a = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid")
    unpaid_b = world.sandbox.place_order(other.name, [("MUG", 1)], kind="unpaid")
    world.settle()

    def second_imported() -> bool:
        world.harness.run(second.id)
        with world.hub.db.read() as session:
            return orders.find_imported(session, second.id, str(unpaid_b["id"])) is not None

    world.settle(second_imported)
    with world.hub.db.read() as session:
        assert orders.find_imported(session, world.plugin_id, str(unpaid_a["id"])) is None
        b = orders.find_imported(session, second.id, str(unpaid_b["id"]))
        assert b is not None and b.channel_id == channel.id
