"""Orders: line items, shipping and tax lines, totals and discount allocations;
transactions and tender transactions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tradewind.sandbox.shopify.documents.addresses import order_address
from tradewind.sandbox.shopify.documents.common import (
    CENT,
    dec,
    gid,
    money,
    money_set,
    normalise_tags,
    token_hex,
)
from tradewind.sandbox.shopify.state import Doc, ShopSettings


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
