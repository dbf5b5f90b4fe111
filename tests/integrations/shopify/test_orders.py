"""Orders in from Shopify (issue 5, points 4 and 5): webhooks re-read by id, the
reconciliation poll, the filters, POS and customer policies, backfill, and problems that
become notifications."""

from __future__ import annotations

import datetime as dt
from typing import cast
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.vocabulary import FinancialStatus, OrderSource, OrderStatus


def _order(world: World, external_id: object) -> Order | None:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id))


def _count(world: World) -> int:
    with world.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def _poll(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, "orders")
    world.settle()


def _open(world: World, kind: NotificationKind) -> list[notifications.Notification]:
    with world.hub.db.read() as session:
        return notifications.open_notifications(session, plugin_id=world.plugin_id, kind=kind)


def test_webhooks_were_registered_and_are_repaired_when_removed(world: World) -> None:
    hooks = world.sandbox.state(world.shop)["webhooks"]
    topics = {hook["topic"] for hook in hooks}
    assert {
        "orders/create",
        "orders/paid",
        "orders/cancelled",
        "orders/updated",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "app/uninstalled",
    } <= topics
    assert all(hook["address"].startswith(world.hub.settings.base_url) for hook in hooks)
    removed = next(hook for hook in hooks if hook["topic"] == "orders/paid")
    world.admin("DELETE", f"webhooks/{removed['id']}")  # as Shopify does after failures
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.ENSURE_WEBHOOKS)
    world.settle()
    assert "orders/paid" in {hook["topic"] for hook in world.sandbox.state(world.shop)["webhooks"]}


def test_subscriptions_left_on_an_old_address_are_moved_and_others_left_alone(
    world: World,
) -> None:
    """Tradewind's public address changed (another port): its subscriptions at the old
    address are removed and re-made at the new one; another system's stay."""
    hooks = world.sandbox.state(world.shop)["webhooks"]
    ours = next(hook for hook in hooks if hook["topic"] == "orders/create")
    path = urlsplit(ours["address"]).path.replace("orders/create", "orders/cancelled")
    stale = world.admin(
        "POST",
        "webhooks",
        {"webhook": {"topic": "orders/cancelled", "address": f"http://127.0.0.1:9{path}"}},
    )
    foreign = world.admin(
        "POST",
        "webhooks",
        {"webhook": {"topic": "orders/create", "address": "http://127.0.0.1:9/erp/orders"}},
    )
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.ENSURE_WEBHOOKS)
    world.settle()
    now = {hook["id"]: hook for hook in world.sandbox.state(world.shop)["webhooks"]}
    assert stale["webhook"]["id"] not in now
    assert foreign["webhook"]["id"] in now
    assert ours["id"] in now
    cancelled = [hook["address"] for hook in now.values() if hook["topic"] == "orders/cancelled"]
    assert cancelled == [f"{world.hub.settings.base_url}{path}"]


def test_starting_the_web_process_queues_a_webhook_check_for_running_plugins(
    world: World,
) -> None:
    assert actions.check_webhooks(world.hub) == 1
    with world.hub.db.read() as session:
        assert ledger.depth(session, world.plugin_id).get(WorkKind.ENSURE_WEBHOOKS) == 1
    with world.hub.db.unit_of_work() as session:
        plugins.deactivate(session, world.plugin_id)
    assert actions.check_webhooks(world.hub) == 0


def test_duplicated_and_reordered_webhooks_import_each_order_once(world: World) -> None:
    world.sandbox.inject_fault(world.shop, "duplicate_webhooks", count=None)
    world.sandbox.inject_fault(world.shop, "reorder_webhooks", count=2)
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.admin(
        "PUT",
        f"orders/{placed['id']}",  # a late edit: orders/updated
        {"order": {"id": placed["id"], "note": "gift wrap please"}},
    )
    world.settle(lambda: _order(world, placed["id"]) is not None)
    world.sandbox.clear_faults(world.shop)
    world.settle()
    order = _order(world, placed["id"])
    assert order is not None
    assert order.note == "gift wrap please"  # the re-read is the truth, whatever the order
    assert order.financial_status is FinancialStatus.PAID
    assert _count(world) == 1
    deliveries = world.sandbox.deliveries(world.shop)
    assert sum(len(d.attempts) for d in deliveries) > len(deliveries)  # really sent twice


def test_dropped_webhooks_are_caught_by_the_reconciliation_poll(world: World) -> None:
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    placed = [world.sandbox.place_order(world.shop, [("PLATE", 1)]) for _ in range(3)]
    world.settle()
    assert _count(world) == 0
    _poll(world)
    assert sorted(cast(str, o.external_id) for o in _all(world)) == sorted(
        str(p["id"]) for p in placed
    )


def _all(world: World) -> list[Order]:
    with world.hub.db.read() as session:
        return orders.list_orders(session, limit=10_000)


def test_unpaid_test_and_pos_orders_follow_the_rules(world: World) -> None:
    unpaid = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid")
    test = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="test")
    pos = world.sandbox.place_order(
        world.shop, [("MUG", 1)], kind="pos", location_id=world.location_id()
    )
    world.settle()
    assert _order(world, unpaid["id"]) is None  # only paid orders, unless told otherwise
    assert _order(world, test["id"]) is None
    imported = _order(world, pos["id"])
    assert imported is not None and imported.source is OrderSource.POS
    world.sandbox.advance_payment(world.shop, unpaid["id"], "paid")  # orders/paid re-reads it
    world.settle(lambda: _order(world, unpaid["id"]) is not None)
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(
            session, world.plugin_id, {"pos_orders": "skip", "import_test_orders": True}
        )
    second_pos = world.sandbox.place_order(
        world.shop, [("MUG", 1)], kind="pos", location_id=world.location_id()
    )
    second_test = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="test")
    world.settle(lambda: _order(world, second_test["id"]) is not None)
    assert _order(world, second_pos["id"]) is None


def test_pos_orders_to_one_generic_customer(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"pos_orders": "generic"})
    first = world.sandbox.place_order(
        world.shop,
        [("MUG", 1)],
        kind="pos",
        location_id=world.location_id(),
        customer={"email": "one@example.com", "first_name": "A"},
    )
    second = world.sandbox.place_order(
        world.shop,
        [("MUG", 1)],
        kind="pos",
        location_id=world.location_id(),
        customer={"email": "two@example.com", "first_name": "B"},
    )
    world.settle(lambda: _order(world, second["id"]) is not None)
    a, b = _order(world, first["id"]), _order(world, second["id"])
    assert a is not None and b is not None
    assert a.customer_id == b.customer_id is not None


def test_withheld_customer_data_flags_the_order_or_uses_the_generic_customer(
    world: World,
) -> None:
    world.sandbox.withhold_customer_data(world.shop)
    flagged = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, flagged["id"]) is not None)
    order = _order(world, flagged["id"])
    assert order is not None and "email" in order.missing_customer_fields
    assert _open(world, NotificationKind.MISSING_CUSTOMER_FIELDS)
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"pos_orders": "generic"})
    generic = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, generic["id"]) is not None)
    imported = _order(world, generic["id"])
    assert imported is not None and imported.customer_id is not None


def test_only_orders_of_the_chosen_location(world: World) -> None:
    other = world.sandbox.add_location(world.shop, "Pop-up")
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(
            session, world.plugin_id, {"only_location": str(world.location_id())}
        )
    here = world.sandbox.place_order(
        world.shop, [("MUG", 1)], kind="pos", location_id=world.location_id()
    )
    there = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="pos", location_id=other["id"])
    world.settle(lambda: _order(world, here["id"]) is not None)
    assert _order(world, there["id"]) is None


def test_updates_and_cancellations_flow_into_the_order_and_release_stock(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 3)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    with world.hub.db.read() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        level = inventory.level(session, mug.id, world.warehouse_id)
        assert level is not None and level.reserved == 3
    world.admin("POST", f"orders/{placed['id']}/cancel", {})
    world.settle(
        lambda: (o := _order(world, placed["id"])) is not None and o.status is OrderStatus.CANCELLED
    )
    with world.hub.db.read() as session:
        level = inventory.level(session, mug.id, world.warehouse_id)
        assert level is not None and level.reserved == 0


def test_an_unknown_sku_keeps_the_order_until_the_product_exists(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1), ("LAMP-1", 2)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    order = _order(world, placed["id"])
    assert order is not None and order.missing_product
    (note,) = _open(world, NotificationKind.MISSING_PRODUCT)
    assert "LAMP-1" in note.subject
    with world.hub.db.unit_of_work() as session:
        catalog.create_product(session, ProductIn(sku="LAMP-1", title="Lamp"))
    order = _order(world, placed["id"])
    assert order is not None and not order.missing_product
    assert _open(world, NotificationKind.MISSING_PRODUCT) == []


def test_orders_before_the_plugin_was_enabled_import_only_by_backfill(world: World) -> None:
    old = [world.sandbox.place_order(world.shop, [("MUG", 1)]) for _ in range(3)]
    world.settle()
    with world.hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, world.plugin_id)
        plugin.enabled_at = utcnow() + dt.timedelta(seconds=30)  # enabled after them
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    with world.hub.db.unit_of_work() as session:  # forget what the webhooks brought
        for order in orders.list_orders(session):
            session.delete(order)
    _poll(world)
    assert _count(world) == 0  # the poll sees them but they predate the plugin
    run = actions.start_backfill(
        world.hub, world.plugin_id, utcnow() - dt.timedelta(hours=1), utcnow()
    )
    world.settle()
    progress = actions.backfill_progress(world.hub, run.id)
    assert progress.state.value == "done" and progress.imported == 3
    assert sorted(cast(str, o.external_id) for o in _all(world)) == sorted(
        str(p["id"]) for p in old
    )


def test_an_import_conflict_stops_import_with_a_notification(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        second = channels.create_channel(session, "Shopify EU")
        answer = plugins.attach(session, world.plugin_id, second.id)
        assert answer.import_conflict is not None
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    assert _order(world, placed["id"]) is None
    assert _open(world, NotificationKind.IMPORT_CONFLICT)
    with world.hub.db.unit_of_work() as session:
        plugins.detach(session, world.plugin_id, second.id)
    _poll(world)
    assert _order(world, placed["id"]) is not None


def test_the_same_store_cannot_feed_two_channels(world: World) -> None:
    from tradewind.errors import Conflict
    from tradewind.integrations.shopify import ShopifyConnector
    from tradewind.vocabulary import Toggle

    with world.hub.db.unit_of_work() as session:
        twin = plugins.add_plugin(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            name="twin",
            config={
                "store_url": f"https://{world.shop}.myshopify.com",
                "access_token": world.token,
                "sandbox_url": world.sandbox.base_url,
            },
        )
    with pytest.raises(Conflict, match=world.shop), world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, twin.id, Toggle.IMPORT_ORDERS, True)


@pytest.mark.parametrize("rule", [True, False], ids=["cancel-there", "leave-open"])
def test_an_imported_order_cancelled_here_is_cancelled_there_when_the_rules_say_so(
    world: World, rule: bool
) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"cancel_on_platform": rule})
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    order = _order(world, placed["id"])
    assert order is not None
    with world.hub.db.unit_of_work() as session:
        orders.cancel_order(session, order.id, "out of stock")
    world.settle()
    world.settle()  # orders/cancelled came back: recognised, not sent again
    stored = world.admin("GET", f"orders/{placed['id']}")["order"]
    assert bool(stored["cancelled_at"]) is rule
    kinds = world.activities(order.id)
    assert kinds.count("cancelled_there") == (1 if rule else 0)
    assert ("not_cancelled_there" in kinds) is not rule
    with world.hub.db.read() as session:
        cancels = session.scalar(
            select(func.count()).select_from(SyncWork).where(SyncWork.kind == WorkKind.CANCEL_ORDER)
        )
    assert cancels == (1 if rule else 0)
    assert _count(world) == 1
    world.settle()
    assert world.stock_disagreements(("MUG",)) == {}  # the store's release is corrected
