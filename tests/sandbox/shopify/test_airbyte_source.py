"""Airbyte's official Shopify source (``airbyte-source-shopify``, pinned in
``airbyte/requirements.txt``), unmodified and in its own venv, reads ``orders``,
``products`` and ``inventory_levels`` from the sandbox: orders over REST, products and
inventory levels through GraphQL bulk operations whose JSONL it downloads. How it is
pointed at the sandbox without changing it: ``airbyte/harness.py``."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.sandbox.shopify.airbyte.harness import (
    AirbyteSource,
    SourceUnavailable,
    TunnelProxy,
    ensure_source,
    make_certificates,
    unavailable,
)
from tradewind.sandbox.shopify import ShopifySandbox

SHOP = "airbyte-shop"
TOKEN = "shpat_airbyte"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def entry() -> Path:
    try:
        return ensure_source()
    except SourceUnavailable as error:
        unavailable(str(error))
        raise


@pytest.fixture
def world(entry: Path, tmp_path: Path) -> Iterator[tuple[ShopifySandbox, AirbyteSource]]:
    certificates = make_certificates(tmp_path)
    with ShopifySandbox(time_scale=50, tls=(certificates.certificate, certificates.key)) as sandbox:
        sandbox.create_shop(SHOP, token=TOKEN)
        proxy = TunnelProxy(sandbox.port)
        try:
            yield sandbox, AirbyteSource(entry, certificates, proxy, tmp_path)
        finally:
            proxy.stop()


def config() -> dict[str, object]:
    return {
        "shop": SHOP,
        "credentials": {"auth_method": "api_password", "api_password": TOKEN},
        "start_date": (dt.date.today() - dt.timedelta(days=7)).isoformat(),
    }


def test_the_airbyte_source_reads_orders_products_and_inventory_levels(
    world: tuple[ShopifySandbox, AirbyteSource],
) -> None:
    sandbox, source = world
    warehouse = sandbox.add_location(SHOP, "Warehouse")
    with httpx2.Client(
        base_url=sandbox.admin_url("2026-10"),
        headers={"X-Shopify-Access-Token": TOKEN},
        verify=ssl.create_default_context(cafile=source.certificates.authority),  # HTTPS
    ) as client:
        made = client.post(
            "/products.json",
            json={
                "product": {
                    "title": "Enamel mug",
                    "body_html": "<p>A sturdy mug</p>",
                    "options": [{"name": "Color", "values": ["Blue", "Red"]}],
                    "variants": [
                        {"option1": "Blue", "price": "12.00", "sku": "MUG-BLUE"},
                        {"option1": "Red", "price": "12.50", "sku": "MUG-RED"},
                    ],
                    "images": [{"src": "https://example.com/mug.png", "alt": "Mug"}],
                }
            },
        )
        assert made.status_code == 201, made.text
    mug = made.json()["product"]
    sandbox.set_stock(SHOP, "MUG-BLUE", 10)
    sandbox.set_stock(SHOP, "MUG-RED", 4)
    tote = sandbox.add_product(
        SHOP, "Canvas tote", [{"sku": "TOTE", "price": "20.00", "available": 7}]
    )
    sandbox.set_stock(SHOP, "TOTE", 3, location_id=warehouse["id"])
    orders = [
        sandbox.place_order(SHOP, [("MUG-BLUE", 1), ("TOTE", 2)]),
        sandbox.place_order(SHOP, [("MUG-RED", 1)]),
        sandbox.place_order(SHOP, [("TOTE", 1)], kind="unpaid"),
    ]

    run = source.read(config(), ["orders", "products", "inventory_levels"])

    assert run.errors() == [], run.explain()
    assert run.returncode == 0, run.explain()
    assert run.statuses() == {
        name: ["STARTED", "RUNNING", "COMPLETE"]
        for name in ("orders", "products", "inventory_levels")
    }, run.explain()
    assert source.proxy.refused == []  # nothing was sent anywhere but the shop
    assert set(source.proxy.tunnels) == {f"{SHOP}.myshopify.com:443"}

    read_orders = {o["id"]: o for o in run.records("orders")}
    assert set(read_orders) == {o["id"] for o in orders}
    for placed in orders:
        got = read_orders[placed["id"]]
        assert (got["name"], got["financial_status"]) == (
            placed["name"],
            placed["financial_status"],
        )
        assert float(got["total_price"]) == float(placed["total_price"])
        assert [li["sku"] for li in got["line_items"]] == [li["sku"] for li in placed["line_items"]]

    products = {p["id"]: p for p in run.records("products")}
    assert set(products) == {mug["id"], tote["id"]}
    read_mug = products[mug["id"]]
    assert read_mug["title"] == "Enamel mug"
    assert read_mug["description"] == "A sturdy mug"
    assert [v["id"] for v in read_mug["variants"]] == [v["id"] for v in mug["variants"]]
    assert [i["id"] for i in read_mug["images"]] == [i["id"] for i in mug["images"]]
    assert read_mug["total_inventory"] == (10 - 1) + (4 - 1)  # available: orders commit
    assert read_mug["total_variants"] == 2
    assert read_mug["price_range_v2"]["max_variant_price"]["amount"] == 12.5
    assert products[tote["id"]]["total_inventory"] == 7 + 3 - 3

    levels = {
        (lv["location_id"], lv["inventory_item_id"]): {
            q["name"]: q["quantity"] for q in lv["quantities"]
        }
        for lv in run.records("inventory_levels")
    }
    expected = {
        (lv["location_id"], lv["inventory_item_id"]): lv
        for lv in sandbox.state(SHOP)["inventory_levels"]
    }
    assert set(levels) == set(expected)
    for key, quantities in levels.items():
        for name in ("available", "committed", "on_hand"):
            assert quantities[name] == expected[key][name], (key, name)
