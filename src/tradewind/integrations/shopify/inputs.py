"""Tradewind → Shopify: the GraphQL Admin API's input objects for the records the
connector writes (``CustomerInput``, ``OrderCreateOrderInput``, ``ProductSetInput``,
``ProductVariantsBulkInput``). Pure functions, like ``mapping.py`` the other way; the
changes of a product or variant are worked out against what a REST read of it shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradewind.connectors import (
    AddressRecord,
    CustomerRecord,
    FinancialStatus,
    OrderExport,
    ProductExport,
)
from tradewind.integrations.shopify.client import gid
from tradewind.integrations.shopify.mapping import ORIGIN_SOURCE, money

# Financial statuses an order may be created with (the others follow from transactions).
CREATABLE_FINANCIAL = frozenset(
    {
        FinancialStatus.PENDING,
        FinancialStatus.AUTHORIZED,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.PAID,
    }
)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PROVINCE_CODE = re.compile(r"^[A-Z0-9]{1,3}$")
# A Tradewind product is a product with one variant: Shopify's default option.
DEFAULT_OPTION = {"name": "Title", "values": [{"name": "Default Title"}]}
DEFAULT_VALUE = {"optionName": "Title", "name": "Default Title"}


def address(record: AddressRecord) -> dict[str, Any]:
    """A ``MailingAddressInput``; blank fields are left out. A province that is not a
    code is left out too: the input takes only ``provinceCode``."""
    body: dict[str, Any] = {
        "firstName": record.first_name,
        "lastName": record.last_name,
        "company": record.company,
        "address1": record.address1,
        "address2": record.address2,
        "city": record.city,
        "zip": record.postal_code,
        "countryCode": record.country_code.upper(),
        "phone": record.phone,
    }
    if PROVINCE_CODE.match(record.province):
        body["provinceCode"] = record.province
    return {key: value for key, value in body.items() if value}


def _person(record: CustomerRecord) -> dict[str, Any]:
    """Email, names and a phone Shopify would accept (E.164), blank ones left out, so an
    update never erases what the store has."""
    body = {"email": record.email, "firstName": record.first_name, "lastName": record.last_name}
    phone = record.phone.replace(" ", "")
    if E164.match(phone):
        body["phone"] = phone
    return {key: value for key, value in body.items() if value}


def customer(record: CustomerRecord, customer_id: str | None = None) -> dict[str, Any]:
    """A ``CustomerInput``: to create (with the addresses) or, given ``customer_id``, to
    update (addresses left as the store keeps them)."""
    body = _person(record)
    if customer_id is not None:
        body["id"] = gid("Customer", customer_id)
    else:
        body["addresses"] = [address(a) for a in record.addresses if address(a)]
    return body


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": f"{amount:.2f}", "currencyCode": currency}}


def order(export: OrderExport) -> dict[str, Any]:
    """An ``OrderCreateOrderInput`` as Tradewind creates an order: marked with
    ``sourceName`` and its origin reference, its number as an attribute."""
    currency = export.currency
    lines: list[dict[str, Any]] = []
    for item in export.lines:
        line: dict[str, Any] = {
            "quantity": item.quantity,
            "priceSet": _money(item.unit_price, currency),
        }
        if item.variant_ref and item.variant_ref.isdigit():
            line["variantId"] = gid("ProductVariant", item.variant_ref)
        else:  # a custom line: what was sold, without a Shopify product
            line.update({"title": item.title, "sku": item.sku, "requiresShipping": True})
        lines.append(line)
    body: dict[str, Any] = {
        "lineItems": lines,
        "currency": currency,
        "processedAt": export.placed_at.isoformat(),
        "sourceName": ORIGIN_SOURCE,
        "sourceIdentifier": export.origin_ref,
        "tags": ["Tradewind", *export.tags],
        "customAttributes": [{"key": "Tradewind order", "value": export.number}],
    }
    if export.financial_status in CREATABLE_FINANCIAL:
        body["financialStatus"] = export.financial_status.value.upper()
    if export.email:
        body["email"] = export.email
    buyer = export.customer
    if buyer is not None and buyer.external_id and buyer.external_id.isdigit():
        body["customer"] = {"toAssociate": {"id": gid("Customer", buyer.external_id)}}
    elif buyer is not None and buyer.email:
        body["customer"] = {"toUpsert": _person(buyer)}
    for key, value in (
        ("billingAddress", export.billing_address),
        ("shippingAddress", export.shipping_address),
    ):
        if value is not None and address(value):
            body[key] = address(value)
    if export.note:
        body["note"] = export.note
    if export.shipping_total:
        body["shippingLines"] = [
            {
                "title": "Shipping",
                "code": "Shipping",
                "priceSet": _money(export.shipping_total, currency),
            }
        ]
    if export.tax_total:
        subtotal = sum((i.unit_price * i.quantity for i in export.lines), Decimal("0"))
        rate = (export.tax_total / subtotal).quantize(Decimal("0.0001")) if subtotal else 0
        body["taxLines"] = [
            {"title": "Tax", "rate": str(rate), "priceSet": _money(export.tax_total, currency)}
        ]
    return body


# No receipt or fulfillment email; inventory untouched (Tradewind is the stock master:
# its next push accounts for the order).
ORDER_OPTIONS = {
    "inventoryBehaviour": "BYPASS",
    "sendReceipt": False,
    "sendFulfillmentReceipt": False,
}


def _status(export: ProductExport) -> str:
    return "DRAFT" if export.published is False else "ACTIVE"


def _files(urls: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    return [{"originalSource": url, "contentType": "IMAGE"} for url in urls]


def _inventory_item(export: ProductExport) -> dict[str, Any]:
    """SKU, tracked (its stock is what Tradewind pushes) and the weight in grams."""
    item: dict[str, Any] = {"sku": export.sku, "tracked": True}
    if export.weight_grams is not None:
        item["measurement"] = {"weight": {"value": float(export.weight_grams), "unit": "GRAMS"}}
    return item


def new_product(export: ProductExport) -> dict[str, Any]:
    """A ``ProductSetInput`` for a new product with its one variant."""
    variant: dict[str, Any] = {
        "optionValues": [DEFAULT_VALUE],
        "price": f"{export.price:.2f}",
        "inventoryItem": _inventory_item(export),
    }
    if export.barcode:
        variant["barcode"] = export.barcode
    body: dict[str, Any] = {
        "title": export.title,
        "status": _status(export),
        "productOptions": [DEFAULT_OPTION],
        "variants": [variant],
    }
    if export.description is not None:
        body["descriptionHtml"] = export.description
    if export.images:
        body["files"] = _files(export.images)
    return body


def product_changes(export: ProductExport, current: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ProductSetInput`` fields that differ from ``current`` (a REST product); no
    variants or options, so productSet leaves those as they are. A product whose other
    variants are not Tradewind's keeps its own title, description and images: they
    describe every variant, not this one."""
    if len(current.get("variants") or []) > 1:
        return {}
    changes: dict[str, Any] = {}
    if current.get("title") != export.title:
        changes["title"] = export.title
    if export.description is not None and (current.get("body_html") or "") != export.description:
        changes["descriptionHtml"] = export.description
    if export.published is not None and str(current.get("status", "")).upper() != _status(export):
        changes["status"] = _status(export)
    if export.images is not None:  # sent only when they changed: Shopify re-hosts them
        changes["files"] = _files(export.images)
    return changes


def variant_changes(export: ProductExport, current: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ProductVariantsBulkInput`` fields that differ from ``current`` (a REST
    variant); empty when nothing does."""
    changes: dict[str, Any] = {}
    item: dict[str, Any] = {}
    if (current.get("sku") or "").strip().casefold() != export.sku.strip().casefold():
        item["sku"] = export.sku  # the same SKU in another case is the same article
    if money(current.get("price")) != export.price:
        changes["price"] = f"{export.price:.2f}"
    if export.barcode and (current.get("barcode") or None) != export.barcode:
        changes["barcode"] = export.barcode  # a blank one leaves the store's barcode
    grams = export.weight_grams
    if grams is not None and (
        current.get("weight_unit") != "g" or float(current.get("weight") or 0) != float(grams)
    ):
        item["measurement"] = {"weight": {"value": float(grams), "unit": "GRAMS"}}
    if item:
        changes["inventoryItem"] = item
    if changes:
        changes["id"] = gid("ProductVariant", current["id"])
    return changes
