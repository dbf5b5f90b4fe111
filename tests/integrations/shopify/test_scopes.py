"""Permissions (issue 10, point 12): what Test connection calls enough is enough. The
scopes come from what the plugin does — its toggles, its order rules (close, cancel),
its webhook topics, a backfill past Shopify's 60-day window — and the sandbox refuses a
call without its scope as Shopify does, so each test shows the call itself succeed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector, scopes
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sandbox.shopify.state import ALL_SCOPES
from tradewind.sync.models import BackfillState


def _use_token(world: World, granted: set[str]) -> None:
    token = world.sandbox.issue_token(world.shop, app_key="tw-app", scopes=sorted(granted))
    with world.hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            world.plugin_id,
            {"access_token": token},
        )


def _ship_all(world: World, sku: str) -> str:
    placed = world.sandbox.place_order(world.shop, [(sku, 1)])
    external_id = str(placed["id"])
    world.settle(lambda: _imported(world, external_id) is not None)
    order_id = _imported(world, external_id)
    assert order_id is not None
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn(tracking_number=f"T-{sku}"))
    world.settle(lambda: _closes(world, external_id) != [])
    return external_id


def _imported(world: World, external_id: str) -> int | None:
    with world.hub.db.read() as session:
        found = orders.find_imported(session, world.plugin_id, external_id)
        return found.id if found is not None else None


def _closes(world: World, external_id: str) -> list[bool]:
    """Each ``orderClose`` sent for the order, with whether the store's order is closed."""
    sent = [
        r
        for r in world.sandbox.requests(world.shop, "graphql.json")
        if "orderClose" in r.body["query"]
        and r.body["variables"]["input"]["id"] == f"gid://shopify/Order/{external_id}"
    ]
    state = world.sandbox.state(world.shop)
    order = next(o for o in state["orders"] if str(o["id"]) == external_id)
    return [bool(order["closed_at"])] * len(sent)


def test_closing_orders_needs_write_orders_and_test_connection_says_so(world: World) -> None:
    plugin = world.plugin()
    toggles = plugin.toggles
    enough_before = set(
        scopes.needed(toggles, (), ShopifyConnector.info.topics_for(toggles))
    )  # what the toggles alone need
    _use_token(world, enough_before)
    assert actions.test_connection(world.hub, world.plugin_id).ok
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"close_orders": True})
    report = actions.test_connection(world.hub, world.plugin_id)
    assert not report.ok and report.missing_scopes == ("write_orders",)
    assert _closes(world, _ship_all(world, "MUG")) == [False]  # Shopify would refuse it too
    _use_token(world, enough_before | set(report.missing_scopes))
    assert actions.test_connection(world.hub, world.plugin_id).ok
    assert _closes(world, _ship_all(world, "PLATE")) == [True]  # "ok" means closing works


def test_cancelling_on_the_platform_needs_write_orders(world: World) -> None:
    toggles = world.plugin().toggles
    _use_token(world, set(scopes.needed(toggles, (), ShopifyConnector.info.topics_for(toggles))))
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"cancel_on_platform": True})
    report = actions.test_connection(world.hub, world.plugin_id)
    assert report.missing_scopes == ("write_orders",)


def test_sending_returns_to_the_store_needs_write_orders(world: World) -> None:
    toggles = world.plugin().toggles
    _use_token(world, set(scopes.needed(toggles, (), ShopifyConnector.info.topics_for(toggles))))
    assert actions.test_connection(world.hub, world.plugin_id).ok
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"export_returns": True})
    report = actions.test_connection(world.hub, world.plugin_id)
    assert report.missing_scopes == ("write_orders",)  # refundCreate


def test_a_backfill_past_sixty_days_needs_read_all_orders(world: World) -> None:
    """Without ``read_all_orders`` Shopify leaves older orders out of every list: such a
    backfill stops, failed, with a notification naming the scope, instead of importing
    part of the range as if it were all of it."""
    old = world.sandbox.place_order(
        world.shop, [("MUG", 1)], placed_at=utcnow() - dt.timedelta(days=80)
    )
    world.settle()  # its webhook came: placed before the plugin was enabled, not imported
    assert _imported(world, str(old["id"])) is None
    _use_token(world, set(ALL_SCOPES) - {"read_all_orders"})
    report = actions.test_connection(world.hub, world.plugin_id)
    assert report.ok and "read_all_orders" in report.detail  # said up front
    start, end = utcnow() - dt.timedelta(days=90), utcnow()
    refused = actions.start_backfill(world.hub, world.plugin_id, start, end)
    world.settle()
    assert actions.backfill_progress(world.hub, refused.id).state is BackfillState.FAILED
    with world.hub.db.read() as session:
        messages = session.scalars(
            select(Notification.message).where(
                Notification.kind == NotificationKind.RECORD_REJECTED,
                Notification.plugin_id == world.plugin_id,
            )
        ).all()
    assert any("read_all_orders" in message for message in messages), messages
    recent = actions.start_backfill(world.hub, world.plugin_id, end - dt.timedelta(days=30), end)
    world.settle()
    assert actions.backfill_progress(world.hub, recent.id).state is BackfillState.DONE
    _use_token(world, set(ALL_SCOPES))
    granted = actions.start_backfill(world.hub, world.plugin_id, start, end)
    world.settle()
    assert actions.backfill_progress(world.hub, granted.id).state is BackfillState.DONE
    assert _imported(world, str(old["id"])) is not None  # the 80-day-old order is in


def test_a_refused_webhook_subscription_says_what_failed(world: World) -> None:
    """Each topic is subscribed even when Shopify refuses one, and the notification names
    the topic, the address it was given and the scope it needs (not the webhook secret)."""
    for hook in world.sandbox.state(world.shop)["webhooks"]:
        world.admin("DELETE", f"webhooks/{hook['id']}")
    _use_token(world, set(ALL_SCOPES) - {"read_fulfillments", "write_fulfillments"})
    assert actions.check_webhooks(world.hub) == 1
    world.settle()
    topics = {hook["topic"] for hook in world.sandbox.state(world.shop)["webhooks"]}
    assert "app/uninstalled" in topics and "inventory_levels/update" in topics
    assert "fulfillments/create" not in topics
    with world.hub.db.read() as session:
        (message,) = session.scalars(
            select(Notification.message).where(
                Notification.kind == NotificationKind.RECORD_REJECTED,
                Notification.plugin_id == world.plugin_id,
            )
        ).all()
    address = f"{world.hub.settings.base_url}/hooks/{world.plugin_id}/fulfillments/create"
    assert "fulfillments/create" in message and address in message
    assert "read_fulfillments" in message and "secret" not in message
