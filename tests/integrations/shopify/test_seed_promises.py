"""Promises of the product documents that only tests keep (issue 18, part 4), end to end
against the Shopify sandbox over real HTTP:

* seed 001 step 1: once Import Orders is switched on, the orders placed since then arrive
  with no manual step — by webhook, and by the reconciliation poll when a webhook is lost;
* seed 003: POS orders imported to one generic customer keep each buyer's contact and
  delivery address on the order;
* seed 003: a plugin with no channel location says "choose a channel location: stock
  does not sync until you do", and the notice goes once a location is mapped (its stock
  then goes out at once).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sync.models import SyncSchedule
from tradewind.sync.stock import LOCATIONS_SUBJECT
from tradewind.vocabulary import Toggle


def _order(world: World, external_id: object) -> Order | None:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id))


def _switch(world: World, toggle: Toggle, on: bool) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, on)


def test_orders_placed_after_import_orders_is_switched_on_arrive_by_themselves(
    world: World,
) -> None:
    _switch(world, Toggle.IMPORT_ORDERS, False)
    world.settle()  # the order topics are dropped from the subscriptions
    before = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    assert _order(world, before["id"]) is None

    _switch(world, Toggle.IMPORT_ORDERS, True)
    world.settle()  # the subscriptions are checked again: nobody presses Sync now
    topics = {hook["topic"] for hook in world.sandbox.state(world.shop)["webhooks"]}
    assert "orders/create" in topics
    by_webhook = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, by_webhook["id"]) is not None)

    # A webhook lost on the way: the scheduled reconciliation poll brings the order.
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    by_poll = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.settle()
    assert _order(world, by_poll["id"]) is None
    _schedule_is_due(world)
    world.harness.sweep()  # the reconciler's turn, as every worker runs it every few seconds
    world.settle(lambda: _order(world, by_poll["id"]) is not None)


def _schedule_is_due(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        session.execute(
            update(SyncSchedule)
            .where(SyncSchedule.plugin_id == world.plugin_id)
            .values(next_run_at=utcnow() - dt.timedelta(seconds=1))
        )


def test_pos_orders_on_the_generic_customer_keep_each_buyers_contact_and_address(
    world: World,
) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"pos_orders": "generic"})
    buyers = [
        (
            {"email": "one@example.com", "first_name": "Ann", "last_name": "One"},
            {
                "first_name": "Ann",
                "last_name": "One",
                "address1": "1 Elm St",
                "city": "Salem",
                "zip": "97301",
                "province_code": "OR",
                "country_code": "US",
            },
        ),
        (
            {"email": "two@example.com", "first_name": "Bo", "last_name": "Two"},
            {
                "first_name": "Bo",
                "last_name": "Two",
                "address1": "2 Oak Ave",
                "city": "Boise",
                "zip": "83702",
                "province_code": "ID",
                "country_code": "US",
            },
        ),
    ]
    placed = [
        world.sandbox.place_order(
            world.shop,
            [("MUG", 1)],
            kind="pos",
            location_id=world.location_id(),
            customer=customer,
            shipping_address=address,
        )
        for customer, address in buyers
    ]
    world.settle(lambda: all(_order(world, p["id"]) is not None for p in placed))
    imported = [_order(world, p["id"]) for p in placed]
    assert imported[0] is not None and imported[1] is not None
    assert imported[0].customer_id == imported[1].customer_id is not None  # one generic
    for order, (customer, address) in zip(imported, buyers, strict=True):
        assert order is not None and order.email == customer["email"]
        shipped_to = order.shipping_address or {}
        assert shipped_to.get("address1") == address["address1"]
        assert shipped_to.get("city") == address["city"]
        assert shipped_to.get("postal_code") == address["zip"]


def _location_notices(world: World) -> list[Notification]:
    with world.hub.db.read() as session:
        return [
            note
            for note in notifications.open_notifications(
                session, plugin_id=world.plugin_id, kind=NotificationKind.CONFIGURATION
            )
            if LOCATIONS_SUBJECT in (note.subject or "") or "channel location" in note.message
        ]


def test_a_plugin_without_a_channel_location_is_told_and_stock_goes_once_one_is_mapped(
    world: World,
) -> None:
    location = str(world.location_id())
    actions.map_location(world.hub, world.plugin_id, location, warehouse_id=None)
    (notice,) = _location_notices(world)
    assert "choose a channel location" in notice.message.lower()
    assert "stock does not sync until you do" in notice.message

    # Stock moves while nothing is mapped: nothing goes to the store.
    assert world.stock_disagreements({"MUG", "PLATE"}) == {}
    with world.hub.db.unit_of_work() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        inventory.receive(session, mug.id, world.warehouse_id, 5)
    world.settle()
    assert set(world.stock_disagreements({"MUG"})) == {"MUG"}  # held back: unmapped

    # The location is mapped: the notice resolves and the stock goes out at once.
    actions.map_location(
        world.hub, world.plugin_id, location, warehouse_id=world.warehouse_id, is_default=True
    )
    assert _location_notices(world) == []
    world.settle(lambda: world.stock_disagreements({"MUG", "PLATE"}) == {})
    with world.hub.db.read() as session:
        (mapping,) = [m for m in links.location_mappings(session, world.plugin_id) if m.active]
        assert mapping.warehouse_id == world.warehouse_id
