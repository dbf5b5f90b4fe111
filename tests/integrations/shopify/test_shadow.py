"""Shadow mode against the Shopify sandbox (issue 15, part 6): a plugin made in shadow
reads orders, products and stock as a live one does, and the store receives no write
while Tradewind holds no order and no customer from it; the go-live report says what
would have happened, figure by figure, and what waits; going live makes it a plugin like
any other from that moment, and what waited goes out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World, make_world
from tradewind.app import actions, doctor
from tradewind.core.customers.models import Customer
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sync import decisions, ledger, shadow
from tradewind.sync.decisions import Decision, SeenBy
from tradewind.sync.models import WorkKind
from tradewind.sync.shadow import (
    CustomerGap,
    GoLiveReport,
    SkippedOrder,
    StockDifference,
    WaitingWork,
)
from tradewind.vocabulary import Toggle


@pytest.fixture
def shadow_world(sandbox: ShopifySandbox, sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    with make_world(sandbox, sqlite_url, tmp_path, shadow=True) as built:
        yield built


def writes(world: World) -> list[str]:
    """The Admin API requests that change the store: REST writes and GraphQL mutations,
    except webhook subscriptions (how the plugin hears about orders at all)."""
    found = []
    for request in world.sandbox.requests(world.shop):
        if request.path.startswith("webhooks"):
            continue
        body: Any = request.body
        query = str(body.get("query", "")) if isinstance(body, dict) else ""
        if request.path.endswith("graphql.json"):
            if query.lstrip().startswith("mutation") and "webhookSubscription" not in query:
                found.append(query.split("(")[0].strip())
        elif request.method != "GET":
            found.append(f"{request.method} {request.path}")
    return found


def report(world: World) -> GoLiveReport:
    with world.hub.db.read() as session:
        return shadow.report(session, world.plugin_id)


def held(world: World) -> tuple[int, int]:
    """How many orders and customers Tradewind holds."""
    with world.hub.db.read() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Order)) or 0),
            int(session.scalar(select(func.count()).select_from(Customer)) or 0),
        )


def store_available(world: World, sku: str) -> int:
    state = world.sandbox.state(world.shop)
    item = next(
        v["inventory_item_id"] for p in state["products"] for v in p["variants"] if v["sku"] == sku
    )
    return next(
        int(level["available"])
        for level in state["inventory_levels"]
        if level["inventory_item_id"] == item and level["location_id"] == world.location_id()
    )


def latest(world: World, external_id: object) -> decisions.ImportDecision:
    with world.hub.db.read() as session:
        found = decisions.latest(session, world.plugin_id, str(external_id))
        assert found is not None
        session.expunge(found)
        return found


def test_a_plugin_in_shadow_writes_nothing_reports_exactly_and_goes_live(
    shadow_world: World,
) -> None:
    world = shadow_world
    assert world.plugin().in_shadow
    earlier = utcnow() - dt.timedelta(seconds=30)  # after shadow began, before going live
    known = world.sandbox.place_order(world.shop, [("MUG", 2)], placed_at=earlier)
    unknown = world.sandbox.place_order(world.shop, [("MUG", 1), ("NOPE-9", 1)], placed_at=earlier)
    guest = world.sandbox.place_order(world.shop, [("PLATE", 1)], guest=True, placed_at=earlier)
    unpaid = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid", placed_at=earlier)
    world.settle(lambda: report(world).orders_seen == 4)
    # What Export Products and Sync now would send is withheld or compared, not sent.
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.EXPORT_PRODUCTS, True
        )
    exported = actions.export_products(world.hub, world.plugin_id)
    world.sandbox.set_stock(world.shop, "PLATE", 20)  # PLATE agrees with Tradewind's 20
    actions.sync_now(world.hub, world.plugin_id)
    world.settle()

    found = report(world)
    mug = store_available(world, "MUG")
    location = str(world.location_id())
    assert mug != 20
    assert (found.shadow, found.orders_seen, found.would_import) == (True, 4, 3)
    assert found.skipped == (
        SkippedOrder(unpaid["name"], str(unpaid["id"]), "unpaid", found.skipped[0].reason),
    )
    assert (found.unmatched_lines, found.unmatched_skus) == (1, ("NOPE-9",))
    assert found.customers_missing_fields == (
        CustomerGap(guest["name"], ("email", "shipping_address")),
    )
    assert found.stock_compared == 2
    assert found.stock_differences == (StockDifference("MUG", location, 20, mug),)
    assert exported == 2 and found.writes_waiting == (WaitingWork("export_product", 2),)
    assert latest(world, known["id"]).decision is Decision.WOULD_IMPORT
    assert latest(world, unpaid["id"]).code == "unpaid"
    asked = doctor.diagnose(world.hub, world.plugin_id, known["name"])
    assert "in shadow" in asked.verdict and asked.exit_code == 0, asked.verdict
    assert (latest(world, known["id"]).decision, latest(world, known["id"]).path) == (
        Decision.WOULD_IMPORT,
        SeenBy.DOCTOR,
    )
    assert writes(world) == []
    assert held(world) == (0, 0)

    before = utcnow()
    live = actions.go_live(world.hub, world.plugin_id)
    assert not live.in_shadow and live.enabled_at is not None and live.enabled_at >= before
    world.settle()
    later = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: held(world)[0] == 1)
    with world.hub.db.read() as session:
        assert orders.find_imported(session, world.plugin_id, str(later["id"])) is not None
    with world.hub.db.unit_of_work() as session:
        for placed in (known, unknown, guest):
            ledger.enqueue(session, world.plugin_id, WorkKind.IMPORT_ORDER, str(placed["id"]))
    world.settle()
    for placed in (known, unknown, guest):
        seen = latest(world, placed["id"])
        assert (seen.decision, seen.code) == (Decision.SKIPPED, "placed_before_enabled")
    assert held(world)[0] == 1
    sent = writes(world)  # live: its stock goes out, and the products that waited
    assert "mutation Set" in sent and len(sent) > sent.count("mutation Set"), sent
    assert report(world).writes_waiting == ()


def test_only_a_plugin_not_yet_live_enters_shadow(shadow_world: World) -> None:
    world = shadow_world
    actions.go_live(world.hub, world.plugin_id)
    with world.hub.db.unit_of_work() as session, pytest.raises(Exception, match="live since"):
        plugins.enter_shadow(session, world.plugin_id)
    with world.hub.db.unit_of_work() as session, pytest.raises(Exception, match="not in shadow"):
        plugins.go_live(session, world.plugin_id)
