"""Tracking back to Shopify: a Tradewind shipment becomes a fulfillment (GraphQL
``fulfillmentCreate``) of the order's open fulfillment orders, for exactly the shipped
lines and quantities, with carrier, number and URL; ``notifyCustomer`` as the engine
decided it (the plugin's *Send Shipping Notification*). A voided label cancels the
fulfillment (``fulfillmentCancel``); a finished order is closed (``orderClose``).

The fulfillment orders and the order's fulfillments are read over REST: a retry after a
lost answer finds the fulfillment carrying the shipment's tracking number and makes no
second one."""

from __future__ import annotations

from typing import Any

from tradewind.connectors import Rejected, ShipmentRecord
from tradewind.integrations.shopify.client import ShopifyClient, gid

OPEN = frozenset({"open", "in_progress", "scheduled"})
CREATE = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { legacyResourceId }
    userErrors { field message }
  }
}"""
CANCEL = """mutation FulfillmentCancel($id: ID!) {
  fulfillmentCancel(id: $id) {
    fulfillment { legacyResourceId }
    userErrors { field message }
  }
}"""
CLOSE = """mutation OrderClose($input: OrderCloseInput!) {
  orderClose(input: $input) {
    order { legacyResourceId }
    userErrors { field message }
  }
}"""
# A fulfillment Shopify no longer has, or has cancelled already, is cancelled.
CANCELLED = ("does not exist", "already cancelled")


def create(client: ShopifyClient, shipment: ShipmentRecord) -> str:
    order_id = shipment.order_external_id
    existing = _already_there(client, order_id, shipment.tracking_number)
    if existing is not None:
        return existing  # our earlier try succeeded but its answer was lost
    orders = client.rest(
        "GET", f"orders/{order_id}/fulfillment_orders", operation="fulfillment_orders.list"
    ).json()
    wanted = {line.line_external_id: line.quantity for line in shipment.lines}
    groups: list[dict[str, Any]] = []
    for fulfillment_order in orders.get("fulfillment_orders", []):
        if fulfillment_order.get("status") not in OPEN:
            continue
        items = []
        for item in fulfillment_order.get("line_items", []):
            key = str(item["line_item_id"])
            take = min(wanted.get(key, 0), int(item.get("fulfillable_quantity") or 0))
            if take > 0:
                items.append({"id": gid("FulfillmentOrderLineItem", item["id"]), "quantity": take})
                wanted[key] -= take
        if items:
            groups.append(
                {
                    "fulfillmentOrderId": gid("FulfillmentOrder", fulfillment_order["id"]),
                    "fulfillmentOrderLineItems": items,
                }
            )
    left = {line: quantity for line, quantity in wanted.items() if quantity > 0}
    if not groups or left:
        raise Rejected(
            f"order {order_id} has no open fulfillment order for "
            f"{', '.join(f'{q} × line {line}' for line, q in left.items()) or 'these lines'} "
            "(already fulfilled or cancelled on Shopify?)"
        )
    tracking = {
        key: value
        for key, value in (
            ("number", shipment.tracking_number),
            ("company", shipment.carrier),
            ("url", shipment.tracking_url),
        )
        if value
    }
    fulfillment = {
        "notifyCustomer": shipment.notify_customer,
        "trackingInfo": tracking,
        "lineItemsByFulfillmentOrder": groups,
    }
    payload = client.mutate(
        CREATE,
        {"fulfillment": fulfillment},
        field="fulfillmentCreate",
        operation="fulfillments.create",
    )
    return client.made(payload, "fulfillment", "fulfillments.create")


def _already_there(client: ShopifyClient, order_id: str, tracking: str) -> str | None:
    if not tracking:
        return None
    found = client.rest(
        "GET", f"orders/{order_id}/fulfillments", operation="fulfillments.list"
    ).json()
    for fulfillment in found.get("fulfillments", []):
        numbers = fulfillment.get("tracking_numbers") or [fulfillment.get("tracking_number")]
        if tracking in numbers and fulfillment.get("status") != "cancelled":
            return str(fulfillment["id"])
    return None


def cancel(client: ShopifyClient, fulfillment_id: str) -> None:
    """Cancel a fulfillment (its label voided in Tradewind): its lines are unfulfilled in
    Shopify again. One Shopify no longer has, or has cancelled already, is done."""
    client.mutate(
        CANCEL,
        {"id": gid("Fulfillment", fulfillment_id)},
        field="fulfillmentCancel",
        operation="fulfillments.cancel",
        tolerate=CANCELLED,
    )


def close_order(client: ShopifyClient, order_id: str) -> None:
    client.mutate(
        CLOSE,
        {"input": {"id": gid("Order", order_id)}},
        field="orderClose",
        operation="orders.close",
    )
