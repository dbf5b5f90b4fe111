"""Webhooks out, as Shopify delivers them: topics, every X-Shopify-* header, the HMAC
over the raw body, retries with exponential backoff (time compressed 100 000×), deletion
of an API-created subscription once its retries are spent, and injected drops,
duplicates and reorderings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from itertools import pairwise

import httpx2
import pytest

from tests.sandbox.shopify.conftest import APP_SECRET, SHOP, Receiver, catalog, subscribe
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.control import ShopPatch
from tradewind.sandbox.shopify.webhooks import RETRY_DELAYS, TIMEOUT

HEADERS = {
    "x-shopify-topic",
    "x-shopify-hmac-sha256",
    "x-shopify-shop-domain",
    "x-shopify-api-version",
    "x-shopify-webhook-id",
    "x-shopify-triggered-at",
    "x-shopify-event-id",
}


def signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(APP_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def test_a_delivery_carries_every_header_and_a_valid_hmac(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url, version="2026-01")
    subscribe(client, "orders/create", receiver.url + "/second", version="2026-01")
    order = sandbox.place_order(SHOP, [("MUG-1", 1)])
    first, second = receiver.wait_for(2)
    for delivery in (first, second):
        assert set(delivery.headers) >= HEADERS
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.headers["x-shopify-topic"] == "orders/create"
        assert delivery.headers["x-shopify-shop-domain"] == f"{SHOP}.myshopify.com"
        assert delivery.headers["x-shopify-api-version"] == "2026-01"
        assert delivery.headers["x-shopify-hmac-sha256"] == signature(delivery.body)
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", delivery.headers["x-shopify-triggered-at"]
        )
        assert json.loads(delivery.body)["id"] == order["id"]
    # One merchant action: one event id, one webhook id per delivery.
    assert first.headers["x-shopify-event-id"] == second.headers["x-shopify-event-id"]
    assert first.headers["x-shopify-webhook-id"] != second.headers["x-shopify-webhook-id"]


def test_the_topics_a_hub_needs(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    topics = [
        "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
        "orders/partially_fulfilled", "products/create", "products/update", "products/delete",
        "inventory_levels/update", "refunds/create", "fulfillments/create", "fulfillments/update",
    ]  # fmt: skip
    for topic in topics:
        subscribe(client, topic, receiver.url)
    mug = catalog(sandbox)
    api = "/admin/api/2025-07"
    unpaid = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="unpaid")
    sandbox.advance_payment(SHOP, unpaid["id"], "paid")
    two = sandbox.place_order(SHOP, [("MUG-1", 2)])
    fo = client.get(f"{api}/orders/{two['id']}/fulfillment_orders.json").json()[
        "fulfillment_orders"
    ][0]
    line = fo["line_items"][0]
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": fo["id"],
                    "fulfillment_order_line_items": [{"id": line["id"], "quantity": 1}],
                }
            ],
            "tracking_info": {"number": "1Z999", "company": "UPS"},
        }
    }
    shipped = client.post(f"{api}/fulfillments.json", json=body)
    assert shipped.status_code == 201, shipped.text
    client.post(
        f"{api}/fulfillments/{shipped.json()['fulfillment']['id']}/update_tracking.json",
        json={"fulfillment": {"tracking_info": {"number": "1Z998"}}},
    )
    client.post(
        f"{api}/fulfillments.json",
        json={
            "fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}]}
        },
    )
    cancelled = sandbox.place_order(SHOP, [("TOTE-1", 1)])
    client.post(f"{api}/orders/{cancelled['id']}/cancel.json", json={"amount": "20.00"})
    client.put(f"{api}/products/{mug['id']}.json", json={"product": {"title": "Mug"}})
    client.delete(f"{api}/products/{mug['id']}.json")
    assert sandbox.wait_for_webhooks()
    got = set(receiver.topics())
    assert set(topics) <= got, set(topics) - got


def test_failed_deliveries_are_retried_with_backoff_and_the_same_body(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 302]  # a redirect is a failure too
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url)
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    attempts = receiver.wait_for(4)
    assert len(attempts) == 4
    assert len({a.headers["x-shopify-webhook-id"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    assert sandbox.wait_for_webhooks()
    delivery = sandbox.deliveries(SHOP)[-1]
    assert delivery.state == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 503, 302, 200]


def test_retry_schedule_is_8_retries_over_about_4_hours() -> None:
    assert len(RETRY_DELAYS) == 8
    assert all(later == 2 * earlier for earlier, later in pairwise(RETRY_DELAYS))
    assert 3.9 * 3600 < sum(RETRY_DELAYS) < 4.1 * 3600
    assert TIMEOUT.read == 5.0 and TIMEOUT.connect == 1.0


def test_an_api_subscription_is_deleted_after_its_retries_are_spent(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 9
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url)
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert len(receiver.wait_for(9)) == 9
    assert sandbox.wait_for_webhooks()
    assert sandbox.deliveries(SHOP)[-1].state == "failed"
    assert client.get("/admin/api/2025-07/webhooks/count.json").json() == {"count": 0}


def test_a_slow_receiver_times_out_and_is_retried(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    sandbox.sandbox.webhooks.timeout = httpx2.Timeout(0.2, connect=1.0)  # 5 s, shortened
    receiver.delay = 0.5
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url)
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    receiver.wait_for(1)
    receiver.delay = 0.0
    assert sandbox.wait_for_webhooks()
    delivery = sandbox.deliveries(SHOP)[-1]
    assert delivery.attempts[0].error == "ReadTimeout"
    assert delivery.state == "delivered"


@pytest.mark.parametrize(
    ("fault", "count", "expected"),
    [
        ("drop_webhooks", 1, ["#1002", "#1003"]),
        ("duplicate_webhooks", 1, ["#1001", "#1001", "#1002", "#1003"]),
        ("reorder_webhooks", 3, ["#1003", "#1002", "#1001"]),
    ],
)
def test_injected_delivery_faults(
    sandbox: ShopifySandbox,
    client: httpx2.Client,
    receiver: Receiver,
    fault: str,
    count: int,
    expected: list[str],
) -> None:
    catalog(sandbox, stock=50)
    subscribe(client, "orders/create", receiver.url)
    sandbox.inject_fault(SHOP, fault, count=count)
    for _ in range(3):
        sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert sandbox.wait_for_webhooks()
    names = [json.loads(r.body)["name"] for r in receiver.wait_for(len(expected))]
    if fault == "reorder_webhooks":
        assert names == expected  # held, then sent newest first, one after another
    else:
        assert sorted(names) == expected  # concurrent deliveries arrive in any order
    if fault == "duplicate_webhooks":
        first = [
            r.headers["x-shopify-webhook-id"] for r in receiver.received if b'"#1001"' in r.body
        ]
        assert len(first) == 2 and first[0] == first[1]


def test_include_fields_trims_the_payload(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    catalog(sandbox)
    answer = client.post(
        "/admin/api/2025-07/webhooks.json",
        json={
            "webhook": {"topic": "orders/create", "address": receiver.url, "fields": ["id", "note"]}
        },
    )
    assert answer.json()["webhook"]["fields"] == ["id", "note"]
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    delivery = receiver.wait_for(1)[0]
    assert set(json.loads(delivery.body)) == {"id", "note"}
    assert delivery.headers["x-shopify-hmac-sha256"] == signature(delivery.body)


def test_only_loopback_receivers_are_called(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox)
    subscribe(client, "orders/create", "https://hub.example.com/hooks")
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert sandbox.deliveries(SHOP)[-1].state == "skipped"


def test_own_inventory_pushes_can_be_withheld(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    """Issue 5's switch: Shopify echoes an app's own inventory writes by default."""
    mug = catalog(sandbox)
    item = mug["variants"][0]["inventory_item_id"]
    location = client.get("/admin/api/2025-07/locations.json").json()["locations"][0]["id"]
    subscribe(client, "inventory_levels/update", receiver.url)
    push = {"inventory_item_id": item, "location_id": location, "available": 3}
    client.post("/admin/api/2025-07/inventory_levels/set.json", json=push)
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 1
    sandbox.control.patch_shop(SHOP, ShopPatch(echo_own_inventory_updates=False))
    client.post("/admin/api/2025-07/inventory_levels/set.json", json=dict(push, available=2))
    sandbox.set_stock(SHOP, "MUG-1", 7)  # the merchant's change still arrives
    assert sandbox.wait_for_webhooks()
    bodies = [json.loads(r.body)["available"] for r in receiver.received]
    assert bodies == [3, 7]
