"""Shopify JSON ↔ the SDK's records. Pure functions: no HTTP, no state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from tradewind.connectors import (
    AddressRecord,
    CustomerRecord,
    FinancialStatus,
    FulfillmentRecord,
    FulfillmentStatus,
    LocationRecord,
    OrderLineRecord,
    OrderRecord,
    OrderSource,
    OrderStatus,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    ShipmentLineRecord,
    VariantRecord,
)

FINANCIAL: Mapping[str, FinancialStatus] = MappingProxyType(
    {
        "pending": FinancialStatus.PENDING,
        "authorized": FinancialStatus.AUTHORIZED,
        "partially_paid": FinancialStatus.PARTIALLY_PAID,
        "paid": FinancialStatus.PAID,
        "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
        "refunded": FinancialStatus.REFUNDED,
        "voided": FinancialStatus.VOIDED,
        "expired": FinancialStatus.VOIDED,
    }
)
FULFILLMENT: Mapping[str | None, FulfillmentStatus] = MappingProxyType(
    {
        None: FulfillmentStatus.UNFULFILLED,
        "unfulfilled": FulfillmentStatus.UNFULFILLED,
        "restocked": FulfillmentStatus.UNFULFILLED,
        "partial": FulfillmentStatus.PARTIALLY_FULFILLED,
        "fulfilled": FulfillmentStatus.FULFILLED,
    }
)
# source_name: "web", "pos", "shopify_draft_order", "iphone", "android" or an app's id.
SOURCES: Mapping[str, OrderSource] = MappingProxyType(
    {"pos": OrderSource.POS, "web": OrderSource.WEB, "shopify_draft_order": OrderSource.MANUAL}
)
# Refund lines put back on the shelf.
RESTOCKING = frozenset({"return", "legacy_restock"})
# ``source_name`` of the orders Tradewind creates (Export Orders); their
# ``source_identifier`` is the origin reference the engine gave them.
ORIGIN_SOURCE = "tradewind"


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def shop_amount(bag: Mapping[str, Any] | None) -> Decimal:
    """The shop-currency amount of a ``*_set`` money bag."""
    if not bag:
        return Decimal("0")
    return money((bag.get("shop_money") or {}).get("amount"))


def address(raw: Mapping[str, Any] | None) -> AddressRecord | None:
    if not raw:
        return None
    return AddressRecord(
        first_name=raw.get("first_name") or "",
        last_name=raw.get("last_name") or "",
        company=raw.get("company") or "",
        address1=raw.get("address1") or "",
        address2=raw.get("address2") or "",
        city=raw.get("city") or "",
        province=raw.get("province_code") or raw.get("province") or "",
        postal_code=raw.get("zip") or "",
        country_code=(raw.get("country_code") or "")[:2],
        phone=raw.get("phone") or "",
    )


def customer(raw: Mapping[str, Any] | None) -> CustomerRecord | None:
    """A REST customer, as embedded in an order (default address only) or read from the
    customers endpoints (every address, the default first)."""
    if not raw:
        return None
    listed = sorted(raw.get("addresses") or [], key=lambda a: not a.get("default"))
    addresses = [found for found in (address(a) for a in listed) if found is not None]
    if not addresses:
        default = address(raw.get("default_address"))
        addresses = [default] if default else []
    return CustomerRecord(
        external_id=str(raw["id"]) if raw.get("id") is not None else None,
        email=raw.get("email") or "",
        first_name=raw.get("first_name") or "",
        last_name=raw.get("last_name") or "",
        company=addresses[0].company if addresses else "",
        phone=raw.get("phone") or "",
        addresses=tuple(addresses),
    )


def order(raw: Mapping[str, Any]) -> OrderRecord:
    """A REST order (any API version from 2025-07)."""
    if raw.get("cancelled_at"):
        status = OrderStatus.CANCELLED
    elif raw.get("closed_at"):
        status = OrderStatus.CLOSED
    else:
        status = OrderStatus.OPEN
    buyer = customer(raw.get("customer"))
    source = SOURCES.get(str(raw.get("source_name") or "web"), OrderSource.WEB)
    location = raw.get("location_id")
    fulfillments = tuple(
        fulfillment(item)
        for item in raw.get("fulfillments") or []
        if item.get("status") in (None, "success", "open", "pending")
    )
    if location is None and fulfillments and fulfillments[0].location_ref:
        location_ref = fulfillments[0].location_ref
    else:
        location_ref = str(location) if location is not None else ""
    tags = tuple(tag.strip() for tag in str(raw.get("tags") or "").split(",") if tag.strip())
    return OrderRecord(
        external_id=str(raw["id"]),
        number=str(raw.get("name") or f"#{raw.get('order_number', raw['id'])}"),
        status=status,
        financial_status=FINANCIAL.get(str(raw.get("financial_status")), FinancialStatus.PENDING),
        fulfillment_status=FULFILLMENT.get(
            raw.get("fulfillment_status"), FulfillmentStatus.UNFULFILLED
        ),
        source=source,
        placed_at=time(raw.get("processed_at") or raw["created_at"]),
        updated_at=time(raw.get("updated_at") or raw["created_at"]),
        currency=str(raw.get("currency") or "USD"),
        customer=buyer,
        email=raw.get("email") or raw.get("contact_email") or (buyer.email if buyer else ""),
        lines=tuple(line(item) for item in raw.get("line_items") or []),
        subtotal=money(raw.get("subtotal_price"))
        if raw.get("subtotal_price") is not None
        else None,
        shipping_total=shop_amount(raw.get("total_shipping_price_set")),
        tax_total=money(raw.get("total_tax")),
        discount_total=money(raw.get("total_discounts")),
        total=money(raw.get("total_price")) if raw.get("total_price") is not None else None,
        billing_address=address(raw.get("billing_address")),
        shipping_address=address(raw.get("shipping_address")),
        location_ref=location_ref,
        test=bool(raw.get("test")),
        note=raw.get("note") or "",
        tags=tags,
        cancel_reason=raw.get("cancel_reason") or "",
        fulfillments=fulfillments,
        refunds=tuple(refund(item) for item in raw.get("refunds") or []),
        origin_ref=str(raw.get("source_identifier") or "")
        if raw.get("source_name") == ORIGIN_SOURCE
        else "",
    )


# What an order's webhook body must hold to be imported as it is: Shopify's full order
# (a subscription's ``fields`` may cut it down; such a body only names the order). An
# absent buyer or address is there as null.
DELIVERED_FIELDS = (
    "id",
    "name",
    "created_at",
    "updated_at",
    "financial_status",
    "currency",
    "total_price",
    "line_items",
    "customer",
    "billing_address",
    "shipping_address",
    "fulfillments",
    "refunds",
)


def delivered_order(raw: Mapping[str, Any]) -> OrderRecord | None:
    """The order an ``orders/…`` webhook carries, or None when its body lacks a field the
    import needs or cannot be read (then the order is read instead)."""
    if any(name not in raw for name in DELIVERED_FIELDS):
        return None
    try:
        return order(raw)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def line(raw: Mapping[str, Any]) -> OrderLineRecord:
    variant = raw.get("variant_id")
    quantity = raw.get("current_quantity", raw.get("quantity", 0))
    return OrderLineRecord(
        external_id=str(raw["id"]),
        sku=raw.get("sku") or "",
        title=str(raw.get("name") or raw.get("title") or ""),
        quantity=max(0, int(quantity)),
        unit_price=money(raw.get("price")),
        variant_ref=str(variant) if variant is not None else None,
    )


def fulfillment(raw: Mapping[str, Any]) -> FulfillmentRecord:
    location = raw.get("location_id")
    return FulfillmentRecord(
        external_id=str(raw["id"]),
        lines=tuple(
            ShipmentLineRecord(line_external_id=str(item["id"]), quantity=int(item["quantity"]))
            for item in raw.get("line_items") or []
            if int(item.get("quantity") or 0) > 0
        ),
        carrier=raw.get("tracking_company") or "",
        tracking_number=raw.get("tracking_number") or "",
        tracking_url=raw.get("tracking_url") or "",
        shipped_at=time(raw["created_at"]) if raw.get("created_at") else None,
        location_ref=str(location) if location is not None else "",
    )


def refund(raw: Mapping[str, Any]) -> RefundRecord:
    return RefundRecord(
        external_id=str(raw["id"]),
        created_at=time(raw.get("processed_at") or raw["created_at"]),
        reason=raw.get("note") or "",
        lines=tuple(
            RefundLineRecord(
                line_external_id=str(item["line_item_id"]),
                quantity=int(item["quantity"]),
                restock=str(item.get("restock_type")) in RESTOCKING,
            )
            for item in raw.get("refund_line_items") or []
            if int(item.get("quantity") or 0) > 0
        ),
    )


def location(raw: Mapping[str, Any]) -> LocationRecord:
    return LocationRecord(
        external_id=str(raw["id"]),
        name=str(raw.get("name") or raw["id"]),
        active=bool(raw.get("active", True)),
    )


def variant_node(node: Mapping[str, Any]) -> tuple[str, str, VariantRecord]:
    """A GraphQL ``ProductVariant`` node: (product id, product title, variant)."""
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    price = node.get("price")
    if isinstance(price, Mapping):
        price = price.get("amount")
    return (
        _legacy(product.get("id", "")),
        str(product.get("title") or ""),
        VariantRecord(
            external_id=_legacy(node["id"]),
            sku=node.get("sku") or "",
            barcode=node.get("barcode") or "",
            title=node.get("title") or "",
            price=money(price) if price is not None else None,
            item_ref=_legacy(item["id"]) if item.get("id") else None,
        ),
    )


def products_from_variants(nodes: list[Mapping[str, Any]]) -> list[ProductRecord]:
    """A page of variants grouped back into their products, in page order."""
    grouped: dict[str, tuple[str, list[VariantRecord]]] = {}
    for node in nodes:
        product_id, title, variant = variant_node(node)
        grouped.setdefault(product_id, (title, []))[1].append(variant)
    return [
        ProductRecord(external_id=product_id, title=title, variants=tuple(variants))
        for product_id, (title, variants) in grouped.items()
    ]


def _legacy(value: str) -> str:
    return str(value).rsplit("/", 1)[-1]


def rest_product(raw: Mapping[str, Any]) -> ProductRecord:
    """A REST product as buyers see it (Import Listings) and as an export leaves it."""
    return ProductRecord(
        external_id=str(raw["id"]),
        title=str(raw.get("title") or ""),
        description=raw.get("body_html") or "",
        images=tuple(str(image["src"]) for image in raw.get("images") or [] if image.get("src")),
        published=raw.get("status", "active") == "active",
        variants=tuple(
            VariantRecord(
                external_id=str(item["id"]),
                sku=item.get("sku") or "",
                barcode=item.get("barcode") or "",
                title=item.get("title") or "",
                price=money(item.get("price")) if item.get("price") is not None else None,
                item_ref=str(item["inventory_item_id"])
                if item.get("inventory_item_id") is not None
                else None,
            )
            for item in sorted(raw.get("variants") or [], key=lambda v: v.get("position", 0))
        ),
    )


def review_hold(fulfillment_orders: list[Mapping[str, Any]]) -> str:
    """Why Shopify holds an order, from its REST fulfillment orders: the reasons of the
    holds on those ``on_hold`` (``high_risk_of_fraud (notes)``), or "on_hold"."""
    reasons: list[str] = []
    for fulfillment_order in fulfillment_orders:
        if fulfillment_order.get("status") != "on_hold":
            continue
        for hold in fulfillment_order.get("fulfillment_holds") or []:
            reason = str(hold.get("reason") or "other")
            notes = str(hold.get("reason_notes") or "").strip()
            reasons.append(f"{reason} ({notes})" if notes else reason)
    return ", ".join(dict.fromkeys(reasons)) or "on_hold"
