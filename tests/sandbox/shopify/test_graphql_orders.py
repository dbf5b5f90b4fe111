"""Order writes over GraphQL: orderCancel in its 2024+ signature (a Job and
orderCancelUserErrors; restock honoured) and fulfillmentCancel."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.sandbox.shopify.conftest import SHOP, catalog
from tradewind.sandbox.shopify import ShopifySandbox

CANCEL = (
    "mutation($id: ID!, $restock: Boolean!, $refund: Boolean) { orderCancel(orderId: $id, "
    "reason: CUSTOMER, refund: $refund, restock: $restock, notifyCustomer: false) "
    "{ job { id done } orderCancelUserErrors { field message code } userErrors { field message } } }"
)
ORDER = "query($id: ID!) { order(id: $id) { cancelledAt cancelReason displayFinancialStatus } }"


def gql(client: httpx2.Client, query: str, **variables: Any) -> Any:
    answer = client.post(
        "/admin/api/2025-07/graphql.json", json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["actualQueryCost"] is not None
    return body["data"]


def available(sandbox: ShopifySandbox, sku: str) -> int:
    shop = sandbox.sandbox.state.shop(SHOP)
    assert shop is not None
    item = next(i for i in shop.inventory_items.values() if i["sku"] == sku)
    return sum(level.available for level in shop.levels.group(item["id"]))


def test_order_cancel_restocks_and_answers_with_a_job(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox, stock=10)
    order = sandbox.place_order(SHOP, [("MUG-1", 3)], kind="web")
    gid = f"gid://shopify/Order/{order['id']}"
    assert available(sandbox, "MUG-1") == 7
    answer = gql(client, CANCEL, id=gid, restock=True, refund=True)["orderCancel"]
    assert answer["orderCancelUserErrors"] == [] and answer["userErrors"] == []
    assert answer["job"]["id"].startswith("gid://shopify/Job/")
    assert gql(client, "query($id: ID!) { job(id: $id) { done } }", id=answer["job"]["id"]) == {
        "job": {"done": True}
    }
    shown = gql(client, ORDER, id=gid)["order"]
    assert shown["cancelledAt"] is not None
    assert shown["cancelReason"] == "CUSTOMER"
    assert shown["displayFinancialStatus"] == "REFUNDED"
    assert available(sandbox, "MUG-1") == 10

    again = gql(client, CANCEL, id=gid, restock=True)["orderCancel"]
    assert again["job"] is None
    assert again["orderCancelUserErrors"] == [
        {"field": ["orderId"], "message": "has already been cancelled", "code": "INVALID"}
    ]


def test_order_cancel_without_restock_keeps_the_stock_out(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox, stock=10)
    order = sandbox.place_order(SHOP, [("MUG-1", 3)], kind="web")
    gql(client, CANCEL, id=f"gid://shopify/Order/{order['id']}", restock=False)
    assert available(sandbox, "MUG-1") == 7


def test_order_cancel_of_an_unknown_order(client: httpx2.Client) -> None:
    answer = gql(client, CANCEL, id="gid://shopify/Order/1", restock=True)["orderCancel"]
    assert answer["orderCancelUserErrors"] == [
        {"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}
    ]


def test_fulfillment_cancel(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="web")
    fo = gql(
        client,
        "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }",
        id=f"gid://shopify/Order/{order['id']}",
    )["order"]["fulfillmentOrders"]["nodes"][0]["id"]
    created = gql(
        client,
        "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } } }",
        f={"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}], "notifyCustomer": False},
    )["fulfillmentCreate"]["fulfillment"]["id"]
    cancel = (
        "mutation($id: ID!) { fulfillmentCancel(id: $id) { fulfillment { id status "
        "order { displayFulfillmentStatus } } userErrors { field message } } }"
    )
    done = gql(client, cancel, id=created)["fulfillmentCancel"]
    assert done["userErrors"] == []
    assert done["fulfillment"]["status"] == "CANCELLED"
    assert done["fulfillment"]["order"]["displayFulfillmentStatus"] == "UNFULFILLED"

    twice = gql(client, cancel, id=created)["fulfillmentCancel"]
    assert twice == {
        "fulfillment": None,
        "userErrors": [{"field": ["id"], "message": "Fulfillment is already cancelled"}],
    }
    unknown = gql(client, cancel, id="gid://shopify/Fulfillment/1")["fulfillmentCancel"]
    assert unknown["userErrors"] == [{"field": ["id"], "message": "Fulfillment does not exist."}]


CREATE = (
    "mutation($o: OrderCreateOrderInput!, $opt: OrderCreateOptionsInput) { orderCreate(order: $o, options: $opt) "
    "{ order { id name email sourceName displayFinancialStatus customer { email } "
    "lineItems(first: 5) { nodes { sku quantity } } } userErrors { field message code } } }"
)


def test_order_create_decrements_stock_when_asked(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    mug = catalog(sandbox, stock=10)
    variant = f"gid://shopify/ProductVariant/{mug['variants'][0]['id']}"
    answer = gql(
        client,
        CREATE,
        o={
            "lineItems": [{"variantId": variant, "quantity": 2}],
            "email": "ana@example.com",
            "financialStatus": "PAID",
            "customer": {"toUpsert": {"email": "ana@example.com", "firstName": "Ana"}},
        },
        opt={"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
    )["orderCreate"]
    assert answer["userErrors"] == []
    order = answer["order"]
    assert order["lineItems"]["nodes"] == [{"sku": "MUG-1", "quantity": 2}]
    assert order["displayFinancialStatus"] == "PAID"
    assert order["customer"] == {"email": "ana@example.com"}
    assert available(sandbox, "MUG-1") == 8

    bypass = gql(client, CREATE, o={"lineItems": [{"variantId": variant, "quantity": 1}]})
    assert bypass["orderCreate"]["userErrors"] == []
    assert available(sandbox, "MUG-1") == 8


def test_order_create_user_errors(client: httpx2.Client) -> None:
    unknown = gql(
        client,
        CREATE,
        o={"lineItems": [{"variantId": "gid://shopify/ProductVariant/1", "quantity": 1}]},
    )["orderCreate"]
    assert unknown == {
        "order": None,
        "userErrors": [
            {
                "field": ["order", "lineItems", "0", "variantId"],
                "message": "Variant does not exist",
                "code": "INVALID",
            }
        ],
    }
    empty = gql(client, CREATE, o={"lineItems": []})["orderCreate"]
    assert empty["userErrors"][0]["field"] == ["order", "lineItems"]
    nobody = gql(
        client,
        CREATE,
        o={
            "lineItems": [{"title": "Gift wrap", "quantity": 1}],
            "customer": {"toAssociate": {"id": "gid://shopify/Customer/1"}},
        },
    )["orderCreate"]
    assert nobody["userErrors"] == [
        {
            "field": ["order", "customer", "toAssociate", "id"],
            "message": "Customer does not exist",
            "code": "INVALID",
        }
    ]
