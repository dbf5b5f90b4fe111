"""Product writes over GraphQL (productCreate, productUpdate, productSet,
productVariantsBulkUpdate) and metafieldsSet: happy paths, user errors, cost, and the
products/* webhooks the same writes fire over REST."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, catalog
from tradewind.sandbox.shopify import ShopifySandbox

PRODUCT = "product { id title handle vendor status tags options { name values } variants(first: 10) { nodes { id sku price barcode selectedOptions { name value } } } }"


def gql(client: httpx2.Client, query: str, **variables: Any) -> Any:
    answer = client.post(
        "/admin/api/2025-07/graphql.json", json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    return body["data"]


SET = f"mutation($input: ProductSetInput!) {{ productSet(input: $input) {{ {PRODUCT} userErrors {{ field message code }} }} }}"


def test_product_set_creates_then_replaces_variants(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    created = gql(
        client,
        SET,
        input={
            "title": "Linen shirt",
            "vendor": "Acme",
            "status": "ACTIVE",
            "tags": ["linen", "summer"],
            "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Size", "name": "S"}],
                    "price": "30.00",
                    "inventoryItem": {"sku": "SH-S"},
                },
                {
                    "optionValues": [{"optionName": "Size", "name": "M"}],
                    "price": "31.00",
                    "inventoryItem": {"sku": "SH-M"},
                },
            ],
        },
    )["productSet"]
    assert created["userErrors"] == []
    product = created["product"]
    assert (product["title"], product["vendor"], product["status"]) == (
        "Linen shirt",
        "Acme",
        "ACTIVE",
    )
    assert product["tags"] == ["linen", "summer"]
    assert product["options"] == [{"name": "Size", "values": ["S", "M"]}]
    assert [(v["sku"], v["price"]) for v in product["variants"]["nodes"]] == [
        ("SH-S", "30.00"),
        ("SH-M", "31.00"),
    ]

    small = product["variants"]["nodes"][0]["id"]
    replaced = gql(
        client,
        SET,
        input={
            "id": product["id"],
            "variants": [
                {
                    "id": small,
                    "optionValues": [{"optionName": "Size", "name": "S"}],
                    "price": "29.00",
                }
            ],
        },
    )["productSet"]["product"]
    assert [(v["id"], v["sku"], v["price"]) for v in replaced["variants"]["nodes"]] == [
        (small, "SH-S", "29.00")
    ]
    stored = sandbox.sandbox.state.shop(SHOP).variants.group(int(product["id"].rsplit("/", 1)[1]))  # type: ignore[union-attr]
    assert len(stored) == 1


@pytest.mark.parametrize(
    ("given", "error"),
    [
        (
            {"id": "gid://shopify/Product/999", "title": "X"},
            {
                "field": ["input", "id"],
                "message": "Product does not exist",
                "code": "PRODUCT_DOES_NOT_EXIST",
            },
        ),
        (
            {"vendor": "no title"},
            {"field": ["input", "title"], "message": "Title can't be blank", "code": "BLANK"},
        ),
        (
            {
                "title": "T",
                "productOptions": [{"name": "Size", "values": [{"name": "S"}]}],
                "variants": [{"optionValues": [{"optionName": "Colour", "name": "Red"}]}],
            },
            {
                "field": ["input", "variants", "0", "optionValues", "0", "optionName"],
                "message": "Option does not exist",
                "code": "OPTION_DOES_NOT_EXIST",
            },
        ),
    ],
)
def test_product_set_user_errors(
    client: httpx2.Client, given: dict[str, Any], error: dict[str, Any]
) -> None:
    answer = gql(client, SET, input=given)["productSet"]
    assert answer == {"product": None, "userErrors": [error]}


def test_product_create_and_update(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    create = f"mutation($p: ProductCreateInput!) {{ productCreate(product: $p) {{ {PRODUCT} userErrors {{ field message }} }} }}"
    made = gql(
        client,
        create,
        p={"title": "Cap", "productOptions": [{"name": "Colour", "values": [{"name": "Red"}]}]},
    )
    product = made["productCreate"]["product"]
    assert product["title"] == "Cap"
    assert product["variants"]["nodes"][0]["selectedOptions"] == [
        {"name": "Colour", "value": "Red"}
    ]
    blank = gql(client, create, p={"vendor": "x"})["productCreate"]
    assert blank == {
        "product": None,
        "userErrors": [{"field": ["title"], "message": "Title can't be blank"}],
    }

    update = f"mutation($p: ProductUpdateInput!) {{ productUpdate(product: $p) {{ {PRODUCT} userErrors {{ field message }} }} }}"
    changed = gql(client, update, p={"id": product["id"], "title": "Red cap", "status": "DRAFT"})[
        "productUpdate"
    ]
    assert (changed["product"]["title"], changed["product"]["status"]) == ("Red cap", "DRAFT")
    missing = gql(client, update, p={"id": "gid://shopify/Product/1", "title": "x"})[
        "productUpdate"
    ]
    assert missing == {
        "product": None,
        "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
    }
    rest = client.get(f"/admin/api/2025-07/products/{product['id'].rsplit('/', 1)[1]}.json").json()
    assert rest["product"]["title"] == "Red cap"


BULK = (
    "mutation($id: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $id, variants: $v) "
    "{ productVariants { id price barcode sku } userErrors { field message code } } }"
)


def test_variants_bulk_update(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    mug = catalog(sandbox)
    product, variant = (
        f"gid://shopify/Product/{mug['id']}",
        f"gid://shopify/ProductVariant/{mug['variants'][0]['id']}",
    )
    done = gql(
        client,
        BULK,
        id=product,
        v=[{"id": variant, "price": "14.50", "barcode": "123", "inventoryItem": {"sku": "MUG-9"}}],
    )
    assert done["productVariantsBulkUpdate"] == {
        "productVariants": [{"id": variant, "price": "14.50", "barcode": "123", "sku": "MUG-9"}],
        "userErrors": [],
    }
    nobody = gql(client, BULK, id="gid://shopify/Product/1", v=[{"id": variant, "price": "1"}])
    assert nobody["productVariantsBulkUpdate"]["userErrors"] == [
        {
            "field": ["productId"],
            "message": "Product does not exist",
            "code": "PRODUCT_DOES_NOT_EXIST",
        }
    ]
    stranger = gql(
        client, BULK, id=product, v=[{"id": "gid://shopify/ProductVariant/1", "price": "1"}]
    )
    assert stranger["productVariantsBulkUpdate"]["userErrors"] == [
        {
            "field": ["variants", "0", "id"],
            "message": "Product variant does not exist",
            "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
        }
    ]


METAFIELDS = (
    "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) "
    "{ metafields { id namespace key value type ownerType } userErrors { field message code elementIndex } } }"
)


def test_metafields_set_creates_then_updates_in_place(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    mug = catalog(sandbox)
    owner = f"gid://shopify/Product/{mug['id']}"
    first = gql(
        client,
        METAFIELDS,
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
    (made,) = first["metafieldsSet"]["metafields"]
    assert (made["value"], made["ownerType"]) == ("Hand wash", "PRODUCT")
    again = gql(
        client,
        METAFIELDS,
        m=[{"ownerId": owner, "namespace": "custom", "key": "care", "value": "Dishwasher"}],
    )
    (updated,) = again["metafieldsSet"]["metafields"]
    assert (updated["id"], updated["value"], updated["type"]) == (
        made["id"],
        "Dishwasher",
        "single_line_text_field",
    )
    read = client.post(
        "/admin/api/2025-07/graphql.json",
        json={
            "query": 'query($id: ID!) { product(id: $id) { metafield(namespace: "custom", key: "care") '
            "{ value } metafields(first: 5) { nodes { namespace key } } } }",
            "variables": {"id": owner},
        },
    ).json()["data"]["product"]
    assert read == {
        "metafield": {"value": "Dishwasher"},
        "metafields": {"nodes": [{"namespace": "custom", "key": "care"}]},
    }


def test_metafields_set_is_all_or_nothing(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    mug = catalog(sandbox)
    owner = f"gid://shopify/Product/{mug['id']}"
    answer = gql(
        client,
        METAFIELDS,
        m=[
            {
                "ownerId": owner,
                "namespace": "custom",
                "key": "ok",
                "value": "1",
                "type": "number_integer",
            },
            {
                "ownerId": owner,
                "namespace": "custom",
                "key": "bad",
                "value": "x",
                "type": "number_integer",
            },
            {
                "ownerId": "gid://shopify/Product/1",
                "key": "k",
                "value": "v",
                "type": "single_line_text_field",
            },
        ],
    )["metafieldsSet"]
    assert answer["metafields"] is None
    assert answer["userErrors"] == [
        {
            "field": ["metafields", "1", "value"],
            "message": "Value must be an integer.",
            "code": "INVALID_VALUE",
            "elementIndex": 1,
        },
        {
            "field": ["metafields", "2", "ownerId"],
            "message": "Owner does not exist.",
            "code": "INVALID",
            "elementIndex": 2,
        },
    ]
    assert sandbox.sandbox.state.shop(SHOP).metafields.values() == []  # type: ignore[union-attr]
    too_many = [
        {"ownerId": owner, "key": f"k{n}", "value": "v", "type": "single_line_text_field"}
        for n in range(26)
    ]
    refused = gql(client, METAFIELDS, m=too_many)["metafieldsSet"]
    assert refused["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
