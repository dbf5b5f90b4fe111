"""The sandbox's answers to the mutations a GraphQL-only connector sends: customerCreate
and customerUpdate (one customer per email), orderCreate's addresses, shipping, taxes and
attributes, orderCancel's refundMethod, orderClose, productSet's files and variant weight,
and refundCreate's ``@idempotent`` key (required from 2026-04, replayed when repeated)."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.sandbox.shopify.conftest import SHOP, catalog
from tests.sandbox.shopify.test_graphql import gql
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.webhooks import ENUM_TOPICS

CUSTOMER = "customer { legacyResourceId email firstName defaultAddress { city countryCodeV2 } }"
CREATE_CUSTOMER = (
    "mutation($input: CustomerInput!) { customerCreate(input: $input) "
    f"{{ {CUSTOMER} userErrors {{ field message }} }} }}"
)
UPDATE_CUSTOMER = (
    "mutation($input: CustomerInput!) { customerUpdate(input: $input) "
    f"{{ {CUSTOMER} userErrors {{ field message }} }} }}"
)


def data(client: httpx2.Client, query: str, version: str = "2025-07", **variables: Any) -> Any:
    body = gql(client, query, version, **variables)
    assert "errors" not in body, body
    return body["data"]


def test_customer_create_keeps_one_customer_per_email(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    address = {"address1": "1 Row", "city": "London", "countryCode": "GB", "zip": "N1"}
    made = data(
        client,
        CREATE_CUSTOMER,
        input={"email": "Ada@example.com", "firstName": "Ada", "addresses": [address]},
    )["customerCreate"]
    assert made["userErrors"] == []
    assert made["customer"]["defaultAddress"] == {"city": "London", "countryCodeV2": "GB"}
    again = data(client, CREATE_CUSTOMER, input={"email": "ada@EXAMPLE.com"})["customerCreate"]
    assert again == {
        "customer": None,
        "userErrors": [{"field": ["email"], "message": "Email has already been taken"}],
    }
    nobody = data(client, CREATE_CUSTOMER, input={"note": "?"})["customerCreate"]
    assert nobody["userErrors"][0]["message"].startswith("A name, phone number, or email")
    ident = f"gid://shopify/Customer/{made['customer']['legacyResourceId']}"
    renamed = data(client, UPDATE_CUSTOMER, input={"id": ident, "firstName": "Augusta"})
    assert renamed["customerUpdate"]["customer"]["firstName"] == "Augusta"
    assert sandbox.state(SHOP)["customers"][0]["first_name"] == "Augusta"
    gone = data(client, UPDATE_CUSTOMER, input={"id": "gid://shopify/Customer/1"})
    assert gone["customerUpdate"]["userErrors"] == [
        {"field": ["id"], "message": "Customer does not exist"}
    ]


ORDER_CREATE = (
    "mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) "
    "{ order { legacyResourceId } userErrors { field message } } }"
)


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def test_order_create_keeps_addresses_shipping_taxes_and_attributes(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    made = data(
        client,
        ORDER_CREATE,
        o={
            "lineItems": [{"title": "Gift", "quantity": 2, "priceSet": _money("5.00")}],
            "currency": "USD",
            "processedAt": "2026-11-02T09:30:00+00:00",
            "sourceName": "tradewind",
            "sourceIdentifier": "tw:1",
            "shippingAddress": {"city": "Leeds", "countryCode": "GB", "provinceCode": "ENG"},
            "shippingLines": [{"title": "Post", "code": "Post", "priceSet": _money("3.00")}],
            "taxLines": [{"title": "VAT", "rate": "0.2", "priceSet": _money("2.00")}],
            "customAttributes": [{"key": "Tradewind order", "value": "TW-1"}],
        },
    )["orderCreate"]
    assert made["userErrors"] == []
    (order,) = sandbox.state(SHOP)["orders"]
    assert str(order["id"]) == made["order"]["legacyResourceId"]
    assert (order["source_name"], order["source_identifier"]) == ("tradewind", "tw:1")
    assert order["processed_at"].startswith("2026-11-02T09:30:00")
    assert order["shipping_address"]["city"] == "Leeds"
    assert order["shipping_address"]["country_code"] == "GB"
    assert [(s["title"], s["price"]) for s in order["shipping_lines"]] == [("Post", "3.00")]
    assert order["total_tax"] == "2.00" and order["total_price"] == "15.00"
    assert order["note_attributes"] == [{"name": "Tradewind order", "value": "TW-1"}]


def test_order_close_and_cancel_without_a_refund(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="web")
    gid = f"gid://shopify/Order/{order['id']}"
    close = (
        "mutation($input: OrderCloseInput!) { orderClose(input: $input) "
        "{ order { closedAt } userErrors { field message } } }"
    )
    closed = data(client, close, input={"id": gid})["orderClose"]
    assert closed["userErrors"] == [] and closed["order"]["closedAt"]
    unknown = data(client, close, input={"id": "gid://shopify/Order/1"})["orderClose"]
    assert unknown == {
        "order": None,
        "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
    }
    cancel = (
        "mutation($id: ID!, $m: OrderCancelRefundMethodInput) { orderCancel(orderId: $id, "
        "reason: OTHER, restock: false, refundMethod: $m) { orderCancelUserErrors { message } } }"
    )
    again = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="web")
    gid = f"gid://shopify/Order/{again['id']}"
    answer = data(client, cancel, id=gid, m={"originalPaymentMethodsRefund": False})
    assert answer["orderCancel"]["orderCancelUserErrors"] == []
    (stored,) = [o for o in sandbox.state(SHOP)["orders"] if o["id"] == again["id"]]
    assert stored["cancelled_at"] and stored["financial_status"] == "paid"  # not refunded


def test_product_set_takes_files_and_the_variant_weight(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    product_set = (
        "mutation($input: ProductSetInput!) { productSet(input: $input) "
        "{ product { legacyResourceId } userErrors { field message } } }"
    )
    made = data(
        client,
        product_set,
        input={
            "title": "Tea",
            "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
            "files": [{"originalSource": "https://cdn.example.com/t.png", "contentType": "IMAGE"}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                    "price": "4.50",
                    "inventoryItem": {
                        "sku": "TEA",
                        "tracked": True,
                        "measurement": {"weight": {"value": 250, "unit": "GRAMS"}},
                    },
                }
            ],
        },
    )["productSet"]
    assert made["userErrors"] == []
    (product,) = sandbox.state(SHOP)["products"]
    (variant,) = product["variants"]
    assert (variant["sku"], variant["weight"], variant["weight_unit"]) == ("TEA", 250.0, "g")
    assert len(product["images"]) == 1
    ident = f"gid://shopify/Product/{made['product']['legacyResourceId']}"
    data(client, product_set, input={"id": ident, "title": "Sencha", "files": []})
    (product,) = sandbox.state(SHOP)["products"]
    assert product["title"] == "Sencha" and product["images"] == []
    assert [v["sku"] for v in product["variants"]] == ["TEA"]  # no variants given: kept


REFUND = (
    "mutation($input: RefundInput!) { refundCreate(input: $input) %s "
    "{ refund { legacyResourceId } userErrors { field message } } }"
)


def test_refund_create_needs_an_idempotency_key_from_2026_04(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 2)])
    refund = {
        "orderId": f"gid://shopify/Order/{order['id']}",
        "refundLineItems": [
            {"lineItemId": f"gid://shopify/LineItem/{order['line_items'][0]['id']}", "quantity": 1}
        ],
    }
    refused = gql(client, REFUND % "", "2026-04", input=refund)
    assert (
        refused["errors"][0]["message"]
        == "The @idempotent directive is required for this mutation."
    )
    keyed = REFUND % '@idempotent(key: "return-7")'
    first = data(client, keyed, "2026-04", input=refund)["refundCreate"]["refund"]
    again = data(client, keyed, "2026-04", input=refund)["refundCreate"]["refund"]
    assert first == again  # the first answer, nothing refunded twice
    refunds = client.get(f"/admin/api/2026-04/orders/{order['id']}/refunds.json").json()
    assert len(refunds["refunds"]) == 1
    assert "errors" not in gql(client, REFUND % "", "2026-01", input=refund)  # optional before


def test_every_topic_can_be_subscribed_over_graphql(client: httpx2.Client) -> None:
    """A connector subscribing over GraphQL names the topic by Shopify's enum, so each
    topic the sandbox delivers has its value there (``FULFILLMENT_ORDERS_HOLD_RELEASED``)."""
    create = (
        "mutation($topic: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) "
        "{ webhookSubscriptionCreate(topic: $topic, webhookSubscription: $s) "
        "{ webhookSubscription { topic } userErrors { message } } }"
    )
    for topic in sorted(ENUM_TOPICS):
        made = data(client, create, topic=topic, s={"uri": "http://127.0.0.1:9/hooks"})
        assert made["webhookSubscriptionCreate"]["webhookSubscription"] == {"topic": topic}
