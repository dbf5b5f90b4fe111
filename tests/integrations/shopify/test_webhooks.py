"""Reading Shopify webhook bodies: whatever a signed body holds, the answer is an event
or ``Rejected`` (a 400 at intake), never another exception (a 500)."""

from __future__ import annotations

import json

import pytest

from tradewind.connectors import Rejected
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
