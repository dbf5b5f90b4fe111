"""Order writes over GraphQL: ``orderCancel`` (2024-04+ signature: orderId, reason,
refund, restock, notifyCustomer; answered with a ``Job`` and ``orderCancelUserErrors``)
and ``fulfillmentCancel``. Both go through the same order rules as REST, so stock,
money and ``orders/cancelled`` / ``fulfillments/update`` follow as they do there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify.graphql.context import context_of, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc

FULFILLMENT_WRITE = (
    "write_merchant_managed_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "write_fulfillments",
)


def _message(error: ShopifyError) -> str:
    errors = error.errors
    if isinstance(errors, dict):
        for messages in errors.values():
            return str(messages[0] if isinstance(messages, list) else messages)
    return str(errors)


def order_cancel(info: Any, orderId: str, reason: str, restock: bool, **args: Any) -> Doc:  # noqa: N803 - Shopify's name
    ctx = context_of(info)
    ctx.require(("write_orders",), "orderCancel")

    def refused(message: str, code: str) -> Doc:
        error = {"field": ["orderId"], "message": message, "code": code}
        return {
            "job": None,
            "orderCancelUserErrors": [error],
            "userErrors": [{"field": ["orderId"], "message": message}],
        }

    ident = parse_gid(orderId, "Order")
    doc = ctx.ops.shop.orders.get(ident) if ident else None
    if doc is None:
        return refused("Order does not exist", "NOT_FOUND")
    data: Doc = {"reason": reason.lower(), "restock": restock}
    if args.get("refund") and doc["financial_status"] in ("paid", "partially_paid"):
        data["amount"] = doc["total_price"]
    try:
        ctx.ops.orders.cancel_order(doc["id"], data)
    except ShopifyError as error:
        return refused(_message(error), "INVALID")
    # Shopify answers with a job not yet done; the sandbox cancels at once, so job(id:)
    # reports it done
    return {
        "job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": False},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


def fulfillment_cancel(info: Any, id: str) -> Doc:
    ctx = context_of(info)
    ctx.require(FULFILLMENT_WRITE, "fulfillmentCancel")
    ident = parse_gid(id, "Fulfillment")
    if ident is None or ident not in ctx.ops.shop.fulfillments:
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["id"], "message": "Fulfillment does not exist."}],
        }
    try:
        ctx.ops.fulfillments.cancel_fulfillment(ident)
    except ShopifyError as error:
        return {"fulfillment": None, "userErrors": [{"field": ["id"], "message": _message(error)}]}
    stored = ctx.ops.shop.fulfillments.get(ident)
    assert stored is not None
    return {"fulfillment": View(ctx).fulfillment(stored), "userErrors": []}


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "orderCancel": order_cancel,
    "fulfillmentCancel": fulfillment_cancel,
}


def job(_info: Any, id: str) -> Doc | None:
    """Every job the sandbox hands out has finished by the time it is asked about."""
    if not id.startswith("gid://shopify/Job/"):
        return None
    return {"id": id, "done": True}
