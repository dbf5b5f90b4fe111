"""The shop, its locations and an app's webhook subscriptions as REST shows them."""

from __future__ import annotations

from tradewind.sandbox.shopify.documents.common import country_name, gid
from tradewind.sandbox.shopify.state import Doc, ShopSettings, Subscription


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
