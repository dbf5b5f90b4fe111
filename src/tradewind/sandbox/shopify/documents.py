"""Pure builders of Shopify's JSON documents (REST Admin API 2025-07 shapes).

Every builder returns every key Shopify's reference examples show for that resource,
in Shopify's order, with Shopify's types: money as strings with two decimals plus a
``*_set`` bag, ids as integers, timestamps in the shop's time zone with its offset.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sandbox.shopify.state import Doc, Level, ShopSettings, Subscription

CENT = Decimal("0.01")

COUNTRIES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "AU": "Australia",
}


def dec(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def money(value: Any) -> str:
    return str(dec(value).quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Any, currency: str) -> Doc:
    amount = money(value)
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


def gid(kind: str, ident: int | str) -> str:
    return f"gid://shopify/{kind}/{ident}"


def stamp(settings: ShopSettings, moment: datetime | None = None) -> str:
    """Shopify's timestamp: ISO 8601 in the shop's zone, with its offset, to the second."""
    when = moment or datetime.now(UTC)
    return when.astimezone(ZoneInfo(settings.iana_timezone)).isoformat(timespec="seconds")


def token_hex(seed: str) -> str:
    return hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()


def handleize(title: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in title)
    return "-".join(part for part in out.split("-") if part)


def country_name(code: str | None) -> str | None:
    return COUNTRIES.get(code or "", code)


# --- addresses -------------------------------------------------------------------------


def order_address(data: Doc | None) -> Doc | None:
    if not data:
        return None
    first, last = data.get("first_name"), data.get("last_name")
    code = data.get("country_code") or ("US" if data.get("country") in (None, "") else None)
    return {
        "first_name": first,
        "address1": data.get("address1"),
        "phone": data.get("phone"),
        "city": data.get("city"),
        "zip": data.get("zip"),
        "province": data.get("province"),
        "country": data.get("country") or country_name(code),
        "last_name": last,
        "address2": data.get("address2", ""),
        "company": data.get("company"),
        "latitude": data.get("latitude"),
        "longitude": data.get("longitude"),
        "name": data.get("name") or " ".join(p for p in (first, last) if p),
        "country_code": code or data.get("country_code"),
        "province_code": data.get("province_code"),
    }


def customer_address(ident: int, customer_id: int, data: Doc, default: bool) -> Doc:
    first, last = data.get("first_name"), data.get("last_name")
    code = data.get("country_code") or "US"
    return {
        "id": ident,
        "customer_id": customer_id,
        "first_name": first,
        "last_name": last,
        "company": data.get("company"),
        "address1": data.get("address1"),
        "address2": data.get("address2", ""),
        "city": data.get("city"),
        "province": data.get("province"),
        "country": data.get("country") or country_name(code),
        "zip": data.get("zip"),
        "phone": data.get("phone"),
        "name": " ".join(p for p in (first, last) if p),
        "province_code": data.get("province_code"),
        "country_code": code,
        "country_name": country_name(code),
        "default": default,
    }


# --- catalog ---------------------------------------------------------------------------


def location(settings: ShopSettings, ident: int, data: Doc, now: str) -> Doc:
    code = data.get("country_code") or settings.country_code
    return {
        "id": ident,
        "name": data.get("name") or f"Location {ident}",
        "address1": data.get("address1"),
        "address2": data.get("address2"),
        "city": data.get("city"),
        "zip": data.get("zip"),
        "province": data.get("province"),
        "country": code,
        "phone": data.get("phone"),
        "created_at": now,
        "updated_at": now,
        "country_code": code,
        "country_name": country_name(code),
        "province_code": data.get("province_code"),
        "legacy": False,
        "active": bool(data.get("active", True)),
        "admin_graphql_api_id": gid("Location", ident),
        "localized_country_name": country_name(code),
        "localized_province_name": data.get("province"),
    }


def fo_location(loc: Doc | None, location_id: int) -> Doc:
    loc = loc or {}
    return {
        "address1": loc.get("address1"),
        "address2": loc.get("address2"),
        "city": loc.get("city"),
        "country_code": loc.get("country_code"),
        "location_id": location_id,
        "name": loc.get("name"),
        "phone": loc.get("phone"),
        "province": loc.get("province"),
        "zip": loc.get("zip"),
    }


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


def normalise_tags(tags: Any) -> str:
    if tags is None:
        return ""
    items = tags if isinstance(tags, list) else str(tags).split(",")
    return ", ".join(sorted({str(t).strip() for t in items if str(t).strip()}))


# --- customers -------------------------------------------------------------------------


def customer(ident: int, data: Doc, now: str, currency: str) -> Doc:
    accepts = data.get("accepts_marketing") or (
        (data.get("email_marketing_consent") or {}).get("state") == "subscribed"
    )
    return {
        "id": ident,
        "email": data.get("email"),
        "created_at": now,
        "updated_at": now,
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
        "orders_count": 0,
        "state": "disabled",
        "total_spent": "0.00",
        "last_order_id": None,
        "note": data.get("note"),
        "verified_email": bool(data.get("verified_email", True)),
        "multipass_identifier": data.get("multipass_identifier"),
        "tax_exempt": bool(data.get("tax_exempt", False)),
        "tags": normalise_tags(data.get("tags")),
        "last_order_name": None,
        "currency": currency,
        "phone": data.get("phone"),
        "addresses": [],
        "tax_exemptions": list(data.get("tax_exemptions", [])),
        "email_marketing_consent": {
            "state": "subscribed" if accepts else "not_subscribed",
            "opt_in_level": data.get("marketing_opt_in_level") or "single_opt_in",
            "consent_updated_at": data.get("accepts_marketing_updated_at") or now,
        },
        "sms_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": None,
            "consent_collected_from": "OTHER",
        }
        if data.get("phone")
        else None,
        "admin_graphql_api_id": gid("Customer", ident),
        "default_address": None,
    }


def order_customer(doc: Doc) -> Doc:
    """The customer as embedded in an order (no address list, no totals)."""
    keep = [
        "id",
        "email",
        "created_at",
        "updated_at",
        "first_name",
        "last_name",
        "state",
        "note",
        "verified_email",
        "multipass_identifier",
        "tax_exempt",
        "phone",
        "email_marketing_consent",
        "sms_marketing_consent",
        "tags",
        "currency",
        "tax_exemptions",
        "admin_graphql_api_id",
        "default_address",
    ]
    return {key: doc.get(key) for key in keep}


# --- orders ----------------------------------------------------------------------------


def tax_line(price: Any, rate: Any, title: str, currency: str) -> Doc:
    return {
        "price": money(price),
        "rate": float(rate),
        "title": title,
        "price_set": money_set(price, currency),
        "channel_liable": None,
    }


def line_item(ident: int, data: Doc, currency: str) -> Doc:
    quantity = int(data.get("quantity", 1))
    price = money(data.get("price", "0"))
    title = data.get("title") or "Custom item"
    variant_title = data.get("variant_title")
    taxes = [
        tax_line(t.get("price", 0), t.get("rate", 0), t.get("title", "Tax"), currency)
        for t in data.get("tax_lines", [])
    ]
    return {
        "id": ident,
        "admin_graphql_api_id": gid("LineItem", ident),
        "attributed_staffs": [],
        "current_quantity": quantity,
        "fulfillable_quantity": quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": bool(data.get("gift_card", False)),
        "grams": int(data.get("grams", 0) or 0),
        "name": f"{title} - {variant_title}" if variant_title else title,
        "price": price,
        "price_set": money_set(price, currency),
        "product_exists": data.get("product_id") is not None,
        "product_id": data.get("product_id"),
        "properties": list(data.get("properties", [])),
        "quantity": quantity,
        "requires_shipping": bool(data.get("requires_shipping", True)),
        "sku": data.get("sku"),
        "taxable": bool(data.get("taxable", True)),
        "title": title,
        "total_discount": "0.00",
        "total_discount_set": money_set(0, currency),
        "variant_id": data.get("variant_id"),
        "variant_inventory_management": data.get("variant_inventory_management"),
        "variant_title": variant_title,
        "vendor": data.get("vendor"),
        "tax_lines": taxes,
        "duties": [],
        "discount_allocations": [],
    }


def shipping_line(ident: int, data: Doc, currency: str) -> Doc:
    price = money(data.get("price", 0))
    return {
        "id": ident,
        "carrier_identifier": None,
        "code": data.get("code") or data.get("title", "Shipping"),
        "discounted_price": price,
        "discounted_price_set": money_set(price, currency),
        "is_removed": False,
        "phone": None,
        "price": price,
        "price_set": money_set(price, currency),
        "requested_fulfillment_service_id": None,
        "source": data.get("source", "shopify"),
        "title": data.get("title", "Shipping"),
        "tax_lines": [],
        "discount_allocations": [],
    }


MONEY_FIELDS = (
    "current_subtotal_price",
    "current_total_discounts",
    "current_total_price",
    "current_total_tax",
    "subtotal_price",
    "total_discounts",
    "total_line_items_price",
    "total_price",
    "total_tax",
)


def set_totals(doc: Doc, currency: str) -> None:
    """Recompute an order's money fields from its lines, taxes, shipping and refunds."""
    lines = doc["line_items"]
    line_total = sum((dec(li["price"]) * li["quantity"] for li in lines), Decimal(0))
    current_total = sum((dec(li["price"]) * li["current_quantity"] for li in lines), Decimal(0))
    discounts = dec(doc.get("total_discounts", 0))
    line_tax = sum((dec(t["price"]) for li in lines for t in li["tax_lines"]), Decimal(0)) or sum(
        (dec(t["price"]) for t in doc.get("tax_lines", [])), Decimal(0)
    )
    current_tax = sum(
        (
            dec(t["price"]) * li["current_quantity"] / li["quantity"]
            for li in lines
            if li["quantity"]
            for t in li["tax_lines"]
        ),
        Decimal(0),
    )
    if not any(li["tax_lines"] for li in lines):
        current_tax = line_tax
    shipping = sum((dec(s["price"]) for s in doc.get("shipping_lines", [])), Decimal(0))
    subtotal = line_total - discounts
    tax_included = doc.get("taxes_included", False)
    total = subtotal + shipping + (Decimal(0) if tax_included else line_tax)
    current_subtotal = current_total - (discounts if current_total else Decimal(0))
    current_total_price = (
        current_subtotal
        + (shipping if current_total else Decimal(0))
        + (Decimal(0) if tax_included else current_tax)
    )
    figures = {
        "current_subtotal_price": current_subtotal,
        "current_total_discounts": discounts if current_total else Decimal(0),
        "current_total_price": current_total_price,
        "current_total_tax": current_tax,
        "subtotal_price": subtotal,
        "total_discounts": discounts,
        "total_line_items_price": line_total,
        "total_price": total,
        "total_tax": line_tax,
    }
    for name, value in figures.items():
        doc[name] = money(value)
        doc[name + "_set"] = money_set(value, currency)
    doc["total_shipping_price_set"] = money_set(shipping, currency)
    doc["total_weight"] = sum(int(li["grams"]) * li["quantity"] for li in lines)


def allocate_discounts(doc: Doc, currency: str) -> None:
    """Spread each discount code's amount over the lines, by line total, to the cent."""
    lines = doc["line_items"]
    weights = [dec(li["price"]) * li["quantity"] for li in lines]
    base = sum(weights, Decimal(0))
    if not base:
        return
    for index, code in enumerate(doc["discount_codes"]):
        amount = dec(code.get("amount", 0))
        if code.get("type") == "percentage":
            amount = (base * amount / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        left = amount
        for position, (line, weight) in enumerate(zip(lines, weights, strict=True)):
            share = left if position == len(lines) - 1 else (amount * weight / base).quantize(CENT)
            left -= share
            line["discount_allocations"].append(
                {
                    "amount": money(share),
                    "amount_set": money_set(share, currency),
                    "discount_application_index": index,
                }
            )


def order(
    settings: ShopSettings, ident: int, number: int, data: Doc, lines: list[Doc], now: str
) -> Doc:
    currency = data.get("currency") or settings.currency
    token = token_hex(f"{settings.name}:{ident}")
    # created_at is Shopify's own clock; processed_at may be set to a past date (orders
    # brought over from elsewhere) and is what reports show.
    created = data.get("created_at") or now
    email = data.get("email") or (data.get("customer") or {}).get("email")
    doc: Doc = {
        "id": ident,
        "admin_graphql_api_id": gid("Order", ident),
        "app_id": data.get("app_id"),
        "browser_ip": data.get("browser_ip"),
        "buyer_accepts_marketing": bool(data.get("buyer_accepts_marketing", False)),
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": data.get("cart_token"),
        "checkout_id": data.get("checkout_id"),
        "checkout_token": data.get("checkout_token"),
        "client_details": None,
        "closed_at": None,
        "confirmation_number": token[:9].upper(),
        "confirmed": True,
        "contact_email": email,
        "created_at": created,
        "currency": currency,
        "current_total_additional_fees_set": None,
        "current_total_duties_set": None,
        "customer_locale": data.get("customer_locale"),
        "device_id": data.get("device_id"),
        "discount_codes": list(data.get("discount_codes", [])),
        "duties_included": False,
        "email": email or "",
        "estimated_taxes": False,
        "financial_status": data.get("financial_status", "paid"),
        "fulfillment_status": None,
        "landing_site": data.get("landing_site"),
        "landing_site_ref": None,
        "location_id": data.get("location_id"),
        "merchant_business_entity_id": f"sandbox-{settings.id}",
        "merchant_of_record_app_id": None,
        "name": data.get("name") or f"#{number}",
        "note": data.get("note"),
        "note_attributes": list(data.get("note_attributes", [])),
        "number": number - 1000,
        "order_number": number,
        "order_status_url": (
            f"https://{settings.domain}/{settings.id}/orders/{token}/authenticate?key=sandbox"
        ),
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": list(data.get("payment_gateway_names", ["bogus"])),
        "phone": data.get("phone"),
        "po_number": data.get("po_number"),
        "presentment_currency": currency,
        "processed_at": data.get("processed_at") or created,
        "reference": data.get("reference"),
        "referring_site": data.get("referring_site"),
        "source_identifier": data.get("source_identifier"),
        "source_name": data.get("source_name", "web"),
        "source_url": None,
        "tags": normalise_tags(data.get("tags")),
        "tax_exempt": False,
        "tax_lines": [
            tax_line(t.get("price", 0), t.get("rate", 0), t.get("title", "Tax"), currency)
            for t in data.get("tax_lines", [])
        ],
        "taxes_included": bool(data.get("taxes_included", False)),
        "test": bool(data.get("test", False)),
        "token": token,
        "total_cash_rounding_payment_adjustment_set": money_set(0, currency),
        "total_cash_rounding_refund_adjustment_set": money_set(0, currency),
        "total_discounts": money(data.get("total_discounts", 0)),
        "total_outstanding": "0.00",
        "total_tip_received": "0.00",
        "updated_at": now,
        "user_id": data.get("user_id"),
        "billing_address": order_address(data.get("billing_address")),
        "customer": None,
        "discount_applications": [],
        "fulfillments": [],
        "line_items": lines,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": order_address(data.get("shipping_address")),
        "shipping_lines": [],
    }
    for code in doc["discount_codes"]:
        doc["discount_applications"].append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": str(dec(code.get("amount", "0"))),
                "value_type": code.get("type", "fixed_amount"),
                "allocation_method": "across",
                "target_selection": "all",
                "code": code.get("code"),
                "title": code.get("code"),
                "description": code.get("code"),
            }
        )
    allocate_discounts(doc, currency)
    if data.get("browser_ip") is not None:
        doc["client_details"] = {
            "accept_language": None,
            "browser_height": None,
            "browser_ip": data.get("browser_ip"),
            "browser_width": None,
            "session_hash": None,
            "user_agent": None,
        }
    return doc


def transaction(ident: int, order_id: int, data: Doc, now: str, currency: str) -> Doc:
    kind = data.get("kind", "sale")
    amount = money(data.get("amount", 0))
    gateway = data.get("gateway", "bogus")
    return {
        "id": ident,
        "order_id": order_id,
        "kind": kind,
        "gateway": gateway,
        "status": data.get("status", "success"),
        "message": data.get("message"),
        "created_at": now,
        "test": bool(data.get("test", False)),
        "authorization": data.get("authorization"),
        "location_id": data.get("location_id"),
        "user_id": None,
        "parent_id": data.get("parent_id"),
        "processed_at": data.get("processed_at") or now,
        "device_id": None,
        "error_code": None,
        "source_name": data.get("source_name", "web"),
        "payment_details": {
            "credit_card_bin": None,
            "avs_result_code": None,
            "cvv_result_code": None,
            "credit_card_number": "•••• •••• •••• 4242",
            "credit_card_company": "Visa",
            "buyer_action_info": None,
            "credit_card_name": None,
            "credit_card_wallet": None,
            "credit_card_expiration_month": None,
            "credit_card_expiration_year": None,
            "payment_method_name": "visa",
        },
        "receipt": {},
        "currency_exchange_adjustment": None,
        "amount": amount,
        "currency": data.get("currency") or currency,
        "authorization_expires_at": None,
        "extended_authorization_attributes": {},
        "payment_id": data.get("payment_id") or f"sandbox-{ident}",
        "total_unsettled_set": {
            "presentment_money": {"amount": "0.0", "currency": currency},
            "shop_money": {"amount": "0.0", "currency": currency},
        },
        "manual_payment_gateway": gateway == "manual",
        "amount_rounding": None,
        "admin_graphql_api_id": gid("OrderTransaction", ident),
    }


def tender_transaction(ident: int, tx: Doc) -> Doc:
    return {
        "id": ident,
        "order_id": tx["order_id"],
        "amount": tx["amount"] if tx["kind"] != "refund" else "-" + tx["amount"],
        "currency": tx["currency"],
        "user_id": None,
        "test": tx["test"],
        "processed_at": tx["processed_at"],
        "remote_reference": tx.get("authorization"),
        "payment_details": None,
        "payment_method": "credit_card",
    }


def fulfillment_order_line(ident: int, shop_id: int, fo_id: int, li: Doc, qty: int) -> Doc:
    return {
        "id": ident,
        "shop_id": shop_id,
        "fulfillment_order_id": fo_id,
        "quantity": qty,
        "line_item_id": li["id"],
        "inventory_item_id": li.get("_inventory_item_id"),
        "fulfillable_quantity": qty,
        "variant_id": li.get("variant_id"),
    }


def fulfillment_order(
    settings: ShopSettings, ident: int, order_doc: Doc, location_id: int, loc: Doc | None, now: str
) -> Doc:
    ship = order_doc.get("shipping_address") or {}
    return {
        "id": ident,
        "created_at": now,
        "updated_at": now,
        "shop_id": settings.id,
        "order_id": order_doc["id"],
        "assigned_location_id": location_id,
        "request_status": "unsubmitted",
        "status": "open",
        "fulfill_at": None,
        "fulfill_by": None,
        "supported_actions": [],
        "destination": {
            "id": ident + 1,
            "address1": ship.get("address1"),
            "address2": ship.get("address2"),
            "city": ship.get("city"),
            "company": ship.get("company"),
            "country": ship.get("country"),
            "email": order_doc.get("email"),
            "first_name": ship.get("first_name"),
            "last_name": ship.get("last_name"),
            "phone": ship.get("phone"),
            "province": ship.get("province"),
            "zip": ship.get("zip"),
        }
        if ship
        else None,
        "origin": fo_location(loc, location_id),
        "line_items": [],
        "outgoing_requests": [],
        "international_duties": None,
        "fulfillment_holds": [],
        "delivery_method": None,
        "assigned_location": fo_location(loc, location_id),
        "merchant_requests": [],
    }


FO_ACTIONS: dict[str, list[str]] = {
    "open": ["create_fulfillment", "move", "hold"],
    "in_progress": ["create_fulfillment", "move", "hold"],
    "scheduled": ["mark_as_open"],
    "on_hold": ["release_hold", "hold"],
    "closed": [],
    "cancelled": [],
    "incomplete": [],
}


def fulfillment(
    ident: int, order_doc: Doc, location_id: int | None, data: Doc, lines: list[Doc], now: str
) -> Doc:
    tracking = data.get("tracking_info") or {}
    numbers = list(
        tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    )
    urls = list(tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else []))
    company = tracking.get("company")
    if numbers and not urls:
        urls = [tracking_url(company, n) for n in numbers]
    sequence = len(order_doc.get("fulfillments", [])) + 1
    return {
        "id": ident,
        "order_id": order_doc["id"],
        "status": "success",
        "created_at": now,
        "service": "manual",
        "updated_at": now,
        "tracking_company": company,
        "shipment_status": None,
        "location_id": location_id,
        "origin_address": data.get("origin_address"),
        "line_items": lines,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "receipt": {},
        "name": f"{order_doc['name']}.{sequence}",
        "admin_graphql_api_id": gid("Fulfillment", ident),
    }


def tracking_url(company: str | None, number: str) -> str:
    base = {
        "UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=",
        "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=",
        "FedEx": "https://www.fedex.com/fedextrack/?trknbr=",
        "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB=",
    }.get(company or "", "https://track.sandbox.example/?number=")
    return base + number


def fulfillment_event(ident: int, shop_id: int, fulfillment_doc: Doc, data: Doc, now: str) -> Doc:
    return {
        "id": ident,
        "fulfillment_id": fulfillment_doc["id"],
        "status": data.get("status", "in_transit"),
        "message": data.get("message"),
        "happened_at": data.get("happened_at") or now,
        "city": data.get("city"),
        "province": data.get("province"),
        "country": data.get("country"),
        "zip": data.get("zip"),
        "address1": data.get("address1"),
        "latitude": data.get("latitude"),
        "longitude": data.get("longitude"),
        "shop_id": shop_id,
        "created_at": now,
        "updated_at": now,
        "estimated_delivery_at": data.get("estimated_delivery_at"),
        "order_id": fulfillment_doc["order_id"],
        "admin_graphql_api_id": gid("FulfillmentEvent", ident),
    }


def refund_line(ident: int, li: Doc, qty: int, restock: str, loc: int | None, cur: str) -> Doc:
    unit_tax = sum((dec(t["price"]) for t in li["tax_lines"]), Decimal(0)) / max(li["quantity"], 1)
    subtotal = dec(li["price"]) * qty
    tax = unit_tax * qty
    return {
        "id": ident,
        "line_item_id": li["id"],
        "location_id": loc,
        "quantity": qty,
        "restock_type": restock,
        "subtotal": float(money(subtotal)),
        "subtotal_set": money_set(subtotal, cur),
        "total_tax": float(money(tax)),
        "total_tax_set": money_set(tax, cur),
        "line_item": {k: v for k, v in li.items() if not k.startswith("_")},
    }


def refund(
    ident: int, order_id: int, data: Doc, lines: list[Doc], txs: list[Doc], now: str, cur: str
) -> Doc:
    return {
        "id": ident,
        "order_id": order_id,
        "created_at": now,
        "note": data.get("note"),
        "user_id": None,
        "processed_at": data.get("processed_at") or now,
        "duties": [],
        "total_duties_set": money_set(0, cur),
        "return": None,
        "restock": any(li["restock_type"] != "no_restock" for li in lines),
        "additional_fees": [],
        "total_additional_fees_set": money_set(0, cur),
        "refund_shipping_lines": [],
        "admin_graphql_api_id": gid("Refund", ident),
        "order_adjustments": [],
        "refund_line_items": lines,
        "transactions": txs,
    }


def webhook(sub: Subscription) -> Doc:
    return {
        "id": sub.id,
        "address": sub.address,
        "topic": sub.topic,
        "created_at": sub.created_at,
        "updated_at": sub.updated_at,
        "format": sub.format,
        "fields": list(sub.fields),
        "metafield_namespaces": list(sub.metafield_namespaces),
        "api_version": sub.api_version,
        "private_metafield_namespaces": [],
    }


def shop(settings: ShopSettings, plan_name: str, plan_display: str, created: str) -> Doc:
    return {
        "id": settings.id,
        "name": settings.name.replace("-", " ").title(),
        "email": settings.email,
        "domain": settings.domain,
        "province": "New York",
        "country": settings.country_code,
        "address1": "1 Sandbox Way",
        "zip": "10001",
        "city": "New York",
        "source": None,
        "phone": "5555550100",
        "latitude": 40.7506,
        "longitude": -73.9971,
        "primary_locale": "en",
        "address2": "",
        "created_at": created,
        "updated_at": created,
        "country_code": settings.country_code,
        "country_name": country_name(settings.country_code),
        "currency": settings.currency,
        "customer_email": settings.email,
        "timezone": f"(GMT) {settings.iana_timezone}",
        "iana_timezone": settings.iana_timezone,
        "shop_owner": settings.shop_owner,
        "money_format": "${{amount}}",
        "money_with_currency_format": "${{amount}} " + settings.currency,
        "weight_unit": "lb",
        "province_code": "NY",
        "taxes_included": False,
        "auto_configure_tax_inclusivity": None,
        "tax_shipping": None,
        "county_taxes": True,
        "plan_display_name": plan_display,
        "plan_name": plan_name,
        "has_discounts": False,
        "has_gift_cards": False,
        "myshopify_domain": settings.domain,
        "google_apps_domain": None,
        "google_apps_login_enabled": None,
        "money_in_emails_format": "${{amount}}",
        "money_with_currency_in_emails_format": "${{amount}} " + settings.currency,
        "eligible_for_payments": True,
        "requires_extra_payments_agreement": False,
        "password_enabled": False,
        "has_storefront": True,
        "finances": True,
        "primary_location_id": settings.primary_location_id,
        "checkout_api_supported": True,
        "multi_location_enabled": True,
        "setup_required": False,
        "pre_launch_enabled": False,
        "enabled_presentment_currencies": [settings.currency],
        "marketing_sms_consent_enabled_at_checkout": False,
        "transactional_sms_disabled": False,
    }


def activation_url(settings: ShopSettings, customer_id: int) -> str:
    secret = token_hex(f"activate:{settings.name}:{customer_id}")
    return f"https://{settings.domain}/account/activate/{customer_id}/{secret}"


def page_cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()
