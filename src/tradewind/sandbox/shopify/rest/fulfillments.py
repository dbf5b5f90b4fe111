"""REST handlers: fulfillment orders, fulfillments and fulfillment events."""

from __future__ import annotations

from tradewind.sandbox.shopify.ops.base import not_found, public, unprocessable
from tradewind.sandbox.shopify.rest.base import Answer, Context, body_of, common_filter, ok, page
from tradewind.sandbox.shopify.state import Doc


def _fo(ctx: Context, fo: Doc) -> Doc:
    with_order = ctx.query.get("include_order_reference_fields") == "true"
    with_financials = ctx.query.get("include_financial_summaries") == "true"
    return ctx.ops.fulfillment_orders.render_fulfillment_order(fo, with_order, with_financials)


def order_fulfillment_orders(ctx: Context) -> Answer:
    ctx.ops.orders.order_doc(ctx.ids[0])
    fos = ctx.ops.fulfillment_orders.order_fulfillment_orders(ctx.ids[0])
    return ok({"fulfillment_orders": [_fo(ctx, fo) for fo in fos]})


def get_fulfillment_order(ctx: Context) -> Answer:
    return ok(
        {"fulfillment_order": _fo(ctx, ctx.ops.fulfillment_orders.fulfillment_order(ctx.ids[0]))}
    )


def cancel_fulfillment_order(ctx: Context) -> Answer:
    fo, replacement = ctx.ops.fulfillment_orders.cancel_fulfillment_order(ctx.ids[0])
    return ok({"fulfillment_order": fo, "replacement_fulfillment_order": replacement})


def close_fulfillment_order(ctx: Context) -> Answer:
    message = (ctx.body.get("fulfillment_order") or {}).get("message")
    return ok(
        {
            "fulfillment_order": ctx.ops.fulfillment_orders.close_fulfillment_order(
                ctx.ids[0], message
            )
        }
    )


def open_fulfillment_order(ctx: Context) -> Answer:
    return ok({"fulfillment_order": ctx.ops.fulfillment_orders.open_fulfillment_order(ctx.ids[0])})


def reschedule_fulfillment_order(ctx: Context) -> Answer:
    data = body_of(ctx, "fulfillment_order")
    when = data.get("new_fulfill_at")
    if not when:
        raise unprocessable("new_fulfill_at", "is required")
    fo = ctx.ops.fulfillment_orders.reschedule_fulfillment_order(ctx.ids[0], str(when))
    return ok({"fulfillment_order": fo})


def hold_fulfillment_order(ctx: Context) -> Answer:
    data = body_of(ctx, "fulfillment_hold")
    return ok(
        {"fulfillment_order": ctx.ops.fulfillment_orders.hold_fulfillment_order(ctx.ids[0], data)}
    )


def release_hold(ctx: Context) -> Answer:
    return ok({"fulfillment_order": ctx.ops.fulfillment_orders.release_hold(ctx.ids[0])})


def move_fulfillment_order(ctx: Context) -> Answer:
    data = body_of(ctx, "fulfillment_order")
    if "new_location_id" not in data:
        raise unprocessable("new_location_id", "is required")
    original, moved, remaining = ctx.ops.fulfillment_orders.move_fulfillment_order(
        ctx.ids[0], int(data["new_location_id"]), data.get("fulfillment_order_line_items")
    )
    return ok(
        {
            "original_fulfillment_order": original,
            "moved_fulfillment_order": moved,
            "remaining_fulfillment_order": remaining,
        }
    )


def set_deadline(ctx: Context) -> Answer:
    ids = ctx.body.get("fulfillment_order_ids") or []
    deadline = ctx.body.get("fulfillment_deadline")
    if not ids or not deadline:
        raise unprocessable("fulfillment_deadline", "is required")
    ctx.ops.fulfillment_orders.set_deadline([int(i) for i in ids], str(deadline))
    return ok({})


def fulfillment_order_fulfillments(ctx: Context) -> Answer:
    fo = ctx.ops.fulfillment_orders.fulfillment_order(ctx.ids[0])
    lines = {li["line_item_id"] for li in fo["line_items"]}
    found = [
        f
        for f in ctx.ops.fulfillments.order_fulfillments(fo["order_id"])
        if any(li["id"] in lines for li in f["line_items"]) or not lines
    ]
    return ok({"fulfillments": [public(f) for f in found]})


def order_fulfillments(ctx: Context) -> Answer:
    ctx.ops.orders.order_doc(ctx.ids[0])
    items = common_filter(ctx.ops.fulfillments.order_fulfillments(ctx.ids[0]), ctx.query)
    return ok({"fulfillments": page(ctx, items, public)})


def count_order_fulfillments(ctx: Context) -> Answer:
    ctx.ops.orders.order_doc(ctx.ids[0])
    return ok({"count": len(ctx.ops.fulfillments.order_fulfillments(ctx.ids[0]))})


def get_order_fulfillment(ctx: Context) -> Answer:
    doc = ctx.ops.fulfillments.fulfillment(ctx.ids[1])
    if doc["order_id"] != ctx.ids[0]:
        raise not_found()
    return ok({"fulfillment": public(doc)})


def create_fulfillment(ctx: Context) -> Answer:
    return ok(
        {"fulfillment": ctx.ops.fulfillments.create_fulfillment(body_of(ctx, "fulfillment"))}, 201
    )


def update_tracking(ctx: Context) -> Answer:
    data = body_of(ctx, "fulfillment")
    return ok({"fulfillment": ctx.ops.fulfillments.update_tracking(ctx.ids[0], data)})


def cancel_fulfillment(ctx: Context) -> Answer:
    return ok({"fulfillment": ctx.ops.fulfillments.cancel_fulfillment(ctx.ids[0])})


def _event_owner(ctx: Context) -> Doc:
    doc = ctx.ops.fulfillments.fulfillment(ctx.ids[1])
    if doc["order_id"] != ctx.ids[0]:
        raise not_found()
    return doc


def list_fulfillment_events(ctx: Context) -> Answer:
    _event_owner(ctx)
    return ok({"fulfillment_events": ctx.ops.fulfillments.fulfillment_events(ctx.ids[1])})


def create_fulfillment_event(ctx: Context) -> Answer:
    _event_owner(ctx)
    data = body_of(ctx, "event")
    event = ctx.ops.fulfillments.create_fulfillment_event(ctx.ids[1], data)
    return ok({"fulfillment_event": event}, 201)


def get_fulfillment_event(ctx: Context) -> Answer:
    _event_owner(ctx)
    event = ctx.ops.shop.fulfillment_events.get(ctx.ids[2])
    if event is None or event["fulfillment_id"] != ctx.ids[1]:
        raise not_found()
    return ok({"fulfillment_event": event})


def delete_fulfillment_event(ctx: Context) -> Answer:
    get_fulfillment_event(ctx)
    ctx.ops.shop.fulfillment_events.delete(ctx.ids[2])
    return ok({})
