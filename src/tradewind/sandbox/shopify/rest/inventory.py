"""REST handlers: inventory items and inventory levels."""

from __future__ import annotations

from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.rest.base import (
    Answer,
    Context,
    Sorting,
    body_of,
    by_id,
    id_set,
    ok,
    page,
    parse_time,
)
from tradewind.sandbox.shopify.state import Doc

# An inventory level has no id of its own: it is the item at the location.
LEVEL_SORTING = Sorting(ident=lambda lv: [lv["inventory_item_id"], lv["location_id"]])


def list_inventory_items(ctx: Context) -> Answer:
    ids = id_set(ctx.query.get("ids"))
    if ids is None:
        raise ShopifyError(422, {"ids": ["is required"]})
    items = [i for i in by_id(ctx.ops.shop.inventory_items.values()) if i["id"] in ids]
    return ok({"inventory_items": page(ctx, items)})


def get_inventory_item(ctx: Context) -> Answer:
    return ok({"inventory_item": ctx.ops.inventory.inventory_item(ctx.ids[0])})


def update_inventory_item(ctx: Context) -> Answer:
    data = body_of(ctx, "inventory_item")
    return ok({"inventory_item": ctx.ops.inventory.update_inventory_item(ctx.ids[0], data)})


def list_levels(ctx: Context) -> Answer:
    items = id_set(ctx.query.get("inventory_item_ids"))
    locations = id_set(ctx.query.get("location_ids"))
    if items is None and locations is None:
        raise ShopifyError(
            422, {"errors": ["inventory_item_ids, location_ids, or both are required"]}
        )
    levels = ctx.ops.inventory.levels(items, locations)
    if ctx.query.get("updated_at_min"):
        bound = parse_time(ctx.query["updated_at_min"])
        levels = [lv for lv in levels if parse_time(lv["updated_at"]) >= bound]
    return ok({"inventory_levels": page(ctx, levels, sorting=LEVEL_SORTING)})


def _level_ids(data: Doc) -> tuple[int, int]:
    try:
        return int(data["inventory_item_id"]), int(data["location_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ShopifyError(
            422, {"errors": ["inventory_item_id and location_id are required"]}
        ) from exc


def set_level(ctx: Context) -> Answer:
    item, loc = _level_ids(ctx.body)
    if "available" not in ctx.body:
        raise ShopifyError(422, {"available": ["is required"]})
    return ok(
        {"inventory_level": ctx.ops.inventory.set_available(item, loc, int(ctx.body["available"]))}
    )


def adjust_level(ctx: Context) -> Answer:
    item, loc = _level_ids(ctx.body)
    delta = int(ctx.body.get("available_adjustment", 0))
    return ok({"inventory_level": ctx.ops.inventory.adjust_available(item, loc, delta)})


def connect_level(ctx: Context) -> Answer:
    item, loc = _level_ids(ctx.body)
    existed = ctx.ops.inventory.level(item, loc) is not None
    return ok({"inventory_level": ctx.ops.inventory.connect(item, loc)}, 200 if existed else 201)


def delete_level(ctx: Context) -> Answer:
    item, loc = _level_ids(dict(ctx.query))
    ctx.ops.inventory.disconnect(item, loc)
    return ok({}, 204)
