"""The hold mutations: ``fulfillmentOrderHold`` puts a fulfillment order on hold with a
reason (``HIGH_RISK_OF_FRAUD``, ``AWAITING_PAYMENT``, ``OTHER``…), and
``fulfillmentOrderReleaseHold`` releases its holds; each fires the webhook Shopify sends
(``fulfillment_orders/placed_on_hold``, ``fulfillment_orders/hold_released``)."""

from __future__ import annotations

from typing import Any

from tradewind.sandbox.shopify.graphql.context import Ctx, guard, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc


def _fulfillment_order(ctx: Ctx, gid: str) -> int | None:
    ident = parse_gid(gid, "FulfillmentOrder")
    return ident if ident is not None and ident in ctx.ops.shop.fulfillment_orders else None


def _refused(error: ShopifyError, **empty: None) -> Doc:
    errors = error.errors if isinstance(error.errors, dict) else {"base": [str(error.errors)]}
    return {
        **empty,
        "userErrors": [
            {"field": [field], "message": str(messages[0] if messages else "")}
            for field, messages in errors.items()
        ],
    }


def hold(info: Any, id: str, **args: Any) -> Doc:
    ctx = guard(info)
    wanted: Doc = args["fulfillmentHold"]
    ident = _fulfillment_order(ctx, id)
    missing = {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None}
    if ident is None:
        return {
            **missing,
            "userErrors": [{"field": ["id"], "message": "Fulfillment order does not exist."}],
        }
    reason = str(wanted["reason"]).lower()
    try:
        held = ctx.ops.fulfillment_orders.hold_fulfillment_order(
            ident, {"reason": reason, "reason_notes": wanted.get("reasonNotes")}
        )
    except ShopifyError as error:
        return _refused(error, **missing)
    shown = View(ctx).fulfillment_order(held)
    return {
        "fulfillmentHold": shown["fulfillmentHolds"][-1],
        "fulfillmentOrder": shown,
        "remainingFulfillmentOrder": None,
        "userErrors": [],
    }


def release(info: Any, id: str, **_: Any) -> Doc:
    ctx = guard(info)
    ident = _fulfillment_order(ctx, id)
    if ident is None:
        return {
            "fulfillmentOrder": None,
            "userErrors": [{"field": ["id"], "message": "Fulfillment order does not exist."}],
        }
    try:
        released = ctx.ops.fulfillment_orders.release_hold(ident)
    except ShopifyError as error:
        return _refused(error, fulfillmentOrder=None)
    return {"fulfillmentOrder": View(ctx).fulfillment_order(released), "userErrors": []}
