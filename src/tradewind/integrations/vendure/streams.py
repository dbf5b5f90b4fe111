"""Reading Vendure: orders (placed or updated in a window, pages by offset), one order,
the catalog (products with every variant) and the stock locations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tradewind.connectors import (
    LocationRecord,
    OrderQuery,
    OrderRecord,
    Page,
    Priority,
    ProductRecord,
)
from tradewind.integrations.vendure import mapping
from tradewind.integrations.vendure.client import VendureClient, order_fields, product_fields
from tradewind.integrations.vendure.settings import VendureSettings


def orders(
    client: VendureClient,
    settings: VendureSettings,
    query: OrderQuery,
    cursor: str | None,
    priority: Priority,
) -> Page[OrderRecord]:
    field = "updatedAt" if query.field == "updated_at" else "orderPlacedAt"
    until = query.until or dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    skip = int(cursor or 0)
    fields = order_fields(settings.barcode_field)
    data = client.query(
        f"""query TradewindOrders($options: OrderListOptions) {{
          orders(options: $options) {{ totalItems items {{ {fields} }} }}
        }}""",
        {
            "options": {
                "skip": skip,
                "take": settings.page_size,
                "sort": {field: "ASC", "id": "ASC"},
                "filter": {
                    "state": {"in": list(settings.order_states)},
                    field: {
                        "between": {
                            "start": mapping.iso(query.since),
                            "end": mapping.iso(until),
                        }
                    },
                },
            }
        },
        operation="orders.list",
        priority=priority,
    )
    found = data["orders"]
    records: list[OrderRecord] = []
    skipped: list[tuple[str, str]] = []
    for raw in found["items"]:
        try:
            record = _order(settings, raw)
        except (KeyError, TypeError, ValueError) as exc:
            skipped.append((str(raw.get("id")), f"unreadable Vendure order: {exc}"))
            continue
        moment = record.updated_at if query.field == "updated_at" else record.placed_at
        if query.until is None or moment < query.until:  # [since, until)
            records.append(record)
    return Page(records=records, next_cursor=_next(skip, found), skipped=tuple(skipped))


def order(client: VendureClient, settings: VendureSettings, external_id: str) -> OrderRecord | None:
    fields = order_fields(settings.barcode_field)
    data = client.query(
        f"query TradewindOrder($id: ID!) {{ order(id: $id) {{ {fields} }} }}",
        {"id": external_id},
        operation="orders.get",
    )
    raw = data.get("order")
    if raw is None or raw["active"] or not raw.get("orderPlacedAt"):
        return None  # missing, or still a cart: not an order yet
    return _order(settings, raw)


def products(
    client: VendureClient, settings: VendureSettings, cursor: str | None, priority: Priority
) -> Page[ProductRecord]:
    skip = int(cursor or 0)
    fields = product_fields(settings.barcode_field)
    data = client.query(
        f"""query TradewindProducts($options: ProductListOptions) {{
          products(options: $options) {{ totalItems items {{ {fields} }} }}
        }}""",
        {"options": {"skip": skip, "take": settings.page_size, "sort": {"id": "ASC"}}},
        operation="products.list",
        priority=priority,
    )
    found = data["products"]
    money = mapping.Money(settings.money_decimals)
    records: list[ProductRecord] = []
    skipped: list[tuple[str, str]] = []
    for raw in found["items"]:
        try:
            records.append(
                mapping.to_product(raw, money=money, barcode_field=settings.barcode_field)
            )
        except (KeyError, TypeError, ValueError) as exc:
            skipped.append((str(raw.get("id")), f"unreadable Vendure product: {exc}"))
    return Page(records=records, next_cursor=_next(skip, found), skipped=tuple(skipped))


def locations(client: VendureClient) -> list[LocationRecord]:
    found: list[LocationRecord] = []
    while True:
        data = client.query(
            """query TradewindLocations($options: StockLocationListOptions) {
              stockLocations(options: $options) { totalItems items { id name } }
            }""",
            {"options": {"skip": len(found), "take": 100, "sort": {"id": "ASC"}}},
            operation="locations.list",
        )
        page = data["stockLocations"]
        found += [mapping.to_location(raw) for raw in page["items"]]
        if not page["items"] or len(found) >= page["totalItems"]:
            return found


def _order(settings: VendureSettings, raw: Mapping[str, Any]) -> OrderRecord:
    return mapping.to_order(
        raw, money=mapping.Money(settings.money_decimals), barcode_field=settings.barcode_field
    )


def _next(skip: int, found: Mapping[str, Any]) -> str | None:
    """The cursor after an offset page: the next offset, while there are more."""
    end = skip + len(found["items"])
    return str(end) if found["items"] and end < found["totalItems"] else None
