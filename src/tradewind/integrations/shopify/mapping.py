"""Shopify JSON ↔ the SDK's records. Pure functions: no HTTP, no state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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


# ------------------------------------------------------------------ bulk operation rows

# REST's order-level fulfillment_status from GraphQL's displayFulfillmentStatus (an order
# on hold, scheduled or in progress has shipped nothing: REST says null).
DISPLAY_FULFILLMENT: Mapping[str, str | None] = MappingProxyType(
    {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}
)


def _amount(bag: Mapping[str, Any] | None) -> Any:
    """A GraphQL ``MoneyBag``'s shop amount (None when the bag is absent)."""
    if not bag:
        return None
    return (bag.get("shopMoney") or {}).get("amount")


def _rest_address(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {
        "first_name": raw.get("firstName"),
        "last_name": raw.get("lastName"),
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "province": raw.get("province"),
        "province_code": raw.get("provinceCode"),
        "zip": raw.get("zip"),
        "country_code": raw.get("countryCodeV2"),
        "phone": raw.get("phone"),
    }


def _rest_customer(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {
        "id": raw.get("legacyResourceId"),
        "email": raw.get("email"),
        "first_name": raw.get("firstName"),
        "last_name": raw.get("lastName"),
        "phone": raw.get("phone"),
        "default_address": _rest_address(raw.get("defaultAddress")),
    }


def _legacy_of(raw: Mapping[str, Any] | None) -> str | None:
    if not raw:
        return None
    value = raw.get("legacyResourceId") or raw.get("id")
    return _legacy(value) if value else None


def bulk_order(root: Mapping[str, Any], children: Sequence[Mapping[str, Any]]) -> OrderRecord:
    """An order as a bulk operation's JSONL gives it: its own row (``root``) and the rows
    that follow it with a ``__parentId`` — its line items and fulfillment orders (parent:
    the order), its fulfillments' lines (parent: the fulfillment) and its refunds' lines
    (parent: the refund). Read into REST's shape and mapped by ``order``, so a backfill by
    bulk operation imports the very record a page of the REST list gives."""
    order_gid = str(root["id"])
    lines: list[dict[str, Any]] = []
    holds: list[Mapping[str, Any]] = []
    shipped: dict[str, list[dict[str, Any]]] = {}
    refunded: dict[str, list[dict[str, Any]]] = {}
    for row in children:
        parent, ident = str(row.get("__parentId")), str(row.get("id") or "")
        if parent == order_gid and "/LineItem/" in ident:
            variant = _legacy_of(row.get("variant"))
            lines.append(
                {
                    "id": _legacy(ident),
                    "sku": row.get("sku"),
                    "name": row.get("name"),
                    "title": row.get("title"),
                    "quantity": row.get("quantity", 0),
                    "current_quantity": row.get("currentQuantity", row.get("quantity", 0)),
                    "price": _amount(row.get("originalUnitPriceSet")),
                    "variant_id": variant,
                }
            )
        elif parent == order_gid and "/FulfillmentOrder/" in ident:
            holds.append(
                {
                    "status": str(row.get("status") or "").lower(),
                    "fulfillment_holds": [
                        {
                            "reason": str(hold.get("reason") or "other").lower(),
                            "reason_notes": hold.get("reasonNotes"),
                        }
                        for hold in row.get("fulfillmentHolds") or []
                    ],
                }
            )
        elif "/Fulfillment/" in parent:
            item = _legacy_of(row.get("lineItem"))
            shipped.setdefault(parent, []).append({"id": item, "quantity": row.get("quantity")})
        elif "/Refund/" in parent:
            item = _legacy_of(row.get("lineItem"))
            refunded.setdefault(parent, []).append(
                {
                    "line_item_id": item,
                    "quantity": row.get("quantity"),
                    "restock_type": str(row.get("restockType") or "").lower(),
                }
            )
        else:
            raise ValueError(f"a row of {ident or 'no id'} under {parent} is not an order's")
    fulfillments = []
    for raw in root.get("fulfillments") or []:
        tracking = (raw.get("trackingInfo") or [{}])[0] or {}
        fulfillments.append(
            {
                "id": raw.get("legacyResourceId") or _legacy(raw["id"]),
                "status": str(raw.get("status") or "").lower() or None,
                "created_at": raw.get("createdAt"),
                "location_id": _legacy_of(raw.get("location")),
                "tracking_company": tracking.get("company"),
                "tracking_number": tracking.get("number"),
                "tracking_url": tracking.get("url"),
                "line_items": shipped.get(str(raw.get("id")), []),
            }
        )
    refunds = [
        {
            "id": raw.get("legacyResourceId") or _legacy(raw["id"]),
            "created_at": raw.get("createdAt"),
            "note": raw.get("note"),
            "refund_line_items": refunded.get(str(raw.get("id")), []),
        }
        for raw in root.get("refunds") or []
    ]
    display = str(root.get("displayFulfillmentStatus") or "")
    rest: dict[str, Any] = {
        "id": root.get("legacyResourceId") or _legacy(order_gid),
        "name": root.get("name"),
        "email": root.get("email"),
        "note": root.get("note"),
        "tags": ", ".join(root.get("tags") or []),
        "test": root.get("test"),
        "source_name": root.get("sourceName"),
        "source_identifier": root.get("sourceIdentifier"),
        "created_at": root["createdAt"],
        "updated_at": root.get("updatedAt"),
        "processed_at": root.get("processedAt"),
        "closed_at": root.get("closedAt"),
        "cancelled_at": root.get("cancelledAt"),
        "cancel_reason": str(root.get("cancelReason") or "").lower() or None,
        "currency": root.get("currencyCode"),
        "financial_status": str(root.get("displayFinancialStatus") or "").lower(),
        "fulfillment_status": DISPLAY_FULFILLMENT.get(display),
        "total_price": _amount(root.get("totalPriceSet")),
        "subtotal_price": _amount(root.get("subtotalPriceSet")),
        "total_tax": _amount(root.get("totalTaxSet")),
        "total_discounts": _amount(root.get("totalDiscountsSet")),
        "total_shipping_price_set": {
            "shop_money": {"amount": _amount(root.get("totalShippingPriceSet"))}
        },
        "customer": _rest_customer(root.get("customer")),
        "billing_address": _rest_address(root.get("billingAddress")),
        "shipping_address": _rest_address(root.get("shippingAddress")),
        "location_id": _legacy_of(root.get("physicalLocation")),
        "line_items": lines,
        "fulfillments": fulfillments,
        "refunds": refunds,
    }
    record = order(rest)
    if (
        display == "ON_HOLD"
        and record.status is OrderStatus.OPEN
        and record.fulfillment_status is not FulfillmentStatus.FULFILLED
    ):
        record = record.model_copy(update={"review_hold": review_hold(holds)})
    return record
