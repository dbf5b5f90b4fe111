"""Returns received in Tradewind, made refunds in the store (the Send returns to the
store rule): GraphQL ``refundCreate`` with the returned lines, restocked (``RETURN``) at
the order's location or not at all (``NO_RESTOCK``). No money moves: the refund records
the items; paying the customer back stays the merchant's call in Shopify.

The refund's note carries the return's marker, so that a retry after a lost answer finds
the refund made and never makes a second; from 2026-04, where Shopify requires it, the
mutation's ``@idempotent`` key is made from the same marker."""

from __future__ import annotations

from typing import Any

from tradewind.connectors import Rejected, ReturnExport
from tradewind.integrations.shopify.client import ShopifyClient, gid, legacy_id

REFUNDS_SEEN = 100  # an order with more refunds than this is beyond any real store's
FIND = f"""query OrderRefunds($id: ID!) {{
  order(id: $id) {{ refunds(first: {REFUNDS_SEEN}) {{ legacyResourceId note }} }}
}}"""
FIND_COST = 2 + REFUNDS_SEEN  # the order, and each refund's object
CREATE = """mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) %s {
    refund { legacyResourceId }
    userErrors { field message }
  }
}"""


def tag(marker: str) -> str:
    """The marker as it stands in a refund's note (bracketed: ``-1`` never matches ``-12``)."""
    return f"[{marker}]"


def export(client: ShopifyClient, refund: ReturnExport) -> str:
    """The store's refund of ``refund`` (found by its marker, else created); its id."""
    found = find(client, refund.order_external_id, refund.marker)
    if found is not None:
        return found
    directive = client.idempotent(f"refund|{refund.order_external_id}|{refund.marker}")
    payload = client.mutate(
        CREATE % directive,
        {"input": body(refund)},
        field="refundCreate",
        operation="refunds.create",
    )
    return client.made(payload, "refund", "refunds.create")


def find(client: ShopifyClient, order_id: str, marker: str) -> str | None:
    """The order's refund whose note carries ``marker``, if there is one."""
    data = client.graphql(
        FIND, {"id": gid("Order", order_id)}, operation="refunds.find", cost=FIND_COST
    )
    order = data.get("order")
    if order is None:
        raise Rejected(f"refunds.find: order {order_id} is not in the store")
    for found in order.get("refunds") or []:
        if tag(marker) in (found.get("note") or ""):
            return legacy_id(found["legacyResourceId"])
    return None


def body(refund: ReturnExport) -> dict[str, Any]:
    """``RefundInput`` of a return: its lines, no transactions (no money moves)."""
    restock = "RETURN" if refund.restock else "NO_RESTOCK"
    lines = []
    for line in refund.lines:
        item: dict[str, Any] = {
            "lineItemId": gid("LineItem", line.line_external_id),
            "quantity": line.quantity,
            "restockType": restock,
        }
        if refund.restock and refund.location_ref:
            item["locationId"] = gid("Location", refund.location_ref)
        lines.append(item)
    note = f"{refund.reason} {tag(refund.marker)}" if refund.reason else tag(refund.marker)
    return {
        "orderId": gid("Order", refund.order_external_id),
        "note": note,
        "notify": refund.notify,
        "refundLineItems": lines,
    }
