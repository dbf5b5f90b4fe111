"""Everything Tradewind sends to Shopify at once — customers, products with a listing,
orders made here — and customers read back, through a bad day (429s, 503s, duplicated
webhooks, an answer lost on the way back): afterwards each record exists exactly once on
each side and is linked. On SQLite and on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import database_for, make_world
from tests.integrations.shopify.test_export_orders import LoseAnswers
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.customers import service as customers
from tradewind.core.customers.models import Customer
from tradewind.core.customers.schemas import CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sync.exports import origin_ref
from tradewind.vocabulary import FinancialStatus, Toggle

EMAILS = ("ada@example.com", "grace@example.com", "alan@example.com")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_everything_sent_under_faults_exists_once_on_each_side(
    backend: str, sandbox: ShopifySandbox, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_for(backend, request)
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
                plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, True)
        for kind, count in (("duplicate_webhooks", None), ("rate_limit", 8)):
            sandbox.inject_fault(shop, kind, count=count)
        sandbox.inject_fault(shop, "server_error", count=5, status=503)
        world.hub.transport = LoseAnswers("orderCreate")
        try:
            with world.hub.db.unit_of_work() as session:
                for email in EMAILS:
                    customers.create_customer(session, CustomerIn(email=email, first_name="X"))
                lamp = catalog.create_product(
                    session, ProductIn(sku="LAMP", title="Lamp", price=Decimal("30"))
                )
                inventory.receive(session, lamp.id, world.warehouse_id, 4)
                links.upsert_listing(session, world.channel_id, lamp.id, title="Brass lamp")
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
            world.rounds(4)
            sandbox.clear_faults(shop)
            world.rounds(4)
        finally:
            world.hub.transport = None
        world.rounds(2)

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
            mapped = links.product_links(session, world.plugin_id, [lamp.id])
            assert lamp.id in mapped
