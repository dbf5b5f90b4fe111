"""Everything Tradewind sends to Shopify at once — customers, products with a listing,
orders made here — and customers read back, through a bad day (429s, 503s, duplicated
webhooks, an answer lost on the way back): afterwards each record exists exactly once on
each side and is linked. On SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select, update

from tests.conftest import _truncate_all
from tests.integrations.shopify.conftest import World, make_world
from tests.integrations.shopify.test_export_orders import LoseAnswers
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.customers import service as customers
from tradewind.core.customers.models import Customer
from tradewind.core.customers.schemas import CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sync import actions
from tradewind.sync.exports import origin_ref
from tradewind.sync.models import RateBudgetRow, SyncWork, WorkState
from tradewind.vocabulary import FinancialStatus, Toggle

EMAILS = ("ada@example.com", "grace@example.com", "alan@example.com")


def _fast_forward(world: World) -> None:
    """Time passes: every waiting retry is due and the rate budgets have refilled."""
    with world.hub.db.unit_of_work() as session:
        session.execute(
            update(SyncWork)
            .where(SyncWork.state == WorkState.PENDING)
            .values(not_before=utcnow() - dt.timedelta(seconds=1))
        )
        session.execute(update(RateBudgetRow).values(blocked_until=0, level=0))


def _rounds(world: World, times: int = 4) -> None:
    for _ in range(times):
        world.settle()
        _fast_forward(world)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_everything_sent_under_faults_exists_once_on_each_side(
    backend: str, sandbox: ShopifySandbox, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
    with make_world(sandbox, url, tmp_path) as world:
        shop = world.shop
        headers = {"X-Shopify-Access-Token": world.token, "Host": f"{shop}.myshopify.com"}
        for email in ("GRACE@example.com", "barbara@example.com"):  # the store has two
            httpx2.post(
                f"{sandbox.admin_url('2026-04')}/customers.json",
                headers=headers,
                json={"customer": {"email": email}},
            ).raise_for_status()
        with world.hub.db.unit_of_work() as session:
            for toggle in (
                Toggle.EXPORT_ORDERS,
                Toggle.EXPORT_CUSTOMERS,
                Toggle.EXPORT_LISTINGS,
                Toggle.IMPORT_CUSTOMERS,
            ):
                channels.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, True)
        for kind, count in (("duplicate_webhooks", None), ("rate_limit", 8)):
            sandbox.inject_fault(shop, kind, count=count)
        sandbox.inject_fault(shop, "server_error", count=5, status=503)
        world.hub.transport = LoseAnswers("/orders.json")
        try:
            with world.hub.db.unit_of_work() as session:
                for email in EMAILS:
                    customers.create_customer(session, CustomerIn(email=email, first_name="X"))
                lamp = catalog.create_product(
                    session, ProductIn(sku="LAMP", title="Lamp", price=Decimal("30"))
                )
                inventory.receive(session, lamp.id, world.warehouse_id, 4)
                channels.upsert_listing(session, world.channel_id, lamp.id, title="Brass lamp")
                made = [
                    orders.create_manual_order(
                        session,
                        world.channel_id,
                        OrderIn(
                            lines=[OrderLineIn(product_id=lamp.id, quantity=1)],
                            email=email,
                            financial_status=FinancialStatus.PAID,
                        ),
                    ).id
                    for email in EMAILS
                ]
            actions.sync_customers(world.hub, world.plugin_id)
            _rounds(world)
            sandbox.clear_faults(shop)
            _rounds(world)
        finally:
            world.hub.transport = None
        _rounds(world, 2)

        state = sandbox.state(shop)
        store_emails = [str(c["email"]).casefold() for c in state["customers"]]
        for email in (*EMAILS, "barbara@example.com"):
            assert store_emails.count(email) == 1, email
        lamps = [p for p in state["products"] if p["variants"][0]["sku"] == "LAMP"]
        assert [p["title"] for p in lamps] == ["Brass lamp"]
        for order_id in made:
            copies = [o for o in state["orders"] if o["source_identifier"] == origin_ref(order_id)]
            assert len(copies) == 1, order_id
        levels = {lv["inventory_item_id"]: lv["available"] for lv in state["inventory_levels"]}
        assert levels[lamps[0]["variants"][0]["inventory_item_id"]] == 4 - 3  # 3 reserved

        with world.hub.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 3  # none again
            for order_id in made:
                linked = session.get(Order, order_id)
                assert linked is not None and linked.external_id and linked.exported_at
            keys = list(session.scalars(select(Customer.email_key)))
            assert sorted(k for k in keys if k) == sorted({*EMAILS, "barbara@example.com"})
            links = channels.product_links(session, world.plugin_id, [lamp.id])
            assert lamp.id in links
