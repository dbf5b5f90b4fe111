"""Vendure Admin API JSON ↔ Tradewind records: pure functions, no HTTP.

Vendure amounts are integers in minor units; its order process is a state machine whose
states say both how far payment and shipping have got, so one state table gives the
order, financial and fulfillment status. Refunds and fulfillments come from the order's
payments and fulfillments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
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
    OrderStatus,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    ShipmentLineRecord,
    VariantRecord,
)

Json = Mapping[str, Any]

# Vendure order state → (status, fulfillment status). Payment is read from the payments
# themselves (below), since a custom process may settle in any state. A state missing
# here (a merchant's custom state) is an open, unfulfilled order.
STATES: Mapping[str, tuple[OrderStatus, FulfillmentStatus]] = MappingProxyType(
    {
        "PartiallyShipped": (OrderStatus.OPEN, FulfillmentStatus.PARTIALLY_FULFILLED),
        "Shipped": (OrderStatus.OPEN, FulfillmentStatus.FULFILLED),
        "PartiallyDelivered": (OrderStatus.OPEN, FulfillmentStatus.PARTIALLY_FULFILLED),
        "Delivered": (OrderStatus.OPEN, FulfillmentStatus.FULFILLED),
        "Cancelled": (OrderStatus.CANCELLED, FulfillmentStatus.UNFULFILLED),
    }
)
_OPEN = (OrderStatus.OPEN, FulfillmentStatus.UNFULFILLED)

# Fulfillment states that mean the parcel left: Pending has not shipped yet.
SHIPPED_FULFILLMENTS = frozenset({"Shipped", "Delivered"})
CANCELLED_FULFILLMENT = "Cancelled"


@dataclass(frozen=True, slots=True)
class Money:
    """Vendure's integer amounts in a currency's major unit."""

    decimals: int = 2

    def __call__(self, minor: int | None) -> Decimal:
        return Decimal(minor or 0).scaleb(-self.decimals)


def when(value: str | None) -> dt.datetime | None:
    """Vendure's ISO timestamps (``…Z``) as aware datetimes."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------- orders


def to_order(raw: Json, *, money: Money, barcode_field: str = "") -> OrderRecord:
    """One Vendure order (the ``ORDER`` fragment) as an order record."""
    status, fulfillment = STATES.get(raw["state"], _OPEN)
    placed = when(raw.get("orderPlacedAt")) or when(raw["createdAt"])
    updated = when(raw["updatedAt"])
    if placed is None or updated is None:
        raise ValueError("the order has no creation or update time")
    customer = to_customer(raw.get("customer"), raw.get("shippingAddress"))
    total = money(raw["totalWithTax"])
    discounts = sum((money(d.get("amountWithTax")) for d in raw.get("discounts") or ()), Decimal(0))
    return OrderRecord(
        external_id=str(raw["id"]),
        number=raw["code"],
        status=status,
        financial_status=financial_status(raw),
        fulfillment_status=fulfillment,
        placed_at=placed,
        # SQLite keeps updatedAt to the second, so a fresh order can look updated before it
        # was placed: never report a copy as older than the placement.
        updated_at=max(updated, placed),
        currency=raw["currencyCode"],
        customer=customer,
        email=customer.email if customer else "",
        lines=tuple(
            to_line(line, money=money, barcode_field=barcode_field) for line in raw["lines"]
        ),
        subtotal=money(raw["subTotalWithTax"]),
        shipping_total=money(raw["shippingWithTax"]),
        tax_total=total - money(raw["total"]),
        discount_total=abs(discounts),
        total=total,
        billing_address=to_address(raw.get("billingAddress")),
        shipping_address=to_address(raw.get("shippingAddress")),
        cancel_reason=cancel_reason(raw) if status is OrderStatus.CANCELLED else "",
        fulfillments=tuple(
            to_fulfillment(f)
            for f in raw.get("fulfillments") or ()
            if f["state"] != CANCELLED_FULFILLMENT
        ),
        refunds=tuple(
            to_refund(r)
            for p in raw.get("payments") or ()
            for r in p["refunds"]
            if r["state"] == "Settled"
        ),
    )


def to_line(raw: Json, *, money: Money, barcode_field: str = "") -> OrderLineRecord:
    variant = raw["productVariant"]
    return OrderLineRecord(
        external_id=str(raw["id"]),
        sku=variant.get("sku") or "",
        barcode=barcode_of(variant, barcode_field),
        title=variant.get("name") or "",
        quantity=raw["quantity"],
        unit_price=money(raw["unitPriceWithTax"]),
        variant_ref=str(variant["id"]),
    )


def financial_status(raw: Json) -> FinancialStatus:
    """From the payments: settled, authorized and refunded amounts against the total."""
    payments = raw.get("payments") or ()
    settled = sum(p["amount"] for p in payments if p["state"] == "Settled")
    authorized = sum(p["amount"] for p in payments if p["state"] == "Authorized")
    refunded = sum(
        r["total"] for p in payments for r in p.get("refunds") or () if r["state"] == "Settled"
    )
    total = raw["totalWithTax"]
    if refunded:
        return (
            FinancialStatus.REFUNDED if refunded >= settled else FinancialStatus.PARTIALLY_REFUNDED
        )
    if settled and settled >= total:
        return FinancialStatus.PAID
    if settled:
        return FinancialStatus.PARTIALLY_PAID
    if authorized:
        return FinancialStatus.AUTHORIZED
    if payments and all(p["state"] in ("Cancelled", "Declined", "Error") for p in payments):
        return FinancialStatus.VOIDED
    # A free order needs no payment: it is paid once placed.
    if total == 0 and raw.get("orderPlacedAt"):
        return FinancialStatus.PAID
    return FinancialStatus.PENDING


def cancel_reason(raw: Json) -> str:
    history = (raw.get("history") or {}).get("items") or ()
    for entry in history:
        reason = (entry.get("data") or {}).get("reason")
        if reason:
            return str(reason)[:255]
    return ""


def to_fulfillment(raw: Json) -> FulfillmentRecord:
    return FulfillmentRecord(
        external_id=str(raw["id"]),
        lines=tuple(
            ShipmentLineRecord(line_external_id=str(line["orderLineId"]), quantity=line["quantity"])
            for line in raw.get("lines") or ()
            if line["quantity"] > 0
        ),
        carrier=raw.get("method") or "",
        tracking_number=raw.get("trackingCode") or "",
        shipped_at=when(raw.get("updatedAt")) if raw["state"] in SHIPPED_FULFILLMENTS else None,
    )


def to_refund(raw: Json) -> RefundRecord:
    created = when(raw["createdAt"])
    assert created is not None
    return RefundRecord(
        external_id=str(raw["id"]),
        created_at=created,
        lines=tuple(
            RefundLineRecord(line_external_id=str(line["orderLineId"]), quantity=line["quantity"])
            for line in raw.get("lines") or ()
            if line["quantity"] > 0
        ),
        reason=raw.get("reason") or "",
    )


def to_customer(raw: Json | None, address: Json | None) -> CustomerRecord | None:
    if not raw:
        return None
    home = to_address(address)
    return CustomerRecord(
        external_id=str(raw["id"]),
        email=raw.get("emailAddress") or "",
        first_name=raw.get("firstName") or "",
        last_name=raw.get("lastName") or "",
        phone=raw.get("phoneNumber") or "",
        addresses=(home,) if home else (),
    )


def to_address(raw: Json | None) -> AddressRecord | None:
    if not raw or not any(raw.get(key) for key in ("streetLine1", "city", "postalCode")):
        return None
    first, _, last = (raw.get("fullName") or "").strip().rpartition(" ")
    return AddressRecord(
        # "Ada Lovelace" → Ada / Lovelace; a single word is a last name.
        first_name=first,
        last_name=last,
        company=raw.get("company") or "",
        address1=raw.get("streetLine1") or "",
        address2=raw.get("streetLine2") or "",
        city=raw.get("city") or "",
        province=raw.get("province") or "",
        postal_code=raw.get("postalCode") or "",
        country_code=(raw.get("countryCode") or "")[:2].upper(),
        phone=raw.get("phoneNumber") or "",
    )


# ------------------------------------------------------------------------------- catalog


def to_product(raw: Json, *, money: Money, barcode_field: str = "") -> ProductRecord:
    groups = {str(group["id"]): group["name"] for group in raw.get("optionGroups") or ()}
    images = [asset.get("source") for asset in raw.get("assets") or ()]
    return ProductRecord(
        external_id=str(raw["id"]),
        title=raw["name"],
        description=raw.get("description") or "",
        images=tuple(image for image in images if image),
        variants=tuple(
            VariantRecord(
                external_id=str(variant["id"]),
                sku=variant.get("sku") or "",
                barcode=barcode_of(variant, barcode_field),
                title=variant.get("name") or "",
                price=money(variant.get("price")),
                # The variant is Vendure's stock item: stock levels hang off it.
                item_ref=str(variant["id"]),
                attributes={
                    groups.get(str(option["groupId"]), str(option["groupId"])): option["name"]
                    for option in variant.get("options") or ()
                },
            )
            for variant in raw.get("variants") or ()
        ),
    )


def barcode_of(variant: Json, field: str) -> str:
    if not field:
        return ""
    value = (variant.get("customFields") or {}).get(field)
    return str(value).strip() if value else ""


def to_location(raw: Json) -> LocationRecord:
    return LocationRecord(external_id=str(raw["id"]), name=raw["name"])


# --------------------------------------------------------------------------------- stock


@dataclass(frozen=True, slots=True)
class StockLevel:
    on_hand: int
    allocated: int


def stock_levels(variant: Json) -> dict[str, StockLevel]:
    """A variant's levels by stock location id."""
    return {
        str(level["stockLocationId"]): StockLevel(level["stockOnHand"], level["stockAllocated"])
        for level in variant.get("stockLevels") or ()
    }


def on_hand_for(available: int, level: StockLevel | None) -> int:
    """The stock on hand to set so that what Vendure can sell here is ``available``:
    Vendure sells on hand − allocated, and its allocations are orders Tradewind already
    holds (and has taken out of ``available``)."""
    return available + (level.allocated if level else 0)


def tracks_inventory(variant: Json, tracked_by_default: bool) -> bool:
    flag = variant.get("trackInventory")
    return flag == "TRUE" or (flag == "INHERIT" and tracked_by_default)


# ----------------------------------------------------------------------------- shipments


def lines_key(lines: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Lines as a comparable value: (order line id, quantity), merged and sorted."""
    merged: dict[str, int] = {}
    for line_id, quantity in lines:
        merged[str(line_id)] = merged.get(str(line_id), 0) + quantity
    return tuple(sorted(merged.items()))
