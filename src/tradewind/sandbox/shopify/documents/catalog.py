"""Products (images re-hosted on the CDN), variants, inventory items and levels."""

from __future__ import annotations

from tradewind.sandbox.shopify.documents.common import gid, handleize, money, normalise_tags
from tradewind.sandbox.shopify.state import Doc, Level


def inventory_item(ident: int, data: Doc, now: str) -> Doc:
    return {
        "id": ident,
        "sku": data.get("sku"),
        "created_at": now,
        "updated_at": now,
        "requires_shipping": bool(data.get("requires_shipping", True)),
        "cost": money(data["cost"]) if data.get("cost") not in (None, "") else None,
        "country_code_of_origin": data.get("country_code_of_origin"),
        "province_code_of_origin": data.get("province_code_of_origin"),
        "harmonized_system_code": data.get("harmonized_system_code"),
        "tracked": bool(data.get("tracked", True)),
        "country_harmonized_system_codes": data.get("country_harmonized_system_codes", []),
        "admin_graphql_api_id": gid("InventoryItem", ident),
    }


def inventory_level(level: Level) -> Doc:
    return {
        "inventory_item_id": level.inventory_item_id,
        "location_id": level.location_id,
        "available": level.available,
        "updated_at": level.updated_at,
        "admin_graphql_api_id": (
            f"gid://shopify/InventoryLevel/{level.location_id}"
            f"?inventory_item_id={level.inventory_item_id}"
        ),
    }


def variant(
    ident: int, product_id: int, item_id: int, position: int, data: Doc, now: str, currency: str
) -> Doc:
    options = [data.get("option1"), data.get("option2"), data.get("option3")]
    if options[0] is None:
        options[0] = data.get("title") or "Default Title"
    title = " / ".join(str(o) for o in options if o is not None)
    price = money(data.get("price", "0"))
    compare = data.get("compare_at_price")
    grams = int(data.get("grams", 0) or 0)
    return {
        "id": ident,
        "product_id": product_id,
        "title": title,
        "price": price,
        "position": position,
        "inventory_policy": data.get("inventory_policy", "deny"),
        "compare_at_price": money(compare) if compare not in (None, "") else None,
        "option1": options[0],
        "option2": options[1],
        "option3": options[2],
        "created_at": now,
        "updated_at": now,
        "taxable": bool(data.get("taxable", True)),
        "barcode": data.get("barcode"),
        "fulfillment_service": "manual",
        "grams": grams,
        "inventory_management": data.get("inventory_management", "shopify"),
        "requires_shipping": bool(data.get("requires_shipping", True)),
        "sku": data.get("sku") or "",
        "weight": float(data.get("weight", grams / 453.59237 if grams else 0.0)),
        "weight_unit": data.get("weight_unit", "lb"),
        "inventory_item_id": item_id,
        "inventory_quantity": 0,
        "old_inventory_quantity": 0,
        "presentment_prices": [
            {
                "price": {"amount": price, "currency_code": currency},
                "compare_at_price": None,
            }
        ],
        "tax_code": data.get("tax_code"),
        "admin_graphql_api_id": gid("ProductVariant", ident),
        "image_id": data.get("image_id"),
    }


def image(ident: int, product_id: int, position: int, data: Doc, now: str) -> Doc:
    return {
        "id": ident,
        "alt": data.get("alt"),
        "position": position,
        "product_id": product_id,
        "created_at": now,
        "updated_at": now,
        "admin_graphql_api_id": gid("MediaImage", ident),
        "width": int(data.get("width", 640)),
        "height": int(data.get("height", 640)),
        "src": hosted(data.get("src"), ident),
        "variant_ids": list(data.get("variant_ids", [])),
    }


CDN = "https://cdn.shopify.com/s/files/"


def hosted(src: str | None, ident: int) -> str:
    """Where Shopify serves an image from: one given by URL is downloaded and served from
    its CDN under the file's name with a suffix of its own (the URL given is not kept)."""
    if not src:
        return f"{CDN}sandbox/{ident}.png"
    if src.startswith(CDN):
        return src
    name = src.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "image.png"
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, ext) if dot else (name, "png")
    return f"{CDN}1/sandbox/files/{stem}-{ident}.{ext}?v={ident}"


def product(ident: int, data: Doc, now: str) -> Doc:
    """The product without ``variants`` and ``image``, which are joined in when read."""
    status = data.get("status", "active")
    published = data.get("published", True) and status == "active"
    return {
        "id": ident,
        "title": data.get("title") or "",
        "body_html": data.get("body_html"),
        "vendor": data.get("vendor") or "",
        "product_type": data.get("product_type") or "",
        "created_at": now,
        "handle": data.get("handle") or handleize(str(data.get("title") or ident)),
        "updated_at": now,
        "published_at": now if published else None,
        "template_suffix": data.get("template_suffix"),
        "published_scope": data.get("published_scope", "web"),
        "tags": normalise_tags(data.get("tags")),
        "status": status,
        "admin_graphql_api_id": gid("Product", ident),
        "variants": [],
        "options": [],
        "images": [],
        "image": None,
    }
