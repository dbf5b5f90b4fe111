"""The ``data`` of each event type, built from the records as they are when the change
commits (full payloads; ``product.deleted`` is thin). Pure functions of rows: the shapes
are the catalogue's schemas (a test validates every builder against them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.catalog.models import Product
from tradewind.core.customers.models import Customer
from tradewind.core.inventory.models import StockLevel, Warehouse
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin
from tradewind.core.returns.models import Return
from tradewind.core.shipments.models import Shipment

Data = dict[str, Any]


def iso(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z`` (what the envelope's examples use)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso_or_none(moment: dt.datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


_CENTS = Decimal("0.01")


def _money(value: Decimal) -> str:
    """``12.50``, or more places when the amount has them (``0.125``): no trailing zeros
    of the 4-place storage beyond the cents."""
    cents = value.quantize(_CENTS)
    return format(cents if cents == value else value.normalize(), "f")


def order(record: Order) -> Data:
    return {
        "object": "order",
        "id": record.id,
        "channel_id": record.channel_id,
        "plugin_id": record.plugin_id,
        "external_id": record.external_id,
        "number": record.number,
        "status": record.status.value,
        "financial_status": record.financial_status.value,
        "fulfillment_status": record.fulfillment_status.value,
        "source": record.source.value,
        "currency": record.currency,
        "email": record.email,
        "customer_id": record.customer_id,
        "totals": {
            "subtotal": _money(record.subtotal),
            "shipping": _money(record.shipping_total),
            "tax": _money(record.tax_total),
            "discount": _money(record.discount_total),
            "total": _money(record.total),
        },
        "billing_address": record.billing_address,
        "shipping_address": record.shipping_address,
        "line_items": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "shipped_quantity": line.shipped_quantity,
                "returned_quantity": line.returned_quantity,
            }
            for line in record.lines
        ],
        "placed_at": iso(record.placed_at),
        "cancelled_at": _iso_or_none(record.cancelled_at),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def order_fulfilled(record: Order, shipment: Shipment) -> Data:
    return {
        **order(record),
        "fulfillment": {
            "shipment_id": shipment.id,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url,
        },
    }


def product(record: Product) -> Data:
    return {
        "object": "product",
        "id": record.id,
        "sku": record.sku,
        "barcode": record.barcode,
        "title": record.title,
        "price": _money(record.price),
        "weight_grams": _money(record.weight_grams) if record.weight_grams is not None else None,
        "active": record.active,
        "attributes": record.attributes or {},
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def product_deleted(product_id: int, sku: str, now: dt.datetime) -> Data:
    """Thin: the product's row is gone by the time its event is written."""
    return {"object": "product", "id": product_id, "sku": sku, "deleted_at": iso(now)}


def customer(record: Customer) -> Data:
    return {
        "object": "customer",
        "id": record.id,
        "email": record.email,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "company": record.company,
        "phone": record.phone,
        "accepts_marketing": record.accepts_marketing,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def inventory_level(
    session: Session, product_id: int, warehouse_id: int, now: dt.datetime
) -> Data | None:
    item = session.get(Product, product_id)
    warehouse = session.get(Warehouse, warehouse_id)
    if item is None or warehouse is None:
        return None
    level = session.scalars(
        select(StockLevel).where(
            StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
        )
    ).one_or_none()
    on_hand = level.on_hand if level is not None else 0
    reserved = level.reserved if level is not None else 0
    return {
        "object": "inventory_level",
        "product_id": item.id,
        "sku": item.sku,
        "warehouse_id": warehouse.id,
        "warehouse_code": warehouse.code,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": max(on_hand - reserved, 0),
        "updated_at": iso(level.updated_at if level is not None else now),
    }


def shipment(record: Shipment, of: Order) -> Data:
    return {
        "object": "shipment",
        "id": record.id,
        "order_id": of.id,
        "order_number": of.number,
        "warehouse_id": record.warehouse_id,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        "tracking_url": record.tracking_url,
        "shipped_at": iso(record.shipped_at),
        "lines": [
            {"order_line_id": line.order_line_id, "quantity": line.quantity}
            for line in record.lines
        ],
    }


def return_(record: Return, of: Order) -> Data:
    return {
        "object": "return",
        "id": record.id,
        "order_id": of.id,
        "order_number": of.number,
        "status": record.status.value,
        "reason": record.reason,
        "restock": record.restock,
        "warehouse_id": record.warehouse_id,
        "received_at": _iso_or_none(record.received_at),
        "lines": [
            {"order_line_id": line.order_line_id, "quantity": line.quantity}
            for line in record.lines
        ],
    }


def plugin(record: Plugin, previous_state: str) -> Data:
    return {
        "object": "plugin",
        "id": record.id,
        "name": record.name,
        "connector": record.connector,
        "state": record.state.value,
        "previous_state": previous_state,
        "last_error": record.last_error or "",
    }


def webhook_endpoint(subscription_id: int, url: str, reason: str, when: dt.datetime) -> Data:
    return {
        "object": "webhook_endpoint",
        "id": subscription_id,
        "url": url,
        "reason": reason,
        "disabled_at": iso(when),
    }
