"""REST handlers: products and variants."""

from __future__ import annotations

from tradewind.sandbox.shopify.ops.base import unprocessable
from tradewind.sandbox.shopify.rest.base import (
    Answer,
    Context,
    Sorting,
    body_of,
    by_id,
    common_filter,
    ok,
    page,
    pick_fields,
)
from tradewind.sandbox.shopify.state import Doc

PRODUCT_SORTING = Sorting(
    keys=frozenset(
        {"id", "title", "created_at", "updated_at", "published_at", "product_type", "vendor"}
    ),
)


def _products(ctx: Context) -> list[Doc]:
    q = ctx.query
    items = common_filter(by_id(ctx.ops.shop.products.values()), q)
    for key in ("title", "vendor", "handle", "product_type", "status"):
        if q.get(key):
            wanted = (
                {v.strip() for v in q[key].split(",")} if key in ("handle", "status") else {q[key]}
            )
            items = [p for p in items if p.get(key) in wanted]
    if q.get("collection_id"):
        cid = int(q["collection_id"])
        members = {pid for c, pid in ctx.ops.shop.settings.collects if c == cid}
        items = [p for p in items if p["id"] in members]
    status = q.get("published_status")
    if status == "published":
        items = [p for p in items if p["published_at"]]
    elif status == "unpublished":
        items = [p for p in items if not p["published_at"]]
    return items


def list_products(ctx: Context) -> Answer:
    return ok(
        {"products": page(ctx, _products(ctx), ctx.ops.catalog.render_product, PRODUCT_SORTING)}
    )


def count_products(ctx: Context) -> Answer:
    return ok({"count": len(_products(ctx))})


def get_product(ctx: Context) -> Answer:
    return ok({"product": pick_fields(ctx.ops.catalog.product(ctx.ids[0]), ctx.query)})


def create_product(ctx: Context) -> Answer:
    data = body_of(ctx, "product")
    if not data.get("title"):
        raise unprocessable("title", "can't be blank")
    return ok({"product": ctx.ops.catalog.create_product(data)}, 201)


def update_product(ctx: Context) -> Answer:
    return ok({"product": ctx.ops.catalog.update_product(ctx.ids[0], body_of(ctx, "product"))})


def delete_product(ctx: Context) -> Answer:
    ctx.ops.catalog.delete_product(ctx.ids[0])
    return ok({})


def list_variants(ctx: Context) -> Answer:
    ctx.ops.catalog.product(ctx.ids[0])
    items = common_filter(by_id(ctx.ops.catalog.product_variants(ctx.ids[0])), ctx.query)
    return ok({"variants": page(ctx, items, ctx.ops.catalog.render_variant)})


def count_variants(ctx: Context) -> Answer:
    ctx.ops.catalog.product(ctx.ids[0])
    return ok({"count": len(ctx.ops.catalog.product_variants(ctx.ids[0]))})


def get_variant(ctx: Context) -> Answer:
    return ok({"variant": pick_fields(ctx.ops.catalog.variant(ctx.ids[0]), ctx.query)})


def create_variant(ctx: Context) -> Answer:
    return ok({"variant": ctx.ops.catalog.create_variant(ctx.ids[0], body_of(ctx, "variant"))}, 201)


def update_variant(ctx: Context) -> Answer:
    return ok({"variant": ctx.ops.catalog.update_variant(ctx.ids[0], body_of(ctx, "variant"))})


def delete_variant(ctx: Context) -> Answer:
    ctx.ops.catalog.delete_variant(ctx.ids[0], ctx.ids[1])
    return ok({})
