"""Stock out to Shopify (issue 5, points 2 and 6): available, not on-hand; mapped
locations only; absolute with compare-and-set, delta, echoes recognised."""

from __future__ import annotations

from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sandbox.shopify.control import ShopPatch
from tradewind.sync.models import InboxDelivery
from tradewind.vocabulary import StockMode


def _level(world: World, sku: str, location_id: int | None = None) -> int | None:
    state = world.sandbox.state(world.shop)
    items = {v["sku"]: v["inventory_item_id"] for p in state["products"] for v in p["variants"]}
    location = location_id or world.location_id()
    for level in state["inventory_levels"]:
        if level["inventory_item_id"] == items[sku] and level["location_id"] == location:
            return int(level["available"])
    return None


def _product(world: World, sku: str) -> int:
    with world.hub.db.read() as session:
        found = catalog.find_by_sku(session, sku)
        assert found is not None
        return found.id


def _move(world: World, sku: str, delta: int) -> None:
    with world.hub.db.unit_of_work() as session:
        product = _product(world, sku)
        if delta > 0:
            inventory.receive(session, product, world.warehouse_id, delta)
        else:
            inventory.pick(session, product, world.warehouse_id, -delta)


def test_available_minus_reserved_and_buffer_goes_to_mapped_locations_only(
    world: World,
) -> None:
    popup = world.sandbox.add_location(world.shop, "Pop-up")
    world.sandbox.set_stock(world.shop, "MUG", 5, location_id=popup["id"])
    actions.activate(world.hub, world.plugin_id)  # re-reads locations: the pop-up appears
    world.settle()
    with world.hub.db.read() as session:
        unmapped = [
            m for m in links.location_mappings(session, world.plugin_id) if m.warehouse_id is None
        ]
        assert [m.external_id for m in unmapped] == [str(popup["id"])]
    actions.set_stock_mode(world.hub, world.plugin_id, buffer=2)
    with world.hub.db.unit_of_work() as session:
        inventory.set_reservation(session, "hold", _product(world, "MUG"), world.warehouse_id, 4)
    world.settle(lambda: _level(world, "MUG") == 20 - 4 - 2)
    assert _level(world, "MUG", popup["id"]) == 5  # never touched


def test_a_stale_value_is_re_read_and_set_once_more(world: World) -> None:
    world.sandbox.set_stock(world.shop, "MUG", 50)  # someone changed it on Shopify
    _move(world, "MUG", -1)
    world.settle(lambda: _level(world, "MUG") == 19)
    with world.hub.db.read() as session:
        calls = [
            e.operation for e in reversed(executions.recent(session, world.plugin_id, limit=5))
        ]
    assert calls[-3:] == ["inventory.set", "inventory.read", "inventory.set"]


def test_delta_mode_sends_only_the_change_since_the_last_push(world: World) -> None:
    actions.set_stock_mode(world.hub, world.plugin_id, mode=StockMode.DELTA)
    world.sandbox.set_stock(world.shop, "PLATE", 100)  # Shopify's own count differs
    _move(world, "PLATE", -3)
    world.settle(lambda: _level(world, "PLATE") == 97)
    _move(world, "PLATE", 5)
    world.settle(lambda: _level(world, "PLATE") == 102)


def test_own_echoes_are_ignored_and_outside_changes_are_corrected(world: World) -> None:
    world.sandbox.control.patch_shop(world.shop, ShopPatch(echo_own_inventory_updates=True))
    _move(world, "MUG", -2)
    world.settle(lambda: _level(world, "MUG") == 18)
    world.settle(lambda: _outcomes(world) != [])
    assert all("our own push" in outcome for outcome in _outcomes(world))
    world.sandbox.set_stock(world.shop, "MUG", 40)  # a change made on Shopify
    world.settle(lambda: any("changed on the platform" in o for o in _outcomes(world)))
    world.settle(lambda: _level(world, "MUG") == 18)  # Tradewind is the stock master


def _outcomes(world: World) -> list[str]:
    with world.hub.db.read() as session:
        return [
            row.outcome
            for row in session.scalars(
                select(InboxDelivery).where(InboxDelivery.topic == "inventory_levels/update")
            )
            if row.processed_at is not None
        ]


def test_an_unmapped_product_is_not_pushed_and_says_so(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        lamp = catalog.create_product(session, ProductIn(sku="LAMP", title="Lamp"))
        inventory.receive(session, lamp.id, world.warehouse_id, 3)
    world.settle()
    with world.hub.db.read() as session:
        (note,) = notifications.open_notifications(
            session, plugin_id=world.plugin_id, kind=NotificationKind.MISSING_PRODUCT
        )
        assert "not mapped" in note.message
