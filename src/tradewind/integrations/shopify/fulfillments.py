"""Tracking back to Shopify: a Tradewind shipment becomes a fulfillment of the order's
open fulfillment orders, for exactly the shipped lines and quantities, with carrier,
number and URL; ``notify_customer`` as the engine decided it (the plugin's *Send Shipping
Notification*)."""

from __future__ import annotations

from typing import Any

from tradewind.connectors import Rejected, ShipmentRecord
from tradewind.integrations.shopify.client import ShopifyClient

OPEN = frozenset({"open", "in_progress", "scheduled"})


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
                items.append({"id": item["id"], "quantity": take})
                wanted[key] -= take
        if items:
            groups.append(
                {
                    "fulfillment_order_id": fulfillment_order["id"],
                    "fulfillment_order_line_items": items,
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
    body = {
        "fulfillment": {
            "notify_customer": shipment.notify_customer,
            "tracking_info": tracking,
            "line_items_by_fulfillment_order": groups,
        }
    }
    created = client.rest(
        "POST", "fulfillments", operation="fulfillments.create", json_body=body
    ).json()
    return str(created["fulfillment"]["id"])


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
    answer = client.rest(
        "POST",
        f"fulfillments/{fulfillment_id}/cancel",
        operation="fulfillments.cancel",
        json_body={},
        allow=(404, 422),
    )
    if answer.status_code == 404:
        return
    if answer.status_code == 422:
        said = str(answer.json().get("errors", ""))
        if "already cancelled" in said.lower():
            return
        raise Rejected(f"Shopify refused to cancel fulfillment {fulfillment_id}: {said}")


def close_order(client: ShopifyClient, order_id: str) -> None:
    client.rest("POST", f"orders/{order_id}/close", operation="orders.close", json_body={})
