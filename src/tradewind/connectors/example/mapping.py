"""Fake Market JSON ↔ the SDK's records. Pure functions: no HTTP, no state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tradewind.connectors import (
    AddressRecord,
    LocationRecord,
    OrderLineRecord,
    OrderRecord,
    StockPush,
    StockPushResult,
)


def to_order(raw: dict[str, Any]) -> OrderRecord:
    return OrderRecord(
        external_id=str(raw["id"]),
        number=raw["number"],
        status=raw["status"],
        financial_status=raw["financial_status"],
        fulfillment_status=raw["fulfillment_status"],
        source=raw["source"],
        placed_at=dt.datetime.fromisoformat(raw["placed_at"]),
        updated_at=dt.datetime.fromisoformat(raw["updated_at"]),
        currency=raw["currency"],
        email=raw.get("email") or "",
        lines=tuple(
            OrderLineRecord(
                external_id=line["id"],
                sku=line["sku"],
                title=line["title"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
            )
            for line in raw["lines"]
        ),
        shipping_address=AddressRecord(**raw["shipping_address"])
        if raw.get("shipping_address")
        else None,
        location_ref=raw.get("location", ""),
        test=raw.get("test", False),
    )


def to_location(raw: dict[str, Any]) -> LocationRecord:
    return LocationRecord(external_id=raw["id"], name=raw["name"])


def stock_levels(pushes: Sequence[StockPush]) -> list[dict[str, Any]]:
    return [
        {
            "sku": p.sku,
            "location": p.location_ref,
            "available": p.available,
            "delta": p.delta,
            "key": p.idempotency_key,
        }
        for p in pushes
    ]


def stock_results(pushes: Sequence[StockPush], answer: dict[str, Any]) -> list[StockPushResult]:
    """One result per level Fake Market answered for, matched back by (SKU, location)."""
    by_key = {(p.sku, p.location_ref): p for p in pushes}
    return [
        StockPushResult(
            product_id=by_key[(r["sku"], r["location"])].product_id,
            location_ref=r["location"],
            ok=r["ok"],
            platform_quantity=r.get("quantity"),
            error=r.get("error", ""),
        )
        for r in answer["results"]
    ]
