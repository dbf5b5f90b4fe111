"""The gap report against the Shopify sandbox over real HTTP (issue 15, "What must be
shown"): with the sandbox dropping webhooks and no poll running, the report finds exactly
the orders whose webhooks were dropped — the rest it counts as imported, skipped by the
rules or waiting on a hold — and its backfill imports exactly those."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tests.sync.conftest import time_passes
from tradewind.connectors.base import ImportsOrders
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import OrderQuery
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sandbox.shopify.faults import FaultKind
from tradewind.sync import decisions, gaps
from tradewind.sync.decisions import Decision
from tradewind.sync.runtime import CallBuffer, open_connector


def _held(world: World) -> set[str]:
    with world.hub.db.read() as session:
        return {
            str(order.external_id)
            for order in session.scalars(select(Order).where(Order.plugin_id == world.plugin_id))
        }


def _order_lists(world: World) -> int:
    """How many times the store's order list was read (a poll, a probe, a report)."""
    return sum(
        1
        for request in world.sandbox.requests(world.shop, "orders.json")
        if request.method == "GET" and request.path == "orders.json"
    )


def _dropped(world: World) -> set[str]:
    """The orders whose orders/create delivery the sandbox dropped."""
    return {
        str(json.loads(delivery.body)["id"])
        for delivery in world.sandbox.deliveries(world.shop)
        if delivery.state == "dropped" and delivery.topic == "orders/create"
    }


def _report(world: World) -> gaps.GapReport:
    with world.hub.db.unit_of_work() as session:
        gaps.request_report(session, world.plugin_id, utcnow().date())
    world.settle()
    with world.hub.db.read() as session:
        (report,) = gaps.reports(session, world.plugin_id)
        session.expunge(report)
        return report


def _missing_notice(world: World) -> Notification:
    with world.hub.db.read() as session:
        (notice,) = session.scalars(
            select(Notification).where(
                Notification.plugin_id == world.plugin_id,
                Notification.kind == NotificationKind.ORDERS_MISSING,
            )
        )
        session.expunge(notice)
        return notice


def test_the_report_finds_exactly_the_dropped_orders_and_imports_exactly_those(
    world: World,
) -> None:
    arrived = [str(world.sandbox.place_order(world.shop, [("MUG", 1)])["id"]) for _ in range(2)]
    held = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.sandbox.hold_order(world.shop, held["id"])
    world.settle(lambda: set(arrived) <= _held(world))
    lists = _order_lists(world)

    world.sandbox.inject_fault(world.shop, FaultKind.drop_webhooks, count=None)
    try:
        lost = [str(world.sandbox.place_order(world.shop, [("MUG", 1)])["id"]) for _ in range(3)]
        unpaid = str(world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid")["id"])
        world.settle()
    finally:
        world.sandbox.clear_faults(world.shop)
    assert _dropped(world) == {*lost, unpaid}  # removed from the webhook stream
    assert _order_lists(world) == lists  # and no poll or probe read the list meanwhile
    assert _held(world) == set(arrived)

    report = _report(world)
    assert report.on_platform == 7
    assert (report.imported, report.skipped, report.waiting, report.failed) == (2, 1, 1, 0)
    assert report.reasons == {"unpaid": 1}  # the rules skip it: not a gap
    assert report.missing == 3
    assert {found["id"] for found in report.missing_orders} == set(lost)
    notice = _missing_notice(world)
    assert notice.resolved_at is None and "3 order(s)" in notice.message

    with world.hub.db.unit_of_work() as session:
        assert gaps.import_missing(session, world.plugin_id, report.day) == 3
    world.settle(lambda: set(lost) <= _held(world))
    assert _held(world) == {*arrived, *lost}  # exactly those: not the unpaid, not the held
    with world.hub.db.read() as session:
        for external_id in lost:
            found = decisions.latest(session, world.plugin_id, external_id)
            assert found is not None and found.decision is Decision.IMPORTED

    # The day judged again from the store's list: nothing missing, the notice resolved.
    # (Read here directly: the engine's second report of the day, at background priority,
    # waits for the REST budget this test's many calls have spent.)
    time_passes(world.hub)
    records = _day_on_the_store(world)
    with world.hub.db.unit_of_work() as session:
        again = gaps.record_report(session, world.plugin_id, report.day, records)
        assert (again.imported, again.missing, again.waiting) == (5, 0, 1)
    assert _missing_notice(world).resolved_at is not None


def _day_on_the_store(world: World) -> list[Any]:
    """Today's orders as the plugin's connector lists them, every page."""
    since, until = gaps.window(utcnow().date())
    with world.hub.db.read() as session:
        plugin = plugins.get_plugin(session, world.plugin_id)
    connector = open_connector(world.hub, plugin, CallBuffer())
    records: list[Any] = []
    cursor: str | None = None
    try:
        assert isinstance(connector, ImportsOrders)
        while True:
            page = connector.list_orders(
                OrderQuery(field="created_at", since=since, until=until), cursor, Priority.LIVE
            )
            records.extend(page.records)
            cursor = page.next_cursor
            if cursor is None:
                return records
    finally:
        connector.close()
