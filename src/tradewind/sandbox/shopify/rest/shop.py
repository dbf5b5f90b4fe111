"""REST handlers: the shop, its access scopes and its locations."""

from __future__ import annotations

from tradewind.sandbox.shopify.rest.base import Answer, Context, by_id, ok, page, pick_fields
from tradewind.sandbox.shopify.rest.inventory import LEVEL_SORTING


def get_shop(ctx: Context) -> Answer:
    return ok({"shop": pick_fields(ctx.ops.shop_doc(), ctx.query)})


def access_scopes(ctx: Context) -> Answer:
    return ok({"access_scopes": [{"handle": s} for s in ctx.token.scopes]})


def list_locations(ctx: Context) -> Answer:
    return ok({"locations": by_id(ctx.ops.shop.locations.values())})


def get_location(ctx: Context) -> Answer:
    return ok({"location": ctx.ops.locations.location(ctx.ids[0])})


def count_locations(ctx: Context) -> Answer:
    return ok({"count": len(ctx.ops.shop.locations)})


def location_levels(ctx: Context) -> Answer:
    ctx.ops.locations.location(ctx.ids[0])
    return ok(
        {
            "inventory_levels": page(
                ctx, ctx.ops.inventory.levels(None, {ctx.ids[0]}), sorting=LEVEL_SORTING
            )
        }
    )
