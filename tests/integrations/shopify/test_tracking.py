"""Tracking and shipments, each toggle its own effect (issue 10, point 13).

Import Tracking brings the platform's carrier, number and URL; Import Shipments also
records a fulfilment made on the platform as a shipment (its items leave stock). Export
Tracking sends a shipment made in Tradewind as a fulfilment; on Shopify, tracking has no
other place, so Export Shipments adds nothing, and the connector says so on the toggle."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tradewind.app.present import toggle_support
from tradewind.core.catalog import service as catalog
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderActivity
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.vocabulary import Toggle


def _order(world: World, external_id: object) -> Order | None:
    with world.hub.db.read() as session:
        found = orders.find_imported(session, world.plugin_id, str(external_id))
        return orders.get_order(session, found.id) if found is not None else None


def _toggle(world: World, toggle: Toggle, on: bool) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, on)


def _fulfil_on_shopify(world: World, order_id: object, number: str) -> dict[str, Any]:
    groups = world.admin("GET", f"orders/{order_id}/fulfillment_orders")["fulfillment_orders"]
    made = world.admin(
        "POST",
        "fulfillments",
        {
            "fulfillment": {
                "tracking_info": {"number": number, "company": "DHL"},
                "line_items_by_fulfillment_order": [{"fulfillment_order_id": groups[0]["id"]}],
            }
        },
    )
    return dict(made["fulfillment"])


def _timeline(world: World, order_id: int) -> list[str]:
    with world.hub.db.read() as session:
        rows = session.scalars(
            select(OrderActivity.message)
            .where(OrderActivity.order_id == order_id)
            .order_by(OrderActivity.id)
        )
        return list(rows)


def _mug_on_hand(world: World) -> int:
    with world.hub.db.read() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        level = inventory.level(session, mug.id, world.warehouse_id)
        assert level is not None
        return level.on_hand


def test_import_tracking_alone_brings_tracking_and_records_no_shipment(world: World) -> None:
    _toggle(world, Toggle.IMPORT_SHIPMENTS, False)
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    on_hand = _mug_on_hand(world)
    _fulfil_on_shopify(world, placed["id"], "DHL-TRACK-1")
    order = _order(world, placed["id"])
    assert order is not None
    world.settle(lambda: any("DHL-TRACK-1" in line for line in _timeline(world, order.id)))
    world.settle()
    with world.hub.db.read() as session:
        assert session.scalars(select(Shipment)).all() == []  # Import Shipments is off
    assert _mug_on_hand(world) == on_hand  # nothing left a warehouse in Tradewind
    assert sum("DHL-TRACK-1" in line for line in _timeline(world, order.id)) == 1  # once


def test_import_shipments_records_the_platforms_fulfilment_as_a_shipment(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    on_hand = _mug_on_hand(world)
    _fulfil_on_shopify(world, placed["id"], "DHL-SHIP-1")
    world.settle(lambda: _mug_on_hand(world) == on_hand - 1)  # the unit left, here too
    with world.hub.db.read() as session:
        (shipment,) = session.scalars(select(Shipment)).all()
        assert (shipment.tracking_number, len(shipment.lines)) == ("DHL-SHIP-1", 1)


def test_import_tracking_updates_a_shipment_tradewind_sent(world: World) -> None:
    """The number of a shipment Tradewind sent is corrected on Shopify: the shipment here
    follows (and its fulfilment is not sent again)."""
    placed = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    order = _order(world, placed["id"])
    assert order is not None
    with world.hub.db.unit_of_work() as session:
        made = shipments.create_shipment(
            session, order.id, ShipmentIn(carrier="UPS", tracking_number="1Z-TYPO")
        )
    world.settle(lambda: _external_id(world, made.id) is not None)
    remote = _external_id(world, made.id)
    world.admin(
        "POST",
        f"fulfillments/{remote}/update_tracking",
        {"fulfillment": {"tracking_info": {"number": "1Z-RIGHT", "company": "UPS"}}},
    )
    world.settle(lambda: _tracking(world, made.id) == "1Z-RIGHT")
    assert len(world.admin("GET", f"orders/{placed['id']}/fulfillments")["fulfillments"]) == 1


def _external_id(world: World, shipment_id: int) -> str | None:
    with world.hub.db.read() as session:
        found = session.get(Shipment, shipment_id)
        return found.external_id if found is not None else None


def _tracking(world: World, shipment_id: int) -> str:
    with world.hub.db.read() as session:
        found = session.get(Shipment, shipment_id)
        assert found is not None
        return found.tracking_number


def test_export_tracking_alone_sends_the_shipment_and_the_toggles_say_so(world: World) -> None:
    """Export Tracking (Export Shipments off, as in the world) sends the shipment with its
    items; the connector declares that Export Shipments is the same thing on Shopify,
    and the toggle says so."""
    assert Toggle.EXPORT_SHIPMENTS not in world.plugin().toggles
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    order = _order(world, placed["id"])
    assert order is not None
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order.id, ShipmentIn(tracking_number="T-ONLY"))
    found: list[dict[str, Any]] = []

    def fulfilled() -> bool:
        found[:] = world.admin("GET", f"orders/{placed['id']}/fulfillments")["fulfillments"]
        return found != []

    world.settle(fulfilled)
    assert [(i["sku"], i["quantity"]) for i in found[0]["line_items"]] == [("MUG", 2)]
    world.settle()  # its webhooks come back: the same tracking, nothing "changed"
    assert not any("changed on the platform" in line for line in _timeline(world, order.id))
    notes = {t.toggle: t.note for t in toggle_support(ShopifyConnector.info)}
    assert "Export Tracking" in notes[Toggle.EXPORT_SHIPMENTS]
    assert "timeline" in notes[Toggle.IMPORT_TRACKING]
