"""Every fault the sandbox can inject, at once, then recovery (issue 5, "what must be
shown"): afterwards the orders in Tradewind are exactly the sandbox's orders that pass the
filters, each once, and every sandbox level equals Tradewind's available quantity."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import database_for, make_world
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.inventory import service as inventory
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.control import OrderKind
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork, WorkKind, WorkState


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_after_every_fault_orders_and_stock_agree(
    backend: str, sandbox: ShopifySandbox, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_for(backend, request)
    with make_world(sandbox, url, tmp_path) as world:
        rng = random.Random(7)
        shop = world.shop
        for kind, count in (
            ("duplicate_webhooks", None),
            ("reorder_webhooks", 3),
            ("drop_webhooks", 4),
            ("rate_limit", 12),
        ):
            sandbox.inject_fault(shop, kind, count=count)
        sandbox.inject_fault(shop, "server_error", count=6, status=503)
        placed = []
        kinds: list[OrderKind] = ["web", "web", "web", "unpaid", "test", "pos"]
        for number in range(12):
            kind = rng.choice(kinds)
            lines = [(rng.choice(["MUG", "PLATE"]), rng.randint(1, 2))]
            extra: dict[str, Any] = {"location_id": world.location_id()} if kind == "pos" else {}
            placed.append(sandbox.place_order(shop, lines, kind=kind, **extra))
            if number % 4 == 0:
                with world.hub.db.unit_of_work() as session:  # stock keeps moving too
                    mug = catalog.find_by_sku(session, "MUG")
                    assert mug is not None
                    inventory.receive(session, mug.id, world.warehouse_id, 3)
        world.rounds(3)
        unpaid = [p for p in placed if p["financial_status"] == "pending"]
        for order in unpaid[:1]:
            sandbox.advance_payment(shop, order["id"], "paid")  # becomes importable
        # The token is revoked: work pauses, then the merchant reconnects with a new one.
        sandbox.revoke_token(world.token)
        placed.append(sandbox.place_order(shop, [("PLATE", 1)]))
        world.rounds(3)
        assert world.plugin().state is PluginState.NEEDS_REAUTHORIZATION
        fresh = sandbox.issue_token(shop, app_key="tw-app")
        with world.hub.db.unit_of_work() as session:
            plugins.update_plugin_settings(
                session,
                world.hub.vault,
                ShopifyConnector.info,
                world.plugin_id,
                {"access_token": fresh},
            )
        # The probe retries through the 429 storm, then finds it works. Webhooks now carry
        # the orders, so fewer reads wore the storm down before: more of it is left here.
        for _ in range(30):
            world.rounds(1)
            if world.plugin().state is PluginState.ACTIVE:
                break
        assert world.plugin().state is PluginState.ACTIVE
        sandbox.clear_faults(shop)
        with world.hub.db.unit_of_work() as session:  # the reconciliation poll runs
            ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, "orders")
        actions.sync_now(world.hub, world.plugin_id)
        world.rounds(4)

        state = sandbox.state(shop)
        expected = {
            str(order["id"])
            for order in state["orders"]
            if order["financial_status"] in ("paid", "partially_refunded")
            and not order["test"]
            and not order.get("cancelled_at")
        }
        with world.hub.db.read() as session:
            imported = [cast(str, o.external_id) for o in session.scalars(select(Order))]
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(SyncWork)
                    .where(
                        SyncWork.state == WorkState.PENDING, SyncWork.kind == WorkKind.IMPORT_ORDER
                    )
                )
                == 0
            )
        assert len(expected) >= 6  # the scenario is not empty: most orders are importable
        assert sorted(imported) == sorted(expected)
        assert len(imported) == len(set(imported))

        assert world.stock_disagreements(("MUG", "PLATE")) == {}
        with world.hub.db.read() as session:
            assert (
                notifications.open_notifications(
                    session, plugin_id=world.plugin_id, kind=NotificationKind.AUTHORIZATION_LOST
                )
                == []
            )
