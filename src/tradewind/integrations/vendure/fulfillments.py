"""Tracking back to Vendure: a Tradewind shipment becomes a fulfillment of the order's
lines with the carrier and tracking code, moved to Shipped. A resent push finds the
fulfillment it made before instead of making a second one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradewind.connectors import Rejected, ShipmentRecord
from tradewind.integrations.vendure import mapping
from tradewind.integrations.vendure.client import VendureClient, result

SHIPPED = "Shipped"
HANDLER = "manual-fulfillment"


def create(client: VendureClient, shipment: ShipmentRecord) -> str:
    data = client.query(
        """query TradewindOrderFulfillments($id: ID!) {
          order(id: $id) {
            id code state lines { id quantity }
            fulfillments { id state method trackingCode lines { orderLineId quantity } }
          }
        }""",
        {"id": shipment.order_external_id},
        operation="shipments.read",
    )
    order = data.get("order")
    if order is None:
        raise Rejected(f"order {shipment.order_external_id} is not in Vendure")
    wanted = mapping.lines_key((line.line_external_id, line.quantity) for line in shipment.lines)
    fulfillment = _made_before(order, shipment, wanted)
    if fulfillment is None:
        made = client.query(
            """mutation TradewindFulfil($input: FulfillOrderInput!) {
              addFulfillmentToOrder(input: $input) {
                ... on Fulfillment { id state }
                ... on ErrorResult { errorCode message }
              }
            }""",
            {
                "input": {
                    "lines": [{"orderLineId": line, "quantity": qty} for line, qty in wanted],
                    "handler": {
                        "code": HANDLER,
                        "arguments": [
                            {"name": "method", "value": shipment.carrier or "Tradewind"},
                            {"name": "trackingCode", "value": shipment.tracking_number},
                        ],
                    },
                }
            },
            operation="shipments.create",
        )
        fulfillment = result(made["addFulfillmentToOrder"], f"fulfil order {order['code']}")
    if fulfillment["state"] not in mapping.SHIPPED_FULFILLMENTS:
        moved = client.query(
            """mutation TradewindShip($id: ID!, $state: String!) {
              transitionFulfillmentToState(id: $id, state: $state) {
                ... on Fulfillment { id state }
                ... on ErrorResult { errorCode message }
              }
            }""",
            {"id": fulfillment["id"], "state": SHIPPED},
            operation="shipments.ship",
        )
        result(moved["transitionFulfillmentToState"], f"mark order {order['code']} shipped")
    return str(fulfillment["id"])


def _made_before(
    order: Mapping[str, Any], shipment: ShipmentRecord, wanted: tuple[tuple[str, int], ...]
) -> dict[str, Any] | None:
    """The fulfillment a lost answer left behind: same lines and tracking code, and
    (without a tracking code) the lines have nothing left to fulfil."""
    ordered = {str(line["id"]): line["quantity"] for line in order["lines"]}
    done: dict[str, int] = {}
    same: dict[str, Any] | None = None
    for fulfillment in order.get("fulfillments") or ():
        if fulfillment["state"] == mapping.CANCELLED_FULFILLMENT:
            continue
        lines = [(str(x["orderLineId"]), x["quantity"]) for x in fulfillment["lines"]]
        for line_id, quantity in lines:
            done[line_id] = done.get(line_id, 0) + quantity
        if (
            mapping.lines_key(lines) == wanted
            and (fulfillment.get("trackingCode") or "") == shipment.tracking_number
        ):
            same = fulfillment
    if same is None:
        return None
    if shipment.tracking_number:
        return same
    exhausted = any(
        done.get(line) and done[line] + qty > ordered.get(line, 0) for line, qty in wanted
    )
    return same if exhausted else None
