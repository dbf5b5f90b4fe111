"""An example ``data`` for every event type: what a test event carries, and what the docs
and the event-types API show beside each schema (a test validates them against it)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_ORDER: dict[str, Any] = {
    "object": "order",
    "id": 1001,
    "channel_id": 1,
    "plugin_id": 1,
    "external_id": "gid://shopify/Order/5912345678",
    "number": "#1001",
    "status": "open",
    "financial_status": "paid",
    "fulfillment_status": "unfulfilled",
    "source": "web",
    "currency": "USD",
    "email": "customer@example.com",
    "customer_id": 31,
    "totals": {
        "subtotal": "49.90",
        "shipping": "10.00",
        "tax": "4.99",
        "discount": "0.00",
        "total": "64.89",
    },
    "billing_address": None,
    "shipping_address": {
        "name": "Jane Doe",
        "address1": "179 N Harbor Dr",
        "city": "Redondo Beach",
        "province": "CA",
        "postal_code": "90277",
        "country_code": "US",
    },
    "line_items": [
        {
            "id": 1,
            "product_id": 7,
            "sku": "TW-MUG-01",
            "title": "Mug",
            "quantity": 2,
            "unit_price": "12.45",
            "shipped_quantity": 0,
            "returned_quantity": 0,
        },
        {
            "id": 2,
            "product_id": 8,
            "sku": "TW-TEE-M",
            "title": "T-shirt M",
            "quantity": 1,
            "unit_price": "25.00",
            "shipped_quantity": 0,
            "returned_quantity": 0,
        },
    ],
    "placed_at": "2026-11-03T20:26:08.000Z",
    "cancelled_at": None,
    "created_at": "2026-11-03T20:26:08.000Z",
    "updated_at": "2026-11-03T20:26:08.000Z",
}
_SHIPPED_LINES = [{**line, "shipped_quantity": line["quantity"]} for line in _ORDER["line_items"]]
_PRODUCT = {
    "object": "product",
    "id": 7,
    "sku": "TW-MUG-01",
    "barcode": "0123456789012",
    "title": "Mug",
    "price": "12.45",
    "weight_grams": "450",
    "active": True,
    "attributes": {"colour": "blue"},
    "created_at": "2026-10-01T09:00:00.000Z",
    "updated_at": "2026-11-04T09:15:30.000Z",
}
_CUSTOMER = {
    "object": "customer",
    "id": 31,
    "email": "customer@example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "company": "",
    "phone": "+1 310 555 0100",
    "accepts_marketing": False,
    "created_at": "2026-11-03T20:26:08.000Z",
    "updated_at": "2026-11-03T20:26:08.000Z",
}
_PLUGIN = {
    "object": "plugin",
    "id": 1,
    "name": "uk-store",
    "connector": "shopify",
    "state": "needs_reauthorization",
    "previous_state": "active",
    "last_error": "401 Unauthorized: the access token was revoked",
}

EXAMPLES: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        "order.created": _ORDER,
        "order.updated": {**_ORDER, "financial_status": "refunded"},
        "order.fulfilled": {
            **_ORDER,
            "fulfillment_status": "fulfilled",
            "line_items": _SHIPPED_LINES,
            "fulfillment": {
                "shipment_id": 12,
                "carrier": "USPS",
                "tracking_number": "9434600208303109842228",
                "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9434600208303109842228",
            },
        },
        "order.cancelled": {
            **_ORDER,
            "status": "cancelled",
            "cancelled_at": "2026-11-04T10:00:00.000Z",
        },
        "product.created": _PRODUCT,
        "product.updated": {**_PRODUCT, "price": "13.95"},
        "product.deleted": {
            "object": "product",
            "id": 7,
            "sku": "TW-MUG-01",
            "deleted_at": "2026-11-05T10:59:58.000Z",
        },
        "customer.created": _CUSTOMER,
        "customer.updated": {**_CUSTOMER, "phone": "+1 310 555 0199"},
        "inventory.updated": {
            "object": "inventory_level",
            "product_id": 7,
            "sku": "TW-MUG-01",
            "warehouse_id": 1,
            "warehouse_code": "MAIN",
            "on_hand": 50,
            "reserved": 9,
            "available": 41,
            "updated_at": "2026-11-04T09:15:30.000Z",
        },
        "shipment.created": {
            "object": "shipment",
            "id": 12,
            "order_id": 1001,
            "order_number": "#1001",
            "warehouse_id": 1,
            "carrier": "USPS",
            "tracking_number": "9434600208303109842228",
            "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9434600208303109842228",
            "shipped_at": "2026-11-04T09:12:00.000Z",
            "lines": [{"order_line_id": 1, "quantity": 2}, {"order_line_id": 2, "quantity": 1}],
        },
        "return.received": {
            "object": "return",
            "id": 3,
            "order_id": 1001,
            "order_number": "#1001",
            "status": "received",
            "reason": "too small",
            "restock": True,
            "warehouse_id": 1,
            "received_at": "2026-11-10T14:00:00.000Z",
            "lines": [{"order_line_id": 2, "quantity": 1}],
        },
        "plugin.auth_failed": _PLUGIN,
        "plugin.recovered": {
            **_PLUGIN,
            "state": "active",
            "previous_state": "needs_reauthorization",
            "last_error": "",
        },
        "webhook_endpoint.disabled": {
            "object": "webhook_endpoint",
            "id": 2,
            "url": "https://erp.example.com/hooks/tradewind",
            "reason": "the endpoint answered 410 Gone",
            "disabled_at": "2026-11-06T08:00:00.000Z",
        },
    }
)
