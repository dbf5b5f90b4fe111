"""Orders made in Tradewind, created in the store (Export Orders, REST ``POST
/orders``) and cancelled there when they are cancelled in Tradewind. The order carries
``source_name`` "tradewind" and the origin reference as its ``source_identifier`` (both
can be set only when an order is created), so that it is recognised when its webhooks and
polls come back, and found again after a lost answer."""

from __future__ import annotations

import datetime as dt

from tradewind.connectors import (
    OrderExport,
    OrderRecord,
    Rejected,
    Unavailable,
    next_link,
    query_value,
)
from tradewind.integrations.shopify import mapping, streams
from tradewind.integrations.shopify.client import ShopifyClient

SEARCH_PAGES = 40  # 10,000 orders created since the first try: far beyond any retry window


def export(client: ShopifyClient, order: OrderExport) -> OrderRecord:
    response = client.rest(
        "POST",
        "orders",
        operation="orders.create",
        json_body={"order": mapping.order_body(order)},
    )
    return mapping.order(response.json()["order"])


def cancel(client: ShopifyClient, order_id: str) -> None:
    """``POST /orders/{id}/cancel``: no refund and no e-mail (both stay the merchant's
    call in Shopify). Shopify's answer for an order cancelled already counts as done."""
    try:
        client.rest(
            "POST",
            f"orders/{order_id}/cancel",
            operation="orders.cancel",
            json_body={"reason": "other", "email": False},
        )
    except Rejected as exc:
        if "already been cancel" not in str(exc).lower():
            raise


def find(client: ShopifyClient, origin_ref: str, since: dt.datetime) -> OrderRecord | None:
    """The order created with ``origin_ref`` since ``since`` (a REST order list has no
    filter by source, so the window's orders are read, lightly, and compared)."""
    params: dict[str, str | int] = {
        "limit": streams.PAGE,
        "status": "any",
        "created_at_min": since.isoformat(),
        "fields": "id,source_name,source_identifier",
    }
    for _ in range(SEARCH_PAGES):
        response = client.rest("GET", "orders", operation="orders.find", params=params)
        for raw in response.json().get("orders", []):
            if (
                raw.get("source_name") == mapping.ORIGIN_SOURCE
                and raw.get("source_identifier") == origin_ref
            ):
                return streams.order(client, str(raw["id"]))
        link = next_link(response)
        cursor = query_value(link, "page_info") if link else None
        if cursor is None:
            return None
        params = {
            "limit": streams.PAGE,
            "page_info": cursor,
            "fields": "id,source_name,source_identifier",
        }
    raise Unavailable(f"orders.find: too many orders to look through for {origin_ref}")
