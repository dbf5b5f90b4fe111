"""Orders made in Tradewind, created in the store (Export Orders, GraphQL ``orderCreate``)
and cancelled there when they are cancelled in Tradewind (``orderCancel``). The order
carries ``sourceName`` "tradewind" and the origin reference as its ``sourceIdentifier``
(both can be set only when an order is created), so that it is recognised when its
webhooks and polls come back, and found again after a lost answer (``find``, a REST read
of the orders created since the first try)."""

from __future__ import annotations

import datetime as dt

from tradewind.connectors import (
    OrderExport,
    OrderRecord,
    Unavailable,
    next_link,
    query_value,
)
from tradewind.integrations.shopify import inputs, mapping, streams
from tradewind.integrations.shopify.client import ShopifyClient, gid

SEARCH_PAGES = 40  # 10,000 orders created since the first try: far beyond any retry window
CREATE = """mutation OrderCreate(
  $order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput
) {
  orderCreate(order: $order, options: $options) {
    order { legacyResourceId }
    userErrors { field message code }
  }
}"""
CANCEL = """mutation OrderCancel($orderId: ID!, $refundMethod: OrderCancelRefundMethodInput) {
  orderCancel(orderId: $orderId, reason: OTHER, restock: false, notifyCustomer: false,
              refundMethod: $refundMethod) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}"""
ALREADY_CANCELLED = "already been cancel"


def export(client: ShopifyClient, order: OrderExport) -> OrderRecord:
    """Create the order; the store's record of it, as a REST read shows it."""
    payload = client.mutate(
        CREATE,
        {"order": inputs.order(order), "options": inputs.ORDER_OPTIONS},
        field="orderCreate",
        operation="orders.create",
    )
    found = streams.order(client, client.made(payload, "order", "orders.create"))
    if found is None:
        raise Unavailable("orders.create: the order Shopify made cannot be read yet")
    return found


def cancel(client: ShopifyClient, order_id: str) -> None:
    """Cancel without a refund, a restock or an e-mail (all stay the merchant's call in
    Shopify; Tradewind's stock is the master). An order cancelled already counts as done."""
    client.mutate(
        CANCEL,
        {
            "orderId": gid("Order", order_id),
            "refundMethod": {"originalPaymentMethodsRefund": False},
        },
        field="orderCancel",
        operation="orders.cancel",
        errors="orderCancelUserErrors",
        tolerate=(ALREADY_CANCELLED,),
    )


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
