"""How a product shows in the store, in GraphQL: its plain-text description, price range,
SEO, images and featured media, counts, and what it lacks here (feedback, category).

Clients that mirror the whole catalog (Airbyte's Shopify source among them) select these
fields; they are derived from the same product document the REST API renders.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.graphql.context import connection
from tradewind.sandbox.shopify.state import Doc

if TYPE_CHECKING:
    from tradewind.sandbox.shopify.graphql.converters import View

TAG = re.compile(r"<[^>]+>")
DEFAULT_TITLE = "Default Title"


def plain_text(body_html: str | None, truncate_at: int | None = None) -> str:
    """The description without its HTML, as ``Product.description`` gives it."""
    text = " ".join(html.unescape(TAG.sub(" ", body_html or "")).split())
    if truncate_at is not None and len(text) > truncate_at:
        return text[: max(truncate_at - 3, 0)].rstrip() + "..."
    return text


def image(doc: Doc) -> Doc:
    """A product image as an ``Image``: Shopify gives its ``ProductImage`` global id."""
    return {
        "id": d.gid("ProductImage", doc["id"]),
        "url": lambda _info, **_args: doc["src"],
        "altText": doc["alt"],
        "width": doc["width"],
        "height": doc["height"],
    }


def media_image(doc: Doc) -> Doc:
    return {
        "__typename": "MediaImage",
        "id": doc["admin_graphql_api_id"],
        "alt": doc["alt"] or "",
        "image": image(doc),
        "mediaContentType": "IMAGE",
        "mediaErrors": [],
        "mediaWarnings": [],
        "preview": {"image": image(doc), "status": "READY"},
        "status": "READY",
    }


def exact(count: int) -> Doc:
    return {"count": count, "precision": "EXACT"}


def product_fields(view: View, doc: Doc) -> Doc:
    """The storefront fields of ``Product``, merged into the product ``View`` builds."""
    ident = doc["id"]
    images: list[Doc] = sorted(doc["images"], key=lambda img: img["position"])
    catalog = view.ops.catalog
    shop = view.ops.shop_doc()
    published = doc["published_at"] is not None and doc["status"] == "active"
    store_url = f"https://{shop['domain']}/products/{doc['handle']}"

    def variants() -> list[Doc]:
        return [catalog.render_variant(v) for v in catalog.product_variants(ident)]

    def price_range(_info: Any) -> Doc:
        prices = [Decimal(v["price"]) for v in variants()] or [Decimal(0)]
        return {
            "minVariantPrice": {"amount": d.money(min(prices)), "currencyCode": view.currency},
            "maxVariantPrice": {"amount": d.money(max(prices)), "currencyCode": view.currency},
        }

    def only_default(_info: Any) -> bool:
        found = variants()
        return len(found) == 1 and found[0]["option1"] == DEFAULT_TITLE

    def out_of_stock(_info: Any) -> bool:
        return any(
            v["inventory_management"] == "shopify" and v["inventory_quantity"] <= 0
            for v in variants()
        )

    return {
        "bodyHtml": doc["body_html"],
        "description": lambda _info, **args: plain_text(doc["body_html"], args.get("truncateAt")),
        "templateSuffix": doc["template_suffix"],
        "isGiftCard": False,
        "onlineStoreUrl": store_url if published else None,
        "onlineStorePreviewUrl": store_url,
        "hasOnlyDefaultVariant": only_default,
        "hasOutOfStockVariants": out_of_stock,
        "requiresSellingPlan": False,
        "priceRangeV2": price_range,
        "seo": {"title": None, "description": None},  # set only through SEO metafields
        "featuredImage": image(images[0]) if images else None,
        "featuredMedia": media_image(images[0]) if images else None,
        "images": lambda _info, **args: connection(images, args, image),
        "feedback": None,  # no app has reported on the product
        "category": None,  # the sandbox has no product taxonomy
        "variantsCount": lambda _info: exact(len(catalog.product_variants(ident))),
        "mediaCount": exact(len(images)),
    }
