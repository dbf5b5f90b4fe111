"""Addresses: an order's shipping and billing address, a customer's addresses."""

from __future__ import annotations

from tradewind.sandbox.shopify.documents.common import country_name
from tradewind.sandbox.shopify.state import Doc


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
