"""Draft orders over GraphQL: ``draftOrderCreate`` prices lines from their variants (or as
given, for custom lines) and answers user errors for what it cannot take;
``draftOrderComplete`` turns the draft into an order (stock committed, ``orders/create``
delivered), once; both cost a mutation's 10 points and need ``write_draft_orders``."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from tests.sandbox.shopify.conftest import SHOP, Receiver, catalog, subscribe
from tests.sandbox.shopify.test_graphql_orders import available
from tradewind.sandbox.shopify import ShopifySandbox

VERSION = "2026-10"

CREATE = """mutation($input: DraftOrderInput!) { draftOrderCreate(input: $input) {
  draftOrder { id name status email note2 tags completedAt order { id }
    customAttributes { key value }
    lineItems(first: 5) { nodes { title name quantity sku custom variant { sku }
      originalUnitPriceSet { shopMoney { amount } } originalTotalSet { shopMoney { amount } } } }
    subtotalPriceSet { shopMoney { amount currencyCode } }
    totalShippingPriceSet { shopMoney { amount } }
    totalPriceSet { shopMoney { amount } } }
  userErrors { field message } } }"""

COMPLETE = """mutation($id: ID!, $pending: Boolean) {
  draftOrderComplete(id: $id, paymentPending: $pending) {
    draftOrder { id status completedAt order { id name displayFinancialStatus sourceName
      lineItems(first: 5) { nodes { sku quantity } } } }
    userErrors { field message } } }"""


def gql(client: httpx2.Client, query: str, **variables: Any) -> Any:
    answer = client.post(
        f"/admin/api/{VERSION}/graphql.json", json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def variant_gid(client: httpx2.Client, sku: str) -> str:
    found = gql(client, f'{{ productVariants(first: 1, query: "sku:{sku}") {{ nodes {{ id }} }} }}')
    return str(found["data"]["productVariants"]["nodes"][0]["id"])


def draft_input(client: httpx2.Client) -> dict[str, Any]:
    return {
        "email": "buyer@example.com",
        "note": "Phone order",
        "tags": ["phone", "vip"],
        "lineItems": [
            {"variantId": variant_gid(client, "MUG-1"), "quantity": 2},
            {
                "title": "Gift wrapping",
                "quantity": 1,
                "originalUnitPriceWithCurrency": {"amount": "5.00", "currencyCode": "USD"},
            },
        ],
        "shippingLine": {
            "title": "Courier",
            "priceWithCurrency": {"amount": "4.50", "currencyCode": "USD"},
        },
        "customAttributes": [{"key": "channel", "value": "phone"}],
    }


def test_a_draft_is_priced_from_its_variants_and_costs_a_mutation(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    body = gql(client, CREATE, input=draft_input(client))
    made = body["data"]["draftOrderCreate"]
    assert made["userErrors"] == []
    draft = made["draftOrder"]
    assert (draft["name"], draft["status"]) == ("#D1", "OPEN")
    assert (draft["email"], draft["note2"], draft["tags"]) == (
        "buyer@example.com",
        "Phone order",
        ["phone", "vip"],
    )
    assert draft["completedAt"] is None and draft["order"] is None
    assert draft["customAttributes"] == [{"key": "channel", "value": "phone"}]
    mug, wrap = draft["lineItems"]["nodes"]
    assert (mug["title"], mug["sku"], mug["custom"], mug["variant"]) == (
        "Enamel mug",
        "MUG-1",
        False,
        {"sku": "MUG-1"},
    )
    assert mug["originalUnitPriceSet"]["shopMoney"]["amount"] == "12.00"
    assert mug["originalTotalSet"]["shopMoney"]["amount"] == "24.00"
    assert (wrap["custom"], wrap["variant"], wrap["quantity"]) == (True, None, 1)
    assert draft["subtotalPriceSet"]["shopMoney"] == {"amount": "29.00", "currencyCode": "USD"}
    assert draft["totalShippingPriceSet"]["shopMoney"]["amount"] == "4.50"
    assert draft["totalPriceSet"]["shopMoney"]["amount"] == "33.50"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10
    assert available(sandbox, "MUG-1") == 10  # a draft holds no stock
    second = gql(client, CREATE, input=draft_input(client))["data"]["draftOrderCreate"]
    assert second["draftOrder"]["name"] == "#D2"


def test_completing_a_draft_places_its_order_once(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url)
    draft = gql(client, CREATE, input=draft_input(client))["data"]["draftOrderCreate"]["draftOrder"]

    done = gql(client, COMPLETE, id=draft["id"])["data"]["draftOrderComplete"]

    assert done["userErrors"] == []
    assert done["draftOrder"]["status"] == "COMPLETED"
    assert done["draftOrder"]["completedAt"] is not None
    order = done["draftOrder"]["order"]
    assert order["displayFinancialStatus"] == "PAID"
    assert order["sourceName"] == "shopify_draft_order"
    assert order["lineItems"]["nodes"] == [
        {"sku": "MUG-1", "quantity": 2},
        {"sku": None, "quantity": 1},
    ]
    assert available(sandbox, "MUG-1") == 8  # the order committed its stock
    delivered = receiver.wait_for(1)
    assert [json.loads(r.body)["admin_graphql_api_id"] for r in delivered] == [order["id"]]
    rest = json.loads(delivered[0].body)
    assert float(rest["total_price"]) == 33.50
    assert rest["email"] == "buyer@example.com"
    read = gql(
        client, "query($id: ID!) { draftOrder(id: $id) { status order { id } } }", id=draft["id"]
    )
    assert read["data"]["draftOrder"] == {"status": "COMPLETED", "order": {"id": order["id"]}}

    again = gql(client, COMPLETE, id=draft["id"])["data"]["draftOrderComplete"]
    assert again["draftOrder"] is None
    assert again["userErrors"][0]["field"] == ["id"]
    assert available(sandbox, "MUG-1") == 8
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 1


def test_a_pending_payment_and_an_unknown_draft(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    draft = gql(client, CREATE, input=draft_input(client))["data"]["draftOrderCreate"]["draftOrder"]
    pending = gql(client, COMPLETE, id=draft["id"], pending=True)["data"]["draftOrderComplete"]
    assert pending["draftOrder"]["order"]["displayFinancialStatus"] == "PENDING"
    unknown = gql(client, COMPLETE, id="gid://shopify/DraftOrder/1")["data"]
    assert unknown["draftOrderComplete"] == {
        "draftOrder": None,
        "userErrors": [{"field": ["id"], "message": "Draft order does not exist"}],
    }


def test_what_a_draft_cannot_take_is_a_user_error(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    mug = variant_gid(client, "MUG-1")
    cases: list[tuple[list[dict[str, Any]], list[str]]] = [
        ([], ["input", "lineItems"]),
        (
            [{"variantId": "gid://shopify/ProductVariant/1", "quantity": 1}],
            ["input", "lineItems", "0", "variantId"],
        ),
        (
            [{"variantId": mug, "quantity": 1}, {"quantity": 1}],
            ["input", "lineItems", "1", "title"],
        ),
        ([{"variantId": mug, "quantity": 0}], ["input", "lineItems", "0", "quantity"]),
    ]
    for lines, field in cases:
        answer = gql(client, CREATE, input={"lineItems": lines})["data"]["draftOrderCreate"]
        assert answer["draftOrder"] is None, lines
        assert [e["field"] for e in answer["userErrors"]] == [field], lines
    nobody = {
        "lineItems": [{"variantId": mug, "quantity": 1}],
        "customerId": "gid://shopify/Customer/1",
    }
    answer = gql(client, CREATE, input=nobody)["data"]["draftOrderCreate"]
    assert answer["userErrors"][0]["field"] == ["input", "customerId"]
    assert sandbox.sandbox.state.shop(SHOP) is not None
    assert len(sandbox.sandbox.state.shop(SHOP).draft_orders) == 0  # type: ignore[union-attr]


def test_drafts_need_the_draft_orders_scope(sandbox: ShopifySandbox) -> None:
    catalog(sandbox)
    token = sandbox.issue_token(SHOP, app_key="acme-app", scopes=["read_products", "write_orders"])
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": token}, timeout=10
    ) as limited:
        body = gql(limited, CREATE, input={"lineItems": [{"title": "Thing", "quantity": 1}]})
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"]["draftOrderCreate"] is None
