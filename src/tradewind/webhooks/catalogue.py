"""The published event catalogue: every outgoing event type, what causes it, and the JSON
Schema of its ``data``; and the versioned envelope every event is sent in.

Types are added, never changed in meaning: a breaking change of a payload is a new
``API_VERSION``. The envelope follows the Standard Webhooks payload recommendation
(``type``, ``timestamp``, ``data``) with ``id`` (the ``webhook-id`` header too),
``api_version`` and ``channel_id`` (the channel an order, shipment or return belongs to;
``null`` for the rest)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

API_VERSION = "2026-11-01"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

JsonSchema = dict[str, Any]


def _nullable(schema: JsonSchema) -> JsonSchema:
    return {"anyOf": [schema, {"type": "null"}]}


_STR: JsonSchema = {"type": "string"}
_INT: JsonSchema = {"type": "integer"}
_BOOL: JsonSchema = {"type": "boolean"}
_TIME: JsonSchema = {"type": "string", "format": "date-time"}
_MONEY: JsonSchema = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "decimal"}
_ADDRESS: JsonSchema = _nullable({"type": "object", "additionalProperties": True})


def _object(name: str, properties: Mapping[str, JsonSchema]) -> JsonSchema:
    return {
        "type": "object",
        "properties": {"object": {"const": name}, **properties},
        "required": ["object", *properties],
        "additionalProperties": False,
    }


_ORDER_LINE: JsonSchema = {
    "type": "object",
    "properties": {
        "id": _INT,
        "product_id": _nullable(_INT),
        "sku": _STR,
        "title": _STR,
        "quantity": _INT,
        "unit_price": _MONEY,
        "shipped_quantity": _INT,
        "returned_quantity": _INT,
    },
    "required": [
        "id",
        "product_id",
        "sku",
        "title",
        "quantity",
        "unit_price",
        "shipped_quantity",
        "returned_quantity",
    ],
    "additionalProperties": False,
}

_ORDER_FIELDS: dict[str, JsonSchema] = {
    "id": _INT,
    "channel_id": _INT,
    "plugin_id": _nullable(_INT),
    "external_id": _nullable(_STR),
    "number": _STR,
    "status": _STR,
    "financial_status": _STR,
    "fulfillment_status": _STR,
    "source": _STR,
    "currency": _STR,
    "email": _STR,
    "customer_id": _nullable(_INT),
    "totals": {
        "type": "object",
        "properties": {key: _MONEY for key in ("subtotal", "shipping", "tax", "discount", "total")},
        "required": ["subtotal", "shipping", "tax", "discount", "total"],
        "additionalProperties": False,
    },
    "billing_address": _ADDRESS,
    "shipping_address": _ADDRESS,
    "line_items": {"type": "array", "items": _ORDER_LINE},
    "placed_at": _TIME,
    "cancelled_at": _nullable(_TIME),
    "created_at": _TIME,
    "updated_at": _TIME,
}

ORDER = _object("order", _ORDER_FIELDS)
ORDER_FULFILLED = _object(
    "order",
    {
        **_ORDER_FIELDS,
        "fulfillment": {
            "type": "object",
            "properties": {
                "shipment_id": _INT,
                "carrier": _STR,
                "tracking_number": _STR,
                "tracking_url": _STR,
            },
            "required": ["shipment_id", "carrier", "tracking_number", "tracking_url"],
            "additionalProperties": False,
        },
    },
)
PRODUCT = _object(
    "product",
    {
        "id": _INT,
        "sku": _STR,
        "barcode": _nullable(_STR),
        "title": _STR,
        "price": _MONEY,
        "weight_grams": _nullable(_MONEY),
        "active": _BOOL,
        "attributes": {"type": "object"},
        "created_at": _TIME,
        "updated_at": _TIME,
    },
)
PRODUCT_DELETED = _object("product", {"id": _INT, "sku": _STR, "deleted_at": _TIME})
CUSTOMER = _object(
    "customer",
    {
        "id": _INT,
        "email": _nullable(_STR),
        "first_name": _STR,
        "last_name": _STR,
        "company": _STR,
        "phone": _STR,
        "accepts_marketing": _BOOL,
        "created_at": _TIME,
        "updated_at": _TIME,
    },
)
INVENTORY_LEVEL = _object(
    "inventory_level",
    {
        "product_id": _INT,
        "sku": _STR,
        "warehouse_id": _INT,
        "warehouse_code": _STR,
        "on_hand": _INT,
        "reserved": _INT,
        "available": {**_INT, "minimum": 0},
        "updated_at": _TIME,
    },
)
_QUANTITY_LINE: JsonSchema = {
    "type": "object",
    "properties": {"order_line_id": _INT, "quantity": _INT},
    "required": ["order_line_id", "quantity"],
    "additionalProperties": False,
}
SHIPMENT = _object(
    "shipment",
    {
        "id": _INT,
        "order_id": _INT,
        "order_number": _STR,
        "warehouse_id": _nullable(_INT),
        "carrier": _STR,
        "tracking_number": _STR,
        "tracking_url": _STR,
        "shipped_at": _TIME,
        "lines": {"type": "array", "items": _QUANTITY_LINE},
    },
)
RETURN = _object(
    "return",
    {
        "id": _INT,
        "order_id": _INT,
        "order_number": _STR,
        "status": _STR,
        "reason": _STR,
        "restock": _BOOL,
        "warehouse_id": _nullable(_INT),
        "received_at": _nullable(_TIME),
        "lines": {"type": "array", "items": _QUANTITY_LINE},
    },
)
PLUGIN = _object(
    "plugin",
    {
        "id": _INT,
        "name": _STR,
        "connector": _STR,
        "state": _STR,
        "previous_state": _STR,
        "last_error": _STR,
    },
)
WEBHOOK_ENDPOINT = _object(
    "webhook_endpoint",
    {"id": _INT, "url": _STR, "reason": _STR, "disabled_at": _TIME},
)


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    data: JsonSchema


_TYPES = (
    EventType("order.created", "An order was created (imported or made in Tradewind).", ORDER),
    EventType("order.updated", "An order changed (status, lines, addresses, payment).", ORDER),
    EventType(
        "order.fulfilled",
        "A shipment completed an order: every line shipped. Carries the last shipment.",
        ORDER_FULFILLED,
    ),
    EventType("order.cancelled", "An order was cancelled, here or on its platform.", ORDER),
    EventType("product.created", "A product was added to the catalogue.", PRODUCT),
    EventType("product.updated", "A product's catalogue data changed.", PRODUCT),
    EventType("product.deleted", "A product was removed from the catalogue.", PRODUCT_DELETED),
    EventType("customer.created", "A customer was added.", CUSTOMER),
    EventType("customer.updated", "A customer's details changed.", CUSTOMER),
    EventType(
        "inventory.updated",
        "Stock of one product in one warehouse changed (on hand, reserved or both); "
        "one event per product and warehouse per change, with the levels after it.",
        INVENTORY_LEVEL,
    ),
    EventType("shipment.created", "A shipment of an order was recorded.", SHIPMENT),
    EventType("return.received", "A returned parcel arrived back.", RETURN),
    EventType(
        "plugin.auth_failed",
        "A plugin lost its authorization on its platform: its work is paused until it is "
        "reauthorized.",
        PLUGIN,
    ),
    EventType("plugin.recovered", "A plugin that was failing or unauthorized works again.", PLUGIN),
    EventType(
        "webhook_endpoint.disabled",
        "Tradewind disabled a webhook endpoint (it answered 410, or failed for 5 days).",
        WEBHOOK_ENDPOINT,
    ),
)

CATALOGUE: Mapping[str, EventType] = MappingProxyType({kind.name: kind for kind in _TYPES})


def envelope_schema(event_type: str) -> JsonSchema:
    """The JSON Schema of a whole event of ``event_type``, as sent."""
    kind = CATALOGUE[event_type]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://tradewind.dev/schemas/webhooks/{API_VERSION}/{kind.name}.json",
        "title": kind.name,
        "description": kind.description,
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9A-Z]{26}$"},
            "type": {"const": kind.name},
            "timestamp": _TIME,
            "api_version": {"const": API_VERSION},
            "channel_id": _nullable(_INT),
            "test": {"type": "boolean", "description": "present and true on test events"},
            "data": kind.data,
        },
        "required": ["id", "type", "timestamp", "api_version", "channel_id", "data"],
        "additionalProperties": False,
    }


class UnknownEventType(ValueError):
    pass


def check_types(names: list[str]) -> list[str]:
    """``names`` deduplicated in catalogue order; raises ``UnknownEventType`` naming the
    first one not in the catalogue."""
    for name in names:
        if name not in CATALOGUE:
            raise UnknownEventType(
                f"{name!r} is not an event type; the types are: {', '.join(CATALOGUE)}"
            )
    wanted = set(names)
    return [name for name in CATALOGUE if name in wanted]


def published() -> str:
    """Every type's schema as one JSON document: ``docs/webhook-events.schema.json``."""

    document = {
        "$schema": SCHEMA_DIALECT,
        "title": f"Tradewind outgoing webhook events, api_version {API_VERSION}",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in CATALOGUE],
        "$defs": {name: envelope_schema(name) for name in CATALOGUE},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
