"""Customers, the customer an order embeds, and account activation URLs."""

from __future__ import annotations

from tradewind.sandbox.shopify.documents.common import gid, normalise_tags, token_hex
from tradewind.sandbox.shopify.state import Doc, ShopSettings


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


def activation_url(settings: ShopSettings, customer_id: int) -> str:
    secret = token_hex(f"activate:{settings.name}:{customer_id}")
    return f"https://{settings.domain}/account/activate/{customer_id}/{secret}"
