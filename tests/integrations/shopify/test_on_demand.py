"""Sync customers, Sync listings and Export all products, started from the REST API and
from the plugin page, against the sandbox: refused with the reason while their toggle is
off, queued and carried out once it is on."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx2
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.api.conftest import make_token
from tests.integrations.shopify.conftest import World
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.customers.models import Customer
from tradewind.core.plugins import service as plugins
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.server import create_app
from tradewind.vocabulary import Toggle

RUNS = ("customer-sync", "listing-sync", "product-export")


def _switch_on(world: World, *toggles: Toggle) -> None:
    with world.hub.db.unit_of_work() as session:
        for toggle in toggles:
            plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, True)


def _store_customer(world: World, email: str) -> None:
    answer = httpx2.post(
        f"{world.sandbox.admin_url('2026-04')}/customers.json",
        headers={"X-Shopify-Access-Token": world.token, "Host": f"{world.shop}.myshopify.com"},
        json={"customer": {"email": email, "first_name": "Grace", "last_name": "Hopper"}},
    )
    assert answer.status_code == 201, answer.text


def test_the_api_starts_each_run_once_its_toggle_is_on(world: World) -> None:
    headers = {"Authorization": f"Bearer {make_token(world.hub, TokenScope.READ_WRITE)}"}
    with TestClient(create_app(world.hub)) as client:
        for run in RUNS:
            refused = client.post(f"/api/v1/plugins/{world.plugin_id}/{run}", headers=headers)
            assert refused.status_code == 422, (run, refused.text)
            assert "does not have" in refused.json()["detail"]

        _store_customer(world, "grace@example.com")
        with world.hub.db.unit_of_work() as session:
            catalog.create_product(
                session, ProductIn(sku="LAMP-9", title="Brass lamp", price=Decimal("80"))
            )
        _switch_on(world, Toggle.IMPORT_CUSTOMERS, Toggle.IMPORT_LISTINGS, Toggle.EXPORT_PRODUCTS)
        world.settle()

        customers = client.post(f"/api/v1/plugins/{world.plugin_id}/customer-sync", headers=headers)
        assert customers.status_code == 202 and customers.json() == {"queued": ["import_customers"]}
        listings = client.post(f"/api/v1/plugins/{world.plugin_id}/listing-sync", headers=headers)
        assert listings.status_code == 202 and listings.json() == {"queued": ["sync_listings"]}
        export = client.post(f"/api/v1/plugins/{world.plugin_id}/product-export", headers=headers)
        assert export.status_code == 202 and export.json()["queued"] >= 1

    def emails() -> set[str | None]:
        with world.hub.db.read() as session:
            return set(session.scalars(select(Customer.email)))

    def skus() -> set[str]:
        return {
            variant["sku"]
            for product in world.sandbox.state(world.shop)["products"]
            for variant in product["variants"]
        }

    # The runs wait their turn in the store's REST budget like any other work.
    world.settle(lambda: "grace@example.com" in emails() and "LAMP-9" in skus(), timeout=60)
    assert "grace@example.com" in emails()
    assert "LAMP-9" in skus()


def test_the_plugin_page_offers_the_runs_its_toggles_allow(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        auth.create_user(session, "merchant", "correct horse battery", Role.ADMIN)
    with TestClient(create_app(world.hub)) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        signed = client.post(
            "/login",
            data={
                "username": "merchant",
                "password": "correct horse battery",
                "csrf_token": token.group(1),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303
        page = client.get(f"/plugins/{world.plugin_id}")
        assert "Sync customers" not in page.text  # Import Customers is off

        _switch_on(world, Toggle.IMPORT_CUSTOMERS)
        page = client.get(f"/plugins/{world.plugin_id}")
        assert "Sync customers" in page.text and "Export all products" not in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        started = client.post(
            f"/plugins/{world.plugin_id}/run/customer-sync",
            data={"csrf_token": csrf.group(1)},
            follow_redirects=True,
        )
        assert started.status_code == 200 and "Sync customers started" in started.text
        unknown = client.post(
            f"/plugins/{world.plugin_id}/run/reticulate",
            data={"csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert unknown.status_code == 404
