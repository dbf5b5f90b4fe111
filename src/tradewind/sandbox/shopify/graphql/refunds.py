"""``refundCreate``: a refund of lines (restocked per ``restockType`` at ``locationId``),
shipping and money, through the same operation as REST ``POST orders/{id}/refunds`` — so
the refund shows in ``orders/{id}/refunds.json`` and ``order.refunds``, restocking moves
the location's inventory level and ``refunds/create`` fires. Bad input is answered as
Shopify does: ``userErrors`` with the field's path, and nothing refunded. An
``@idempotent`` key (optional in 2026-01, required from 2026-04) makes a repeated mutation
answer with the refund the first one made.
"""

from __future__ import annotations

from typing import Any

from tradewind.sandbox.shopify.graphql.context import Ctx, guard, idempotency_key, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.ops.base import ShopifyError, first_message
from tradewind.sandbox.shopify.state import Doc

RESTOCK_TYPES = {
    "RETURN": "return",
    "CANCEL": "cancel",
    "NO_RESTOCK": "no_restock",
    "LEGACY_RESTOCK": "legacy_restock",
}


def _refused(path: list[str], message: str) -> Doc:
    return {"order": None, "refund": None, "userErrors": [{"field": path, "message": message}]}


def refund_create(info: Any, input: Doc) -> Doc:
    ctx = guard(info)
    key = idempotency_key(info, ctx)
    if key is None:
        return _create(ctx, input)
    stored_key = f"{ctx.token.app_key}:refundCreate:{key}"
    previous = ctx.ops.shop.idempotency.get(stored_key)
    if previous is not None:
        return _revive(ctx, previous)
    result = _create(ctx, input)
    made = result.get("refund")
    ctx.ops.shop.idempotency.put(
        stored_key,
        {
            "userErrors": result["userErrors"],
            "refund": parse_gid(made["id"], "Refund") if made else None,
            "order": parse_gid(input["orderId"], "Order") if made else None,
        },
    )
    return result


def _revive(ctx: Ctx, frozen: Doc) -> Doc:
    """The first answer again: the refund it made as the order now shows it."""
    if frozen["refund"] is None:
        return {"order": None, "refund": None, "userErrors": frozen["userErrors"]}
    view = View(ctx)
    made = next(
        r for r in ctx.ops.refunds.order_refunds(frozen["order"]) if r["id"] == frozen["refund"]
    )
    return {
        "order": view.order(ctx.ops.orders.order_doc(frozen["order"])),
        "refund": view.refund(made),
        "userErrors": [],
    }


def _create(ctx: Ctx, input: Doc) -> Doc:
    order_id = parse_gid(input["orderId"], "Order")
    if order_id is None or order_id not in ctx.ops.shop.orders:
        return _refused(["orderId"], "Order does not exist")
    doc = ctx.ops.orders.order_doc(order_id)
    lines = _lines(ctx, doc, input.get("refundLineItems") or [])
    if not isinstance(lines, list):
        return lines
    data: Doc = {
        "note": input.get("note"),
        "notify": bool(input.get("notify")),
        "refund_line_items": lines,
        "transactions": [
            {
                "amount": str(tx["amount"]),
                "gateway": tx["gateway"],
                "parent_id": parse_gid(tx.get("parentId") or "", "OrderTransaction") or 0,
            }
            for tx in input.get("transactions") or []
        ],
    }
    shipping = input.get("shipping")
    if shipping:
        data["shipping"] = {
            "amount": shipping.get("amount"),
            "full_refund": bool(shipping.get("fullRefund")),
        }
    try:
        refund = ctx.ops.refunds.create_refund(order_id, data)
    except ShopifyError as error:
        return _refused(["refundLineItems"], first_message(error))
    view = View(ctx)
    return {
        "order": view.order(ctx.ops.orders.order_doc(order_id)),
        "refund": view.refund(refund),
        "userErrors": [],
    }


def _lines(ctx: Ctx, doc: Doc, items: list[Doc]) -> list[Doc] | Doc:
    """The REST refund lines of ``items``, or the payload refusing the first bad one."""
    by_id = {li["id"]: li for li in doc["line_items"]}
    asked: dict[int, int] = {}
    out = []
    for index, item in enumerate(items):
        path = ["refundLineItems", str(index)]
        line_id = parse_gid(item["lineItemId"], "LineItem")
        line = by_id.get(line_id) if line_id is not None else None
        if line is None:
            return _refused([*path, "lineItemId"], "Line item does not exist on this order")
        quantity = int(item["quantity"])
        if quantity < 1:
            return _refused([*path, "quantity"], "Quantity must be greater than 0")
        asked[line["id"]] = asked.get(line["id"], 0) + quantity
        if asked[line["id"]] > line["current_quantity"]:
            return _refused(
                [*path, "quantity"],
                f"Quantity cannot refund more items than were purchased "
                f"({line['current_quantity']} refundable)",
            )
        restock = RESTOCK_TYPES[item.get("restockType") or "NO_RESTOCK"]
        spec: Doc = {"line_item_id": line["id"], "quantity": quantity, "restock_type": restock}
        if item.get("locationId"):
            location_id = parse_gid(item["locationId"], "Location")
            if location_id is None or location_id not in ctx.ops.shop.locations:
                return _refused([*path, "locationId"], "Location does not exist")
            spec["location_id"] = location_id
        out.append(spec)
    return out
