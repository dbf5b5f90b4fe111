"""Products out (Export Products / Listings) over GraphQL, and listings in (Import
Listings) read over REST: a Tradewind product is one Shopify product with one variant.

A product is created (``productSet`` with its one variant) only when no variant of the
store carries its SKU (looked up through GraphQL's variant search), so a retry after a
lost answer updates the copy the first try made. An update sends only what differs from
what the store holds (read over REST): the product's own fields through ``productSet``
without variants, which leaves them alone, the variant's through
``productVariantsBulkUpdate``. A new product is stocked at the mapped locations
(``inventoryActivate``) so that its stock can be pushed at once.
"""

from __future__ import annotations

from typing import Any

from tradewind.connectors import (
    Page,
    Priority,
    ProductExport,
    ProductRecord,
    Rejected,
    Unavailable,
    next_link,
    query_value,
)
from tradewind.integrations.shopify import inputs, mapping
from tradewind.integrations.shopify.client import ShopifyClient, gid, legacy_id

PAGE = 250
LISTING_FIELDS = "id,title,body_html,status,images,variants"
BY_SKU = """
query VariantsBySku($query: String!) {
  productVariants(first: 5, query: $query) {
    nodes { id sku product { id } }
  }
}
"""
BY_SKU_COST = 2 + 5 * 2
SET = """mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { legacyResourceId }
    userErrors { field message code }
  }
}"""
VARIANTS = """mutation VariantsUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    product { legacyResourceId }
    userErrors { field message code }
  }
}"""
ACTIVATE = """mutation Activate($item: ID!, $location: ID!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location) {
    inventoryLevel { id }
    userErrors { field message }
  }
}"""


def export(client: ShopifyClient, product: ProductExport) -> ProductRecord:
    current = _read(client, product.product_ref) if product.product_ref else None
    variant_id = product.variant_ref
    if current is None or not _has_variant(current, variant_id):
        current, variant_id = _by_sku(client, product.sku)
    if current is None:
        return _create(client, product)
    changes = inputs.product_changes(product, current)
    if changes:
        client.mutate(
            SET,
            {"input": changes, "identifier": {"id": gid("Product", current["id"])}},
            field="productSet",
            operation="products.update",
        )
    variant = next(v for v in current["variants"] if str(v["id"]) == str(variant_id))
    edits = inputs.variant_changes(product, variant)
    if edits:
        client.mutate(
            VARIANTS,
            {"productId": gid("Product", current["id"]), "variants": [edits]},
            field="productVariantsBulkUpdate",
            operation="variants.update",
        )
    if changes or edits:
        current = _read(client, str(current["id"])) or current
    return _only(mapping.rest_product(current), str(variant_id))


def listings(client: ShopifyClient, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
    params: dict[str, str | int] = {"limit": PAGE, "fields": LISTING_FIELDS}
    if cursor:
        params["page_info"] = cursor
    response = client.rest(
        "GET", "products", operation="products.listings", params=params, priority=priority
    )
    records: list[ProductRecord] = []
    skipped: list[tuple[str, str]] = []
    for raw in response.json().get("products", []):
        try:
            records.append(mapping.rest_product(raw))
        except (KeyError, ValueError, TypeError) as exc:
            skipped.append((str(raw.get("id", "?")), f"unreadable product: {exc}"))
    link = next_link(response)
    following = query_value(link, "page_info") if link else None
    return Page(records=records, next_cursor=following, skipped=tuple(skipped))


def _create(client: ShopifyClient, product: ProductExport) -> ProductRecord:
    payload = client.mutate(
        SET, {"input": inputs.new_product(product)}, field="productSet", operation="products.create"
    )
    created = _read(client, client.made(payload, "product", "products.create"))
    if created is None:
        raise Unavailable("products.create: the product Shopify made cannot be read yet")
    record = mapping.rest_product(created)
    item = record.variants[0].item_ref if record.variants else None
    for location in product.locations if item else ():
        client.mutate(
            ACTIVATE,
            {"item": gid("InventoryItem", item or ""), "location": gid("Location", location)},
            field="inventoryActivate",
            operation="inventory_levels.activate",
        )
    return record


def _read(client: ShopifyClient, product_id: str) -> dict[str, Any] | None:
    if not product_id.isdigit():
        return None
    response = client.rest("GET", f"products/{product_id}", operation="products.get", allow=(404,))
    if response.status_code == 404:
        return None
    return dict(response.json()["product"])


def _has_variant(current: dict[str, Any], variant_id: str | None) -> bool:
    return any(str(v["id"]) == str(variant_id) for v in current.get("variants") or [])


def _by_sku(client: ShopifyClient, sku: str) -> tuple[dict[str, Any] | None, str | None]:
    """The store's product holding the variant with ``sku``, if exactly one does."""
    quoted = sku.replace("\\", "\\\\").replace('"', '\\"')
    data = client.graphql(
        BY_SKU, {"query": f'sku:"{quoted}"'}, operation="variants.by_sku", cost=BY_SKU_COST
    )
    wanted = sku.strip().casefold()  # SKUs match without regard to case, as in Tradewind
    nodes = [
        n
        for n in data["productVariants"]["nodes"]
        if (n.get("sku") or "").strip().casefold() == wanted
    ]
    if not nodes:
        return None, None
    if len(nodes) > 1:
        raise Rejected(
            f"SKU {sku} is on {len(nodes)} variants in Shopify; map the product to one of "
            "them (Sync products, or the product mapping) before exporting it"
        )
    product_id = legacy_id(nodes[0]["product"]["id"])
    return _read(client, product_id), legacy_id(nodes[0]["id"])


def _only(record: ProductRecord, variant_id: str) -> ProductRecord:
    """The product with just the variant that is Tradewind's product."""
    chosen = tuple(v for v in record.variants if v.external_id == variant_id)
    return record.model_copy(update={"variants": chosen or record.variants[:1]})
