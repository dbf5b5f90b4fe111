"""A webhook subscription's ``filter`` decides whether a delivery is sent, in Shopify's
search syntax; syntax the sandbox cannot apply is refused when subscribing."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, Receiver, catalog
from tests.sandbox.shopify.test_graphql import gql
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.webhook_filter import matches, parse

PRODUCT: dict[str, Any] = {
    "id": 9554194432293,
    "title": "T-Shirt",
    "status": "active",
    "product_type": "Music",
    "published_at": "2025-04-22T14:30:00-05:00",
    "variants": [{"price": "29.99", "taxable": True}, {"price": "8.00", "taxable": False}],
    "tags": "cotton, summer sale",
    "vendor": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status:active", True),
        ("status:ACTIVE", True),
        ("status:draft", False),
        ("variants.price:>=10", True),
        ("variants.price:>30", False),
        ("variants.price:<8", False),
        ("variants.price:<=8", True),
        ("id:* AND status:active AND (product_type:Music OR product_type:Film)", True),
        ("status:active product_type:Film", False),  # juxtaposition is AND
        ("status:draft OR title:'T-Shirt'", True),
        ('title:"T-Shirt" AND NOT status:draft', True),
        ("-status:active", False),
        ("tags:cotton", True),
        ('tags:"summer sale"', True),
        ("tags:winter", False),
        ("vendor:*", False),
        ("variants.taxable:false", True),
        ("published_at:>2025-04-22T19:00:00Z", True),
        ("published_at:<2025-04-22T19:00:00Z", False),
        ("missing.field:x", False),
    ],
)
def test_filters_read_the_payload(text: str, expected: bool) -> None:
    assert matches(text, PRODUCT) is expected


@pytest.mark.parametrize(
    "text",
    ["paid", "status:active AND", "(status:active", "status:active)", 'title:"open', "OR x:1", ""],
)
def test_syntax_it_cannot_apply_is_refused(text: str) -> None:
    with pytest.raises(ShopifyError) as refused:
        parse(text)
    assert refused.value.status == 422
    assert isinstance(refused.value.errors, dict) and "filter" in refused.value.errors


CREATE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id filter } userErrors { field message } } }"""


def test_a_filtered_subscription_receives_only_matching_orders(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    made = gql(
        client,
        CREATE,
        "2025-10",
        topic="ORDERS_CREATE",
        sub={"uri": receiver.url, "filter": "financial_status:paid"},
    )["data"]["webhookSubscriptionCreate"]
    assert made["userErrors"] == []
    assert made["webhookSubscription"]["filter"] == "financial_status:paid"
    catalog(sandbox)
    unpaid = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="unpaid")
    paid = sandbox.place_order(SHOP, [("MUG-1", 1)])
    sandbox.place_order(SHOP, [("TOTE-1", 1)], kind="authorized")
    assert sandbox.wait_for_webhooks()
    delivered = [json.loads(r.body)["id"] for r in receiver.received]
    assert delivered == [paid["id"]]
    assert unpaid["id"] not in delivered


def test_a_filter_it_cannot_apply_is_a_user_error(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    refused = gql(
        client,
        CREATE,
        "2025-10",
        topic="ORDERS_CREATE",
        sub={"uri": receiver.url, "filter": "financial_status:paid AND"},
    )["data"]["webhookSubscriptionCreate"]
    assert refused["webhookSubscription"] is None
    assert refused["userErrors"][0]["field"] == ["webhookSubscription", "filter"]
    listed = gql(client, "{ webhookSubscriptions(first: 5) { nodes { id } } }", "2025-10")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == []


UPDATE = """mutation($id: ID!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) {
    webhookSubscription { id filter } userErrors { field message } } }"""


def test_a_rest_subscription_has_no_filter_until_graphql_gives_it_one(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    """Shopify's REST Webhook resource has no ``filter`` property (the GraphQL one has,
    from 2024-07): a ``filter`` sent in a REST body is dropped, and the subscription gets
    every event. A filter set on it over GraphQL then applies to it as to any other."""
    made = client.post(
        "/admin/api/2025-10/webhooks.json",
        json={
            "webhook": {
                "topic": "orders/create",
                "address": receiver.url,
                "format": "json",
                "filter": "financial_status:paid",
            }
        },
    )
    assert made.status_code == 201, made.text
    assert "filter" not in made.json()["webhook"]
    ident = made.json()["webhook"]["id"]
    catalog(sandbox)
    unfiltered = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="unpaid")
    assert sandbox.wait_for_webhooks()
    assert [json.loads(r.body)["id"] for r in receiver.received] == [unfiltered["id"]]

    updated = gql(
        client,
        UPDATE,
        "2025-10",
        id=f"gid://shopify/WebhookSubscription/{ident}",
        sub={"filter": "financial_status:paid"},
    )["data"]["webhookSubscriptionUpdate"]
    assert updated["userErrors"] == []
    assert updated["webhookSubscription"]["filter"] == "financial_status:paid"
    sandbox.place_order(SHOP, [("MUG-1", 1)], kind="unpaid")
    paid = sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert sandbox.wait_for_webhooks()
    assert [json.loads(r.body)["id"] for r in receiver.received] == [unfiltered["id"], paid["id"]]
