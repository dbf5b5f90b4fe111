"""``refundCreate`` in the sandbox: a refund of returned lines restocked at a location,
seen in REST and GraphQL, announced by ``refunds/create``; bad lines and quantities over
what is refundable are ``userErrors`` with nothing refunded; a lost answer (the
``lose_answer`` fault) still leaves the refund made."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, Receiver, catalog, subscribe
from tests.sandbox.shopify.test_graphql import available, gql
from tradewind.sandbox.shopify import ShopifySandbox

REFUND = """mutation($input: RefundInput!) { refundCreate(input: $input) {
  refund { id legacyResourceId note
    refundLineItems(first: 10) { nodes { quantity restockType restocked
      lineItem { id } location { id } } } }
  order { displayFinancialStatus refunds { id note } }
  userErrors { field message } } }"""


@pytest.fixture
def placed(sandbox: ShopifySandbox, client: httpx2.Client) -> dict[str, Any]:
    """A paid order of 3 mugs (7 of 10 left available), with the ids GraphQL uses."""
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 3)])
    found = gql(
        client,
        '{ productVariants(first: 1, query: "sku:MUG-1") { nodes { inventoryItem { id } } } '
        "locations(first: 1) { nodes { id } } }",
    )["data"]
    return {
        "rest": order,
        "order": f"gid://shopify/Order/{order['id']}",
        "line": f"gid://shopify/LineItem/{order['line_items'][0]['id']}",
        "stock": {
            "item": found["productVariants"]["nodes"][0]["inventoryItem"]["id"],
            "location": found["locations"]["nodes"][0]["id"],
        },
    }


def _refund(
    client: httpx2.Client, placed: dict[str, Any], quantity: int, **line: Any
) -> dict[str, Any]:
    item = {"lineItemId": placed["line"], "quantity": quantity, **line}
    answer = gql(
        client,
        REFUND,
        input={"orderId": placed["order"], "note": "tradewind-return-7", "refundLineItems": [item]},
    )
    assert answer["extensions"]["cost"]["requestedQueryCost"] >= 10
    return dict(answer["data"]["refundCreate"])


def test_refund_create_restocks_at_the_location_and_is_seen_everywhere(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver, placed: dict[str, Any]
) -> None:
    subscribe(client, "refunds/create", receiver.url)
    before = available(client, placed["stock"])
    payload = _refund(
        client, placed, 2, restockType="RETURN", locationId=placed["stock"]["location"]
    )
    assert payload["userErrors"] == []
    refund = payload["refund"]
    assert refund["note"] == "tradewind-return-7"
    [line] = refund["refundLineItems"]["nodes"]
    assert line == {
        "quantity": 2,
        "restockType": "RETURN",
        "restocked": True,
        "lineItem": {"id": placed["line"]},
        "location": {"id": placed["stock"]["location"]},
    }
    assert available(client, placed["stock"]) == before + 2
    assert payload["order"]["refunds"] == [{"id": refund["id"], "note": "tradewind-return-7"}]
    rest = client.get(f"/admin/api/2025-07/orders/{placed['rest']['id']}/refunds.json").json()
    [listed] = rest["refunds"]
    assert str(listed["id"]) == refund["legacyResourceId"]
    assert listed["refund_line_items"][0]["restock_type"] == "return"
    assert listed["refund_line_items"][0]["quantity"] == 2
    [hook] = receiver.wait_for(1)
    assert hook.headers["x-shopify-topic"] == "refunds/create"
    assert b'"tradewind-return-7"' in hook.body


def test_refund_create_without_restock_leaves_stock_alone(
    client: httpx2.Client, placed: dict[str, Any]
) -> None:
    before = available(client, placed["stock"])
    payload = _refund(client, placed, 1, restockType="NO_RESTOCK")
    assert payload["userErrors"] == []
    assert payload["refund"]["refundLineItems"]["nodes"][0]["restocked"] is False
    assert available(client, placed["stock"]) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lineItemId": "gid://shopify/LineItem/999999"}, "lineItemId"),
        ({"quantity": 4}, "quantity"),  # 3 bought
        ({"quantity": 0}, "quantity"),
        ({"locationId": "gid://shopify/Location/999999", "restockType": "RETURN"}, "locationId"),
    ],
)
def test_refund_create_refuses_bad_lines_with_user_errors(
    client: httpx2.Client, placed: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    item = {"lineItemId": placed["line"], "quantity": 1, **change}
    payload = gql(client, REFUND, input={"orderId": placed["order"], "refundLineItems": [item]})[
        "data"
    ]["refundCreate"]
    assert payload["refund"] is None
    assert payload["userErrors"][0]["field"] == ["refundLineItems", "0", field]
    rest = client.get(f"/admin/api/2025-07/orders/{placed['rest']['id']}/refunds.json").json()
    assert rest["refunds"] == []
    # Within what is refundable, the same line refunds.
    assert _refund(client, placed, 3)["userErrors"] == []
    assert _refund(client, placed, 1)["userErrors"][0]["field"] == [
        "refundLineItems",
        "0",
        "quantity",
    ]  # all 3 refunded already


def test_refund_create_of_an_unknown_order_is_a_user_error(client: httpx2.Client) -> None:
    payload = gql(client, REFUND, input={"orderId": "gid://shopify/Order/424242"})["data"]
    assert payload["refundCreate"]["userErrors"] == [
        {"field": ["orderId"], "message": "Order does not exist"}
    ]


def test_a_lost_answer_still_made_the_refund(
    sandbox: ShopifySandbox, client: httpx2.Client, placed: dict[str, Any]
) -> None:
    sandbox.inject_fault(SHOP, "lose_answer", query_contains="refundCreate")
    item = {"lineItemId": placed["line"], "quantity": 1}
    answer = client.post(
        "/admin/api/2025-07/graphql.json",
        json={
            "query": REFUND,
            "variables": {"input": {"orderId": placed["order"], "refundLineItems": [item]}},
        },
    )
    assert answer.status_code == 504
    rest = client.get(f"/admin/api/2025-07/orders/{placed['rest']['id']}/refunds.json").json()
    assert len(rest["refunds"]) == 1
    assert _refund(client, placed, 1)["userErrors"] == []  # the fault is spent
