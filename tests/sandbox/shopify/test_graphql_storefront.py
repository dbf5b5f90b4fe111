"""The product and inventory fields that catalog mirrors (Airbyte's Shopify source among
them) select, each derived from the same documents the REST API renders; products sorted
by ``sortKey``; ``locations(includeInactive:)``; inventory levels filtered by ``query:``."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.sandbox.shopify.conftest import SHOP, catalog
from tests.sandbox.shopify.test_graphql import gql
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.service import ShopOps

VERSION = "2026-10"

STOREFRONT = """query($id: ID!) { product(id: $id) {
  bodyHtml description short: description(truncateAt: 12) descriptionHtml
  templateSuffix isGiftCard onlineStoreUrl onlineStorePreviewUrl
  hasOnlyDefaultVariant hasOutOfStockVariants requiresSellingPlan
  priceRangeV2 { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } }
  seo { title description }
  featuredImage { id url altText width height }
  featuredMedia { id alt mediaContentType status preview { status image { id } }
    mediaErrors { code } mediaWarnings { code } ... on MediaImage { image { url } } }
  images(first: 5) { nodes { id url altText } }
  feedback { summary } category { id name }
  variantsCount { count precision } mediaCount { count precision }
} }"""


def rest_product(client: httpx2.Client, **product: Any) -> dict[str, Any]:
    made = client.post(f"/admin/api/{VERSION}/products.json", json={"product": product})
    assert made.status_code == 201, made.text
    document: dict[str, Any] = made.json()["product"]
    return document


def test_a_products_storefront_fields_follow_its_rest_document(client: httpx2.Client) -> None:
    made = rest_product(
        client,
        title="Enamel mug",
        body_html="<p>A <strong>sturdy</strong> mug &amp; lid</p>",
        template_suffix="special",
        options=[{"name": "Color", "values": ["Blue", "Red"]}],
        variants=[
            {"option1": "Blue", "price": "12.00", "sku": "MUG-B"},
            {"option1": "Red", "price": "14.50", "sku": "MUG-R"},
        ],
        images=[
            {"src": "https://example.com/front.png", "alt": "Front"},
            {"src": "https://example.com/back.png", "alt": "Back"},
        ],
    )
    product = gql(client, STOREFRONT, VERSION, id=made["admin_graphql_api_id"])["data"]["product"]

    assert product["bodyHtml"] == product["descriptionHtml"] == made["body_html"]
    assert product["description"] == "A sturdy mug & lid"
    assert product["short"] == "A sturdy..."
    assert product["templateSuffix"] == "special"
    assert product["onlineStoreUrl"] == f"https://{SHOP}.myshopify.com/products/enamel-mug"
    assert product["hasOnlyDefaultVariant"] is False
    assert product["hasOutOfStockVariants"] is True  # tracked, and nothing in stock
    assert product["priceRangeV2"] == {
        "minVariantPrice": {"amount": "12.00", "currencyCode": "USD"},
        "maxVariantPrice": {"amount": "14.50", "currencyCode": "USD"},
    }
    assert product["seo"] == {"title": None, "description": None}
    front, back = made["images"]
    assert product["featuredImage"] == {
        "id": f"gid://shopify/ProductImage/{front['id']}",
        "url": front["src"],
        "altText": "Front",
        "width": front["width"],
        "height": front["height"],
    }
    media = product["featuredMedia"]
    assert media["id"] == front["admin_graphql_api_id"]
    assert (media["alt"], media["mediaContentType"], media["status"]) == ("Front", "IMAGE", "READY")
    assert media["image"]["url"] == front["src"]
    assert media["mediaErrors"] == media["mediaWarnings"] == []
    assert [i["url"] for i in product["images"]["nodes"]] == [front["src"], back["src"]]
    assert product["feedback"] is None and product["category"] is None
    assert product["variantsCount"] == {"count": 2, "precision": "EXACT"}
    assert product["mediaCount"] == {"count": 2, "precision": "EXACT"}


def test_an_unpublished_default_variant_product_in_stock(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    made = rest_product(client, title="Tote", published=False, variants=[{"price": "20.00"}])
    item = made["variants"][0]["inventory_item_id"]
    location = client.get(f"/admin/api/{VERSION}/locations.json").json()["locations"][0]["id"]
    set_level = client.post(
        f"/admin/api/{VERSION}/inventory_levels/set.json",
        json={"location_id": location, "inventory_item_id": item, "available": 3},
    )
    assert set_level.status_code == 200, set_level.text
    product = gql(client, STOREFRONT, VERSION, id=made["admin_graphql_api_id"])["data"]["product"]
    assert product["onlineStoreUrl"] is None  # not published
    assert product["onlineStorePreviewUrl"] == f"https://{SHOP}.myshopify.com/products/tote"
    assert product["hasOnlyDefaultVariant"] is True
    assert product["hasOutOfStockVariants"] is False
    assert product["description"] == "" and product["bodyHtml"] is None
    assert product["featuredImage"] is None and product["featuredMedia"] is None
    assert product["mediaCount"]["count"] == 0


def test_products_sorted_by_updated_at_and_created_at(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    first = rest_product(client, title="Zebra", variants=[{"price": "1.00"}])
    second = rest_product(client, title="Apple", variants=[{"price": "1.00"}])
    third = rest_product(client, title="Mango", variants=[{"price": "1.00"}])

    def stamp(product: dict[str, Any], **times: str) -> None:
        def write(ops: ShopOps) -> None:
            doc = dict(ops.shop.products.get(product["id"]) or {}, **times)
            ops.shop.products.put(product["id"], doc)

        sandbox.sandbox.run(SHOP, write)

    # created: third, first, second; updated: second, third, first (first and third tie)
    stamp(first, created_at="2026-01-02T00:00:00-05:00", updated_at="2026-03-01T00:00:00-05:00")
    stamp(second, created_at="2026-01-03T00:00:00-05:00", updated_at="2026-02-01T00:00:00-05:00")
    stamp(third, created_at="2026-01-01T00:00:00-05:00", updated_at="2026-03-01T00:00:00-05:00")
    query = "query($key: ProductSortKeys, $reverse: Boolean) { products(first: 5, sortKey: $key, reverse: $reverse) { nodes { title } } }"

    def order(key: str, reverse: bool = False) -> list[str]:
        nodes = gql(client, query, VERSION, key=key, reverse=reverse)["data"]["products"]["nodes"]
        return [n["title"] for n in nodes]

    assert order("ID") == ["Zebra", "Apple", "Mango"]
    assert order("TITLE") == ["Apple", "Mango", "Zebra"]
    assert order("CREATED_AT") == ["Mango", "Zebra", "Apple"]
    assert order("UPDATED_AT") == ["Apple", "Zebra", "Mango"]  # the tie broken by id
    assert order("UPDATED_AT", reverse=True) == ["Mango", "Zebra", "Apple"]


def test_locations_leave_out_inactive_ones_unless_asked(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    closed = sandbox.sandbox.run(
        SHOP, lambda ops: ops.locations.add_location({"name": "Old depot", "active": False})
    )
    query = "query($all: Boolean) { locations(first: 10, includeInactive: $all, includeLegacy: true) { nodes { name isActive } } }"
    active = gql(client, query, VERSION, all=False)["data"]["locations"]["nodes"]
    everything = gql(client, query, VERSION, all=True)["data"]["locations"]["nodes"]
    assert closed["name"] not in [n["name"] for n in active]
    assert {"name": "Old depot", "isActive": False} in everything
    assert len(everything) == len(active) + 1


LEVELS = """query($q: String) { locations(first: 1) { nodes { inventoryLevels(first: 10, query: $q) {
  nodes { item { id inventoryHistoryUrl locationsCount { count } } deactivationAlert } } } } }"""


def test_inventory_levels_are_filtered_by_query(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    tote_item = sandbox.state(SHOP)["inventory_levels"][1]["inventory_item_id"]
    second = sandbox.add_location(SHOP, "Warehouse")
    sandbox.set_stock(SHOP, "TOTE-1", 2, location_id=second["id"])

    def levels(query: str | None) -> list[dict[str, Any]]:
        answer = gql(client, LEVELS, VERSION, q=query)["data"]["locations"]["nodes"][0]
        found: list[dict[str, Any]] = answer["inventoryLevels"]["nodes"]
        return found

    assert len(levels(None)) == 2
    assert len(levels("updated_at:>='2020-01-01T00:00:00+00:00'")) == 2
    assert levels("updated_at:>='2999-01-01T00:00:00+00:00'") == []
    only = levels(f"inventory_item_id:{tote_item}")
    assert [lv["item"]["id"] for lv in only] == [f"gid://shopify/InventoryItem/{tote_item}"]
    assert only[0]["item"]["locationsCount"] == {"count": 2}  # the primary and the warehouse
    assert only[0]["item"]["inventoryHistoryUrl"] == (
        f"https://{SHOP}.myshopify.com/admin/products/inventory/{tote_item}/inventory_history"
    )
    assert only[0]["deactivationAlert"] is None
