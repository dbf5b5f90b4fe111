"""The mandatory compliance webhooks: sent to the app's configured compliance URL (not
through subscriptions), in Shopify's payload shapes, signed with the app secret;
``shop/redact`` follows an uninstall 48 hours later in sandbox time."""

from __future__ import annotations

import json

import httpx2

from tests.sandbox.shopify.conftest import APP_KEY, APP_SECRET, SHOP, Receiver, catalog
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.webhooks import sign


def test_data_request_and_redact_reach_the_compliance_url_signed(
    sandbox: ShopifySandbox, receiver: Receiver
) -> None:
    catalog(sandbox)
    order = sandbox.place_order(
        SHOP, [("MUG-1", 1)], customer={"email": "ada@example.com", "first_name": "Ada"}
    )
    customer = order["customer"]["id"]
    control = httpx2.Client(base_url=sandbox.base_url + "/_sandbox", timeout=10)
    assert control.put(f"/apps/{APP_KEY}/compliance", json={"url": receiver.url}).is_success
    asked = control.post(f"/shops/{SHOP}/customers/{customer}/data_request")
    assert asked.status_code == 200, asked.text
    assert control.post(f"/shops/{SHOP}/customers/{customer}/redact").is_success
    assert control.post(f"/shops/{SHOP}/customers/999/redact").status_code == 404
    got = receiver.wait_for(2)
    assert [r.headers["x-shopify-topic"] for r in got] == [
        "customers/data_request",
        "customers/redact",
    ]
    for item in got:
        assert item.headers["x-shopify-hmac-sha256"] == sign(APP_SECRET, item.body)
        assert item.headers["x-shopify-shop-domain"] == f"{SHOP}.myshopify.com"
    request, redact = (json.loads(r.body) for r in got)
    assert set(request) == {
        "shop_id",
        "shop_domain",
        "orders_requested",
        "customer",
        "data_request",
    }
    assert request["customer"] == {"id": customer, "email": "ada@example.com", "phone": None}
    assert request["orders_requested"] == [order["id"]]
    assert request["data_request"]["id"] == asked.json()["data_request"]["id"]
    assert set(redact) == {"shop_id", "shop_domain", "customer", "orders_to_redact"}
    assert redact["orders_to_redact"] == [order["id"]]


def test_shop_redact_follows_an_uninstall(sandbox: ShopifySandbox, receiver: Receiver) -> None:
    sandbox.set_compliance_urls(APP_KEY, receiver.url)
    shop_id = sandbox.sandbox.shop_doc(SHOP)["id"]
    sandbox.uninstall(SHOP, APP_KEY)
    assert sandbox.wait_for_webhooks()  # 48 h at the fixture's time scale
    topics = receiver.topics()
    assert topics == ["shop/redact"]
    body = json.loads(receiver.received[0].body)
    assert set(body) == {"shop_id", "shop_domain"}
    assert body["shop_domain"] == f"{SHOP}.myshopify.com"
    assert body["shop_id"] == shop_id


def test_shop_redact_waits_48_hours_of_sandbox_time(receiver: Receiver) -> None:
    with ShopifySandbox(time_scale=1) as sandbox:
        sandbox.create_shop(SHOP, token="shpat_x", app_key=APP_KEY, app_secret=APP_SECRET)
        sandbox.set_compliance_urls(APP_KEY, receiver.url)
        sandbox.uninstall(SHOP, APP_KEY)
        pending = [d for d in sandbox.deliveries(SHOP) if d.topic == "shop/redact"]
        assert len(pending) == 1
        assert pending[0].state == "pending" and pending[0].attempts == []
        assert sandbox.wait_for_webhooks(timeout=0.05) is False  # still waiting its 48 h
