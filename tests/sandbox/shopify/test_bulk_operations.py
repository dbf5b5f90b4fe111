"""Bulk operations: bulkOperationRunQuery through CREATED → RUNNING → COMPLETED in
sandbox time, the JSONL result with ``__parentId`` rows, currentBulkOperation and
node(id:) polling, one running bulk query per app and shop, cancelling, the
``bulk_operations/finish`` webhook, and the user errors of unsupported queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import orjson
import pytest

from tests.sandbox.shopify.conftest import APP_KEY, SHOP, Receiver, catalog, subscribe
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.bulk import BulkRunner, Status

RUN = (
    "mutation($q: String!) { bulkOperationRunQuery(query: $q) "
    "{ bulkOperation { id status query } userErrors { field message code } } }"
)
FIELDS = (
    "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url "
    "partialDataUrl query type"
)
PRODUCTS = "{ products { edges { node { id title variants { edges { node { id sku } } } } } } }"


def gql(client: httpx2.Client, query: str, **variables: Any) -> Any:
    answer = client.post(
        "/admin/api/2025-07/graphql.json", json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] is not None
    assert "throttleStatus" in cost
    return body


def start(client: httpx2.Client, query: str) -> Any:
    return gql(client, RUN, q=query)["data"]["bulkOperationRunQuery"]


def op_id(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def finish(runner: BulkRunner, gid: str) -> None:
    done = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELED})
    assert runner.wait_for(op_id(gid), done) is not None


def current(client: httpx2.Client) -> Any:
    return gql(client, f"{{ currentBulkOperation {{ {FIELDS} }} }}")["data"]["currentBulkOperation"]


def result_lines(url: str) -> list[Any]:
    answer = httpx2.get(url)
    assert answer.status_code == 200
    return [orjson.loads(line) for line in answer.content.splitlines()]


@pytest.fixture
def runner(sandbox: ShopifySandbox) -> Iterator[BulkRunner]:
    yield sandbox.sandbox.bulk
    sandbox.sandbox.bulk.release()


def test_the_result_url_is_signed_like_shopifys_with_the_file_name(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    """Shopify's result URL is a signed storage link naming the file in its
    ``response-content-disposition`` parameter, which clients (Airbyte's source) parse and
    the storage echoes as the download's Content-Disposition."""
    catalog(sandbox)
    gid = start(client, PRODUCTS)["bulkOperation"]["id"]
    finish(runner, gid)
    url = current(client)["url"]
    name = f"bulk-{gid.rsplit('/', 1)[1]}.jsonl"
    signed = parse_qs(urlsplit(url).query)
    assert signed["response-content-disposition"] == [
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    ]
    assert signed["response-content-type"] == ["application/jsonl"]
    download = httpx2.get(url)
    assert download.headers["content-disposition"] == signed["response-content-disposition"][0]
    assert download.headers["content-type"].startswith("application/jsonl")
    assert len(download.content.splitlines()) == 4


def test_products_with_variants_become_jsonl_with_parent_ids(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    mug = catalog(sandbox)
    started = start(client, PRODUCTS)
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    assert started["bulkOperation"]["query"] == PRODUCTS
    finish(runner, started["bulkOperation"]["id"])

    done = current(client)
    assert done["id"] == started["bulkOperation"]["id"]
    assert done["status"] == "COMPLETED"
    assert done["type"] == "QUERY"
    assert done["errorCode"] is None and done["partialDataUrl"] is None
    assert done["completedAt"] is not None
    assert (done["objectCount"], done["rootObjectCount"]) == ("4", "2")
    lines = result_lines(done["url"])
    assert int(done["fileSize"]) == len(httpx2.get(done["url"]).content)
    product_gid = f"gid://shopify/Product/{mug['id']}"
    assert lines[0] == {"id": product_gid, "title": "Enamel mug"}
    assert lines[1]["sku"] == "MUG-1"
    assert lines[1]["__parentId"] == product_gid
    assert [line.get("__parentId") is None for line in lines] == [True, False, True, False]
    assert runner.get(SHOP, APP_KEY, op_id(done["id"])).history == [  # type: ignore[union-attr]
        Status.CREATED,
        Status.RUNNING,
        Status.COMPLETED,
    ]


def test_each_state_is_observable_by_polling(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox)
    runner.hold()
    gid = start(client, PRODUCTS)["bulkOperation"]["id"]
    assert current(client)["status"] == "CREATED"

    runner.step()
    assert runner.wait_for(op_id(gid), Status.RUNNING) is Status.RUNNING
    polled = gql(client, f'{{ node(id: "{gid}") {{ ... on BulkOperation {{ {FIELDS} }} }} }}')
    assert polled["data"]["node"]["status"] == "RUNNING"
    assert polled["data"]["node"]["url"] is None

    runner.step()
    finish(runner, gid)
    by_id = gql(client, f'{{ bulkOperation(id: "{gid}") {{ status url }} }}')["data"]
    assert by_id["bulkOperation"]["status"] == "COMPLETED"
    assert urlsplit(by_id["bulkOperation"]["url"]).path.endswith(".jsonl")


def test_one_running_bulk_query_per_app_and_shop(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox)
    runner.hold()
    first = start(client, PRODUCTS)["bulkOperation"]["id"]
    second = start(client, PRODUCTS)
    assert second["bulkOperation"] is None
    assert second["userErrors"] == [
        {
            "field": None,
            "message": f"A bulk query operation for this app and shop is already in progress: {first}.",
            "code": "OPERATION_IN_PROGRESS",
        }
    ]

    sandbox.sandbox.create_app("other-app", "other-secret")
    other = sandbox.issue_token(SHOP, app_key="other-app")
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": other}
    ) as http:
        assert start(http, PRODUCTS)["userErrors"] == []
        assert current(http)["id"] != first

    runner.release()
    finish(runner, first)
    assert start(client, PRODUCTS)["userErrors"] == []


def test_orders_with_line_items_honour_the_query_filter(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox)
    wanted = sandbox.place_order(SHOP, [("MUG-1", 2), ("TOTE-1", 1)], kind="web")
    sandbox.place_order(SHOP, [("TOTE-1", 1)], kind="web")
    query = (
        '{ orders(query: "sku:MUG-1") { edges { node { id name '
        "lineItems { edges { node { id sku quantity } } } } } } }"
    )
    gid = start(client, query)["bulkOperation"]["id"]
    finish(runner, gid)
    done = current(client)
    lines = result_lines(done["url"])
    order_gid = f"gid://shopify/Order/{wanted['id']}"
    assert lines[0]["id"] == order_gid
    assert [(line["sku"], line["quantity"]) for line in lines[1:]] == [("MUG-1", 2), ("TOTE-1", 1)]
    assert {line["__parentId"] for line in lines[1:]} == {order_gid}
    assert (done["objectCount"], done["rootObjectCount"]) == ("3", "1")


def test_customers_and_inventory_levels(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox, stock=7)
    sandbox.place_order(SHOP, [("MUG-1", 1)], kind="web")
    levels = (
        '{ inventoryItems(query: "sku:MUG-1") { edges { node { id sku inventoryLevels { edges '
        '{ node { id quantities(names: ["available"]) { name quantity } } } } } } } }'
    )
    finish(runner, start(client, levels)["bulkOperation"]["id"])
    item, level = result_lines(current(client)["url"])
    assert item["sku"] == "MUG-1"
    assert level["__parentId"] == item["id"]
    assert level["quantities"] == [{"name": "available", "quantity": 6}]

    customers = "{ customers { nodes { id email } } }"
    finish(runner, start(client, customers)["bulkOperation"]["id"])
    rows = result_lines(current(client)["url"])
    assert rows and all(row["id"].startswith("gid://shopify/Customer/") for row in rows)


def test_product_metafields_are_flattened_under_their_product(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    mug = catalog(sandbox)
    owner = f"gid://shopify/Product/{mug['id']}"
    gql(
        client,
        "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { message } } }",
        m=[
            {
                "ownerId": owner,
                "namespace": "custom",
                "key": "care",
                "value": "Hand wash",
                "type": "single_line_text_field",
            }
        ],
    )
    query = "{ products { edges { node { id metafields { edges { node { id key value } } } } } } }"
    finish(runner, start(client, query)["bulkOperation"]["id"])
    lines = result_lines(current(client)["url"])
    assert [line for line in lines if "__parentId" in line] == [
        {"id": lines[1]["id"], "key": "care", "value": "Hand wash", "__parentId": owner}
    ]


def test_an_empty_result_completes_without_a_file(
    client: httpx2.Client, runner: BulkRunner
) -> None:
    finish(runner, start(client, PRODUCTS)["bulkOperation"]["id"])
    done = current(client)
    assert (done["status"], done["objectCount"], done["url"]) == ("COMPLETED", "0", None)


def test_a_query_outside_the_token_scopes_fails_with_access_denied(
    sandbox: ShopifySandbox, runner: BulkRunner
) -> None:
    catalog(sandbox)
    token = sandbox.issue_token(SHOP, app_key=APP_KEY, scopes=["read_orders"])
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": token}
    ) as http:
        finish(runner, start(http, PRODUCTS)["bulkOperation"]["id"])
        failed = current(http)
    assert (failed["status"], failed["errorCode"], failed["url"]) == (
        "FAILED",
        "ACCESS_DENIED",
        None,
    )


def test_cancel_stops_a_running_operation(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox)
    runner.hold()
    gid = start(client, PRODUCTS)["bulkOperation"]["id"]
    cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }"
    cancelled = gql(client, cancel, id=gid)["data"]["bulkOperationCancel"]
    assert cancelled == {"bulkOperation": {"id": gid, "status": "CANCELING"}, "userErrors": []}
    assert runner.wait_for(op_id(gid), Status.CANCELED) is Status.CANCELED
    assert current(client)["url"] is None

    again = gql(client, cancel, id=gid)["data"]["bulkOperationCancel"]
    assert again["userErrors"] == [
        {"field": None, "message": "A bulk operation cannot be canceled when it is canceled"}
    ]
    unknown = gql(client, cancel, id="gid://shopify/BulkOperation/1")["data"]["bulkOperationCancel"]
    assert unknown == {
        "bulkOperation": None,
        "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
    }
    assert start(client, PRODUCTS)["userErrors"] == []


def test_finish_webhook_goes_to_the_app_that_ran_it(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner, receiver: Receiver
) -> None:
    catalog(sandbox)
    subscribe(client, "bulk_operations/finish", receiver.url)
    sandbox.sandbox.create_app("other-app", "other-secret")
    other = sandbox.issue_token(SHOP, app_key="other-app")
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": other}
    ) as http:
        subscribe(http, "bulk_operations/finish", receiver.url + "/other")
    gid = start(client, PRODUCTS)["bulkOperation"]["id"]
    finish(runner, gid)
    assert sandbox.sandbox.webhooks.wait_idle()
    (delivery,) = receiver.wait_for(1)
    assert delivery.path == "/hooks"
    assert delivery.headers["x-shopify-topic"] == "bulk_operations/finish"
    payload = orjson.loads(delivery.body)
    assert payload["admin_graphql_api_id"] == gid
    assert (payload["status"], payload["type"], payload["error_code"]) == (
        "completed",
        "query",
        None,
    )
    assert payload["completed_at"] is not None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        (
            '{ node(id: "gid://shopify/Product/1") { id } }',
            "Bulk queries cannot contain a top level `node` or `nodes` field.",
        ),
        (
            "{ products { edges { node { id variants { edges { node { id inventoryItem { id "
            "inventoryLevels { edges { node { id } } } } } } } } } } }",
            "Bulk queries cannot contain connections with a nesting depth greater than 2.",
        ),
        (
            "{ products { edges { node { id "
            + " ".join(f"v{n}: variants {{ nodes {{ id }} }}" for n in range(5))
            + " } } } }",
            "Bulk queries cannot contain more than 5 connections.",
        ),
        (
            "{ products { edges { node { id } }",
            "Invalid bulk query: Syntax Error: Expected Name, found <EOF>.",
        ),
        (
            "{ products { nodes { moons } } }",
            "Invalid bulk query: Cannot query field 'moons' on type 'Product'.",
        ),
        (
            "{ products { nodes { title variants { nodes { id } } } } }",
            "The parent of a nested connection must select `id`.",
        ),
    ],
)
def test_unsupported_queries_are_user_errors(
    client: httpx2.Client, runner: BulkRunner, query: str, message: str
) -> None:
    refused = start(client, query)
    assert refused == {
        "bulkOperation": None,
        "userErrors": [{"field": ["query"], "message": message, "code": "INVALID"}],
    }
    assert current(client) is None


def _fulfil(client: httpx2.Client, order: dict[str, Any], line_index: int) -> int:
    """Ship one line of the order in a fulfillment of its own."""
    groups = client.get(f"/admin/api/2025-07/orders/{order['id']}/fulfillment_orders.json")
    (group,) = groups.json()["fulfillment_orders"]
    wanted = order["line_items"][line_index]["id"]
    (line,) = [li for li in group["line_items"] if li["line_item_id"] == wanted]
    made = client.post(
        "/admin/api/2025-07/fulfillments.json",
        json={
            "fulfillment": {
                "line_items_by_fulfillment_order": [
                    {
                        "fulfillment_order_id": group["id"],
                        "fulfillment_order_line_items": [
                            {"id": line["id"], "quantity": line["fulfillable_quantity"]}
                        ],
                    }
                ]
            }
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["fulfillment"]["id"])


def test_connections_under_a_list_name_the_object_that_holds_them(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    """A fulfillment's lines follow the order with the fulfillment's id as their
    ``__parentId`` (two fulfillments of one order stay apart), a refund's with the
    refund's."""
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 2), ("TOTE-1", 1)], kind="web")
    first, second = _fulfil(client, order, 0), _fulfil(client, order, 1)
    refund = client.post(
        f"/admin/api/2025-07/orders/{order['id']}/refunds.json",
        json={
            "refund": {
                "refund_line_items": [{"line_item_id": order["line_items"][0]["id"], "quantity": 1}]
            }
        },
    )
    assert refund.status_code == 201, refund.text
    query = (
        "{ orders { edges { node { id fulfillments { id fulfillmentLineItems { edges { node "
        "{ id quantity lineItem { sku } } } } } refunds { id refundLineItems { edges { node "
        "{ quantity lineItem { sku } } } } } } } } }"
    )
    gid = start(client, query)["bulkOperation"]["id"]
    finish(runner, gid)
    lines = result_lines(current(client)["url"])
    fulfillments = {f["id"] for f in lines[0]["fulfillments"]}
    assert fulfillments == {
        f"gid://shopify/Fulfillment/{first}",
        f"gid://shopify/Fulfillment/{second}",
    }
    shipped = {
        line["__parentId"]: line["lineItem"]["sku"]
        for line in lines
        if "quantity" in line and "id" in line
    }
    assert shipped == {
        f"gid://shopify/Fulfillment/{first}": "MUG-1",
        f"gid://shopify/Fulfillment/{second}": "TOTE-1",
    }
    refund_gid = f"gid://shopify/Refund/{refund.json()['refund']['id']}"
    (refunded,) = [line for line in lines if line.get("__parentId") == refund_gid]
    assert (refunded["quantity"], refunded["lineItem"]["sku"]) == (1, "MUG-1")


def test_the_result_is_read_from_a_byte_on_and_can_be_tampered_with(
    sandbox: ShopifySandbox, client: httpx2.Client, runner: BulkRunner
) -> None:
    catalog(sandbox)
    gid = start(client, PRODUCTS)["bulkOperation"]["id"]
    finish(runner, gid)
    url = current(client)["url"]
    whole = httpx2.get(url).content
    cut = whole.index(b"\n") + 1
    rest = httpx2.get(url, headers={"Range": f"bytes={cut}-"})
    assert rest.status_code == 206 and rest.content == whole[cut:]
    assert rest.headers["content-range"] == f"bytes {cut}-{len(whole) - 1}/{len(whole)}"
    assert httpx2.get(url, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416

    runner.tamper(op_id(gid), lambda body: b"{garbled\n" + body)
    assert httpx2.get(url).content == b"{garbled\n" + whole
    assert int(current(client)["fileSize"]) == len(whole) + 9
