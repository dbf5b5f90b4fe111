"""The control API over HTTP (shops, catalog, orders as customers place them, payments,
faults, state), the order generator, SQLite persistence across a restart, and the
``tradewind sandbox shopify`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, TOKEN, Receiver, catalog, subscribe
from tradewind.sandbox.shopify import ShopifySandbox

API = "/admin/api/2025-07"


@pytest.fixture
def control(sandbox: ShopifySandbox) -> httpx2.Client:
    return httpx2.Client(base_url=f"{sandbox.base_url}/_sandbox", timeout=10)


def test_set_up_a_shop_and_place_orders_over_http(
    sandbox: ShopifySandbox, control: httpx2.Client, client: httpx2.Client, receiver: Receiver
) -> None:
    made = control.post("/shops", json={"name": "beta", "token": "shpat_beta", "plan": "advanced"})
    assert made.status_code == 201
    assert made.json() == {"shop": "beta", "domain": "beta.myshopify.com", "token": "shpat_beta"}
    assert control.get("/shops").json() == [SHOP, "beta"]

    product = control.post(
        f"/shops/{SHOP}/products",
        json={"title": "Mug", "variants": [{"sku": "MUG-9", "price": "9.50", "available": 4}]},
    )
    assert product.status_code == 201
    subscribe(client, "orders/paid", receiver.url)
    order = control.post(
        f"/shops/{SHOP}/orders",
        json={
            "kind": "unpaid",
            "lines": [{"sku": "MUG-9", "quantity": 2}],
            "customer": {"email": "a@b.c"},
        },
    ).json()
    assert order["financial_status"] == "pending"
    paid = control.post(f"/shops/{SHOP}/orders/{order['id']}/payment", json={"to": "paid"}).json()
    assert paid["financial_status"] == "paid"
    assert receiver.wait_for(1)[0].headers["x-shopify-topic"] == "orders/paid"
    refunded = control.post(f"/shops/{SHOP}/orders/{order['id']}/payment", json={"to": "refunded"})
    assert refunded.json()["financial_status"] == "refunded"

    stock = control.post(f"/shops/{SHOP}/stock", json={"sku": "MUG-9", "available": 11}).json()
    assert stock["available"] == 11
    state = control.get(f"/shops/{SHOP}").json()
    assert {o["id"] for o in state["orders"]} == {order["id"]}
    assert state["tokens"][0]["token_last4"] == TOKEN[-4:]
    assert all("value" not in t for t in state["tokens"])
    assert control.get("/openapi.json").json()["info"]["title"].startswith("Tradewind")
    assert control.post(f"/shops/{SHOP}/orders", json={"lines": []}).status_code == 422
    assert control.get("/shops/nope").status_code == 404


def test_authorized_orders_can_be_voided(sandbox: ShopifySandbox) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="authorized")
    assert order["financial_status"] == "authorized"
    assert sandbox.advance_payment(SHOP, order["id"], "voided")["financial_status"] == "voided"


def test_fault_injection(
    sandbox: ShopifySandbox, control: httpx2.Client, client: httpx2.Client
) -> None:
    def fault(**spec: Any) -> None:
        assert control.post(f"/shops/{SHOP}/faults", json=spec).status_code == 201

    fault(kind="rate_limit", count=3)
    statuses = [client.get(f"{API}/shop.json").status_code for _ in range(4)]
    assert statuses == [429, 429, 429, 200]
    fault(kind="server_error", count=2, status=503)
    assert [client.get(f"{API}/shop.json").status_code for _ in range(3)] == [503, 503, 200]
    fault(kind="server_error", count=1, path_contains="graphql")
    assert client.get(f"{API}/shop.json").status_code == 200
    assert (
        client.post(f"{API}/graphql.json", json={"query": "{ shop { name } }"}).status_code == 500
    )
    fault(kind="server_error", count=1, query_contains="ids=7,9")  # a REST query string
    assert client.get(f"{API}/orders.json", params={"ids": "7,8"}).status_code == 200
    assert client.get(f"{API}/orders.json", params={"ids": "7,9"}).status_code == 500
    fault(kind="latency", count=1, latency_ms=300)
    started = time.perf_counter()
    assert client.get(f"{API}/shop.json").status_code == 200
    assert time.perf_counter() - started >= 0.3
    fault(kind="rate_limit", count=None)
    assert client.get(f"{API}/shop.json").status_code == 429
    assert control.get(f"/shops/{SHOP}/faults").json()[0]["kind"] == "rate_limit"
    control.delete(f"/shops/{SHOP}/faults")
    assert client.get(f"{API}/shop.json").status_code == 200


def test_revoked_token_and_uninstall(
    sandbox: ShopifySandbox, control: httpx2.Client, client: httpx2.Client
) -> None:
    spare = control.post(f"/shops/{SHOP}/tokens", json={"app_key": "acme-app"}).json()["token"]
    assert control.delete(f"/tokens/{TOKEN}").json() == {"revoked": True}
    assert client.get(f"{API}/shop.json").status_code == 401
    spare_client = httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": spare}
    )
    assert spare_client.get(f"{API}/shop.json").status_code == 200
    control.post(f"/shops/{SHOP}/uninstall", json={"app_key": "acme-app"})
    assert spare_client.get(f"{API}/shop.json").status_code == 401


def test_the_order_generator(sandbox: ShopifySandbox, control: httpx2.Client) -> None:
    catalog(sandbox, stock=1000)
    started = control.post(
        f"/shops/{SHOP}/generator", json={"per_minute": 3000, "limit": 8, "seed": 7}
    )
    assert started.status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(sandbox.state(SHOP)["orders"]) < 8:
        time.sleep(0.05)
    orders = sandbox.state(SHOP)["orders"]
    assert len(orders) == 8
    assert {o["line_items"][0]["sku"] for o in orders} <= {"MUG-1", "TOTE-1"}
    assert control.delete(f"/shops/{SHOP}/generator").json() == {"placed": 8}


def test_state_survives_a_restart_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    with ShopifySandbox(sqlite_path=path) as first:
        first.create_shop(SHOP, token=TOKEN)
        catalog(first)
        order = first.place_order(SHOP, [("MUG-1", 3)])
        first.withhold_customer_data(SHOP, False)
    with ShopifySandbox(sqlite_path=path) as second:
        http = httpx2.Client(base_url=second.base_url, headers={"X-Shopify-Access-Token": TOKEN})
        kept = http.get(f"{API}/orders/{order['id']}.json").json()["order"]
        assert kept["name"] == order["name"] == "#1001"
        assert http.get(f"{API}/products/count.json").json() == {"count": 2}
        again = second.place_order(SHOP, [("MUG-1", 1)])
        assert again["name"] == "#1002"
        assert again["id"] > order["id"]
        levels = [lv for lv in second.state(SHOP)["inventory_levels"] if lv["committed"]]
        assert [lv["committed"] for lv in levels] == [4]


def test_the_command_line(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewind.sandbox", "shopify", "--port", "0", "--shop", "cli-shop",
         "--token", "shpat_cli", "--app-key", "k", "--app-secret", "s", "--plan", "plus", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        http = httpx2.Client(base_url=base_url, headers={"X-Shopify-Access-Token": "shpat_cli"})
        shop = http.get(f"{API}/shop.json")
        assert shop.json()["shop"]["myshopify_domain"] == "cli-shop.myshopify.com"
        assert shop.json()["shop"]["plan_display_name"] == "Shopify Plus"
        assert shop.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/400"
        assert http.get(f"{API}/products/count.json").json() == {"count": 5}
        assert len(http.get(f"{API}/locations.json").json()["locations"]) == 2
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_the_command_line_help() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "tradewind.sandbox", "shopify", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb"),
    )
    for flag in ("--port", "--shop", "--token", "--app-key", "--app-secret", "--plan", "--seed"):
        assert flag in answer.stdout


def test_a_shop_can_be_made_withholding_customer_data_and_switched_back(
    control: httpx2.Client, receiver: Receiver
) -> None:
    """Issue 5: protected customer data not granted to apps, from the shop's creation on:
    orders read and delivered by webhook carry no buyer; PATCH switches it off again."""
    made = control.post(
        "/shops",
        json={"name": "private", "token": "shpat_private", "withhold_customer_data": True},
    )
    assert made.status_code == 201
    http = httpx2.Client(
        base_url=control.base_url.copy_with(path="/"),
        headers={"X-Shopify-Access-Token": "shpat_private", "Host": "private.myshopify.com"},
    )
    subscribe(http, "orders/create", receiver.url)
    control.post(
        "/shops/private/products",
        json={"title": "Mug", "variants": [{"sku": "MUG-P", "price": "9.50", "available": 4}]},
    )
    order = control.post(
        "/shops/private/orders",
        json={
            "lines": [{"sku": "MUG-P", "quantity": 1}],
            "customer": {"email": "hidden@example.com", "first_name": "Hidden"},
            "shipping_address": {
                "first_name": "Hidden",
                "address1": "1 Main St",
                "city": "Springfield",
                "country_code": "US",
            },
        },
    ).json()
    read = http.get(f"{API}/orders/{order['id']}.json").json()["order"]
    assert (read["customer"], read["email"], read["billing_address"]) == (None, "", None)
    assert read["shipping_address"]["address1"] is None
    assert read["shipping_address"]["city"] == "Springfield"
    (delivered,) = receiver.wait_for(1)
    sent = json.loads(delivered.body)
    assert (sent["customer"], sent["email"]) == (None, "")

    settings = control.patch("/shops/private", json={"withhold_customer_data": False}).json()
    assert settings["withhold_customer_data"] is False
    shown = http.get(f"{API}/orders/{order['id']}.json").json()["order"]
    assert shown["customer"]["email"] == "hidden@example.com"
