"""The GraphQL Admin API: queries with Relay pagination, inventory compare-and-set in its
two shapes (``compareQuantity`` up to 2026-01, ``changeFromQuantity`` plus
``@idempotent`` from 2026-04), the 250-item input cap, fulfillmentCreate, webhook
subscriptions, and GraphQL's own errors."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, Receiver, catalog
from tradewind.sandbox.shopify import ShopifySandbox


def gql(client: httpx2.Client, query: str, version: str = "2025-07", **variables: Any) -> Any:
    answer = client.post(
        f"/admin/api/{version}/graphql.json", json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "cost" in body["extensions"]
    return body


@pytest.fixture
def stock(sandbox: ShopifySandbox, client: httpx2.Client) -> dict[str, str]:
    """The mug's inventory item and the primary location, as GraphQL ids, with 10 available."""
    catalog(sandbox)
    found = gql(
        client,
        '{ productVariants(first: 1, query: "sku:MUG-1") { nodes { inventoryItem { id } } } '
        "locations(first: 1) { nodes { id } } }",
    )["data"]
    return {
        "item": found["productVariants"]["nodes"][0]["inventoryItem"]["id"],
        "location": found["locations"]["nodes"][0]["id"],
    }


def available(client: httpx2.Client, stock: dict[str, str]) -> int:
    level = gql(
        client,
        "query($item: ID!, $loc: ID!) { inventoryItem(id: $item) { inventoryLevel(locationId: $loc) "
        '{ quantities(names: ["available", "on_hand", "committed"]) { name quantity } } } }',
        item=stock["item"],
        loc=stock["location"],
    )["data"]["inventoryItem"]["inventoryLevel"]["quantities"]
    quantities: dict[str, int] = {q["name"]: q["quantity"] for q in level}
    return quantities["available"]


def test_relay_pagination(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    for n in range(5):
        sandbox.add_product(SHOP, f"P{n}", [{"sku": f"S{n}", "price": "1.00"}])
    query = (
        "query($after: String) { products(first: 2, after: $after) { edges { cursor node { title } } "
        "pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    titles, after, pages = [], None, 0
    while True:
        page = gql(client, query, after=after)["data"]["products"]
        titles += [e["node"]["title"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert titles == [f"P{n}" for n in range(5)]
    assert pages == 3
    too_many = gql(client, "{ products(first: 251) { nodes { id } } }")
    assert "errors" in too_many


def test_orders_query_with_search_and_nested_connections(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    paid = sandbox.place_order(SHOP, [("MUG-1", 2)])
    sandbox.place_order(SHOP, [("TOTE-1", 1)], kind="unpaid")
    found = gql(
        client,
        '{ orders(first: 10, query: "financial_status:paid AND status:any") { nodes { name '
        "displayFinancialStatus displayFulfillmentStatus totalPriceSet { shopMoney { amount currencyCode } } "
        "customer { email } lineItems(first: 5) { nodes { sku quantity variant { id } } } "
        "fulfillmentOrders(first: 2) { nodes { status lineItems(first: 5) { nodes { remainingQuantity } } } } } } }",
    )["data"]["orders"]["nodes"]
    assert found == [
        {
            "name": paid["name"],
            "displayFinancialStatus": "PAID",
            "displayFulfillmentStatus": "UNFULFILLED",
            "totalPriceSet": {"shopMoney": {"amount": "24.00", "currencyCode": "USD"}},
            "customer": {"email": "ada@example.com"},
            "lineItems": {
                "nodes": [
                    {
                        "sku": "MUG-1",
                        "quantity": 2,
                        "variant": {
                            "id": f"gid://shopify/ProductVariant/{paid['line_items'][0]['variant_id']}"
                        },
                    }
                ]
            },
            "fulfillmentOrders": {
                "nodes": [{"status": "OPEN", "lineItems": {"nodes": [{"remainingQuantity": 2}]}}]
            },
        }
    ]


SET_2025 = """
mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""


def test_set_quantities_with_compare_quantity_before_2026_04(
    client: httpx2.Client, stock: dict[str, str]
) -> None:
    def set_to(quantity: int, **extra: Any) -> Any:
        item = {
            "inventoryItemId": stock["item"],
            "locationId": stock["location"],
            "quantity": quantity,
        }
        data = {"name": "available", "reason": "correction", "quantities": [dict(item, **extra)]}
        return gql(client, SET_2025, "2025-07", input=data)["data"]["inventorySetQuantities"]

    done = set_to(12, compareQuantity=10)
    assert done["userErrors"] == []
    assert done["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": 2, "quantityAfterChange": 12}
    ]
    stale = set_to(20, compareQuantity=10)
    assert stale["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    assert stale["inventoryAdjustmentGroup"] is None
    assert set_to(20)["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    assert available(client, stock) == 12


def test_set_quantities_from_2026_04_needs_idempotency_and_change_from(
    client: httpx2.Client, stock: dict[str, str]
) -> None:
    mutation = """
    mutation($input: InventorySetQuantitiesInput!, $key: String!) {
      inventorySetQuantities(input: $input) @idempotent(key: $key) {
        inventoryAdjustmentGroup { id changes { delta quantityAfterChange } }
        userErrors { code field message }
      }
    }"""
    item = {"inventoryItemId": stock["item"], "locationId": stock["location"]}

    def send(key: str, quantity: int, **extra: Any) -> Any:
        data = {
            "name": "available",
            "reason": "correction",
            "quantities": [dict(item, quantity=quantity, **extra)],
        }
        return gql(client, mutation, "2026-04", input=data, key=key)["data"][
            "inventorySetQuantities"
        ]

    ok = send("k1", 15, changeFromQuantity=10)
    assert ok["userErrors"] == []
    replay = send("k1", 15, changeFromQuantity=10)  # same key: the same answer, not applied again
    assert replay == ok
    assert available(client, stock) == 15
    stale = send("k2", 30, changeFromQuantity=10)
    assert stale["userErrors"] == [
        {
            "code": "CHANGE_FROM_QUANTITY_STALE",
            "field": ["input", "quantities", "0", "changeFromQuantity"],
            "message": stale["userErrors"][0]["message"],
        }
    ]
    assert send("k3", 30)["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_REQUIRED"
    assert send("k4", 30, changeFromQuantity=None)["userErrors"] == []  # null skips the check
    assert available(client, stock) == 30

    without_key = gql(
        client,
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }",
        "2026-04",
        input={
            "name": "available",
            "reason": "correction",
            "quantities": [dict(item, quantity=1, changeFromQuantity=None)],
        },
    )
    assert (
        without_key["errors"][0]["message"]
        == "The @idempotent directive is required for this mutation."
    )
    old_shape = gql(
        client, SET_2025, "2026-04",
        input={"name": "available", "reason": "correction", "quantities": [dict(item, quantity=1, compareQuantity=30)]},
    )  # fmt: skip
    assert "compareQuantity" in old_shape["errors"][0]["message"]
    assert available(client, stock) == 30


def test_adjust_quantities(client: httpx2.Client, stock: dict[str, str]) -> None:
    mutation = """
    mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: "adjust-1") {
        inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
        userErrors { code field message }
      }
    }"""
    change = {"inventoryItemId": stock["item"], "locationId": stock["location"], "delta": -3}
    done = gql(
        client,
        mutation,
        "2026-07",
        input={
            "name": "available",
            "reason": "correction",
            "changes": [dict(change, changeFromQuantity=10)],
        },
    )
    assert done["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": -3, "quantityAfterChange": 7}
    ]
    damaged = gql(
        client,
        mutation.replace("adjust-1", "adjust-2"),
        "2026-07",
        input={
            "name": "damaged",
            "reason": "damaged",
            "changes": [dict(change, delta=1, changeFromQuantity=None)],
        },
    )
    assert (
        damaged["data"]["inventoryAdjustQuantities"]["userErrors"][0]["field"][-1]
        == "ledgerDocumentUri"
    )
    assert available(client, stock) == 7


def test_input_arrays_are_capped_at_250(client: httpx2.Client, stock: dict[str, str]) -> None:
    quantities = [
        {
            "inventoryItemId": stock["item"],
            "locationId": stock["location"],
            "quantity": 1,
            "compareQuantity": 10,
        }
    ] * 251
    answer = gql(
        client,
        SET_2025,
        input={"name": "available", "reason": "correction", "quantities": quantities},
    )
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in error["message"]
    assert available(client, stock) == 10


def test_fulfillment_create(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 1)])
    fo = gql(
        client,
        "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }",
        id=f"gid://shopify/Order/{order['id']}",
    )["data"]["order"]["fulfillmentOrders"]["nodes"][0]["id"]
    created = gql(
        client,
        """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
             fulfillment { status trackingInfo { company number url } order { displayFulfillmentStatus } }
             userErrors { field message } } }""",
        f={
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}],
            "notifyCustomer": True,
            "trackingInfo": {"company": "UPS", "number": "1Z1"},
        },
    )
    assert created["extensions"]["cost"]["requestedQueryCost"] == 10
    payload = created["data"]["fulfillmentCreate"]
    assert payload["userErrors"] == []
    assert payload["fulfillment"]["status"] == "SUCCESS"
    assert payload["fulfillment"]["trackingInfo"][0]["number"] == "1Z1"
    assert payload["fulfillment"]["order"]["displayFulfillmentStatus"] == "FULFILLED"
    again = gql(
        client,
        "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { field message } } }",
        f={"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]},
    )
    assert again["data"]["fulfillmentCreate"]["userErrors"]


def test_webhook_subscriptions(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    create = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        webhookSubscription { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
        userErrors { field message } } }"""
    made = gql(
        client,
        create,
        "2025-10",
        topic="ORDERS_CREATE",
        sub={"uri": receiver.url, "format": "JSON"},
    )
    subscription = made["data"]["webhookSubscriptionCreate"]["webhookSubscription"]
    assert subscription["topic"] == "ORDERS_CREATE"
    assert subscription["endpoint"] == {
        "__typename": "WebhookHttpEndpoint",
        "callbackUrl": receiver.url,
    }
    taken = gql(client, create, "2025-10", topic="ORDERS_CREATE", sub={"uri": receiver.url})
    assert taken["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"].endswith(
        "has already been taken"
    )
    listed = gql(
        client,
        "{ webhookSubscriptions(first: 10, topics: [ORDERS_CREATE]) { nodes { id } pageInfo { hasNextPage } } }",
    )
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [{"id": subscription["id"]}]
    catalog(sandbox)
    sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert receiver.wait_for(1)[0].headers["x-shopify-api-version"] == "2025-10"
    deleted = gql(
        client,
        "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }",
        id=subscription["id"],
    )
    assert (
        deleted["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"]
        == subscription["id"]
    )


def test_graphql_errors(client: httpx2.Client) -> None:
    syntax = client.post("/admin/api/2025-07/graphql.json", json={"query": "{ shop { name "}).json()
    assert "Syntax Error" in syntax["errors"][0]["message"]
    unknown = client.post(
        "/admin/api/2025-07/graphql.json", json={"query": "{ shop { nope } }"}
    ).json()
    assert "Cannot query field 'nope'" in unknown["errors"][0]["message"]
    raw = client.post(
        "/admin/api/2025-07/graphql.json",
        content=b"{ shop { name } }",
        headers={"Content-Type": "application/graphql"},
    ).json()
    assert raw["data"]["shop"]["name"] == "Acme"
