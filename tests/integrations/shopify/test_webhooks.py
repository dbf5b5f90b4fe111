"""Reading Shopify webhook bodies: whatever a signed body holds, the answer is an event
or ``Rejected`` (a 400 at intake), never another exception (a 500)."""

from __future__ import annotations

import json

import pytest

from tradewind.connectors import Rejected, WebhookEvent
from tradewind.integrations.shopify import webhooks

HEADERS = {"X-Shopify-Webhook-Id": "w-1", "X-Shopify-Topic": "inventory_levels/update"}


def _level(available: str) -> bytes:
    return f'{{"inventory_item_id": 5, "location_id": 9, "available": {available}}}'.encode()


@pytest.mark.parametrize(
    "body",
    [
        _level("1e400"),
        _level("[1]"),
        _level('"many"'),
        _level("2.5"),
        b"[1]",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
    ids=["inf", "list", "text", "fraction", "list-body", "not-utf8", "deep", "deep-value"],
)
def test_unreadable_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(Rejected):
        webhooks.parse("inventory_levels/update", HEADERS, body)


def test_levels_are_whole_numbers() -> None:
    event = webhooks.parse("inventory_levels/update", HEADERS, _level("7.0"))
    assert (event.subject, event.subject_id, event.quantity) == ("inventory", "5:9", 7)
    absent = webhooks.parse(
        "inventory_levels/update",
        HEADERS,
        json.dumps({"inventory_item_id": 5, "location_id": 9}).encode(),
    )
    assert absent.quantity is None


def test_a_hold_release_names_its_fulfillment_order_for_the_re_read() -> None:
    headers = {"X-Shopify-Webhook-Id": "w-2", "X-Shopify-Topic": "fulfillment_orders/hold_released"}
    body = {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/77", "status": "open"}}
    event = webhooks.parse("fulfillment_orders/hold_released", headers, json.dumps(body).encode())
    assert (event.subject, event.subject_id) == ("order", "gid://shopify/FulfillmentOrder/77")
    odd = webhooks.parse("fulfillment_orders/hold_released", headers, b'{"fulfillment_order": 5}')
    assert (odd.subject, odd.subject_id) == ("order", "")  # names no order


def _privacy(topic: str, payload: object) -> WebhookEvent:
    headers = {"X-Shopify-Webhook-Id": "w-2", "X-Shopify-Topic": topic}
    return webhooks.parse("compliance", headers, json.dumps(payload).encode())


def test_compliance_topics_name_the_customer_and_their_orders() -> None:
    customer = {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"}
    redact = _privacy(
        "customers/redact",
        {"shop_id": 1, "customer": customer, "orders_to_redact": [299938, 280263]},
    )
    assert redact == WebhookEvent(
        delivery_id="w-2",
        topic="customers/redact",
        subject="privacy",
        subject_id="191167",
        refs=("299938", "280263"),
    )
    asked = _privacy(
        "customers/data_request",
        {"customer": customer, "orders_requested": [1], "data_request": {"id": 9}},
    )
    assert isinstance(asked, WebhookEvent)
    assert (asked.subject, asked.subject_id, asked.refs) == ("privacy", "191167", ("1",))
    shop = _privacy("shop/redact", {"shop_id": 1, "shop_domain": "x.myshopify.com"})
    assert isinstance(shop, WebhookEvent)
    assert (shop.subject, shop.subject_id) == ("privacy", "")
    refused: list[dict[str, object]] = [
        {"customer": {}},
        {"customer": {"id": True}},
        {"customer": customer, "orders_to_redact": 5},
    ]
    for bad in refused:
        with pytest.raises(Rejected):
            _privacy("customers/redact", bad)
