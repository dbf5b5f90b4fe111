"""The query root: one resolver per root field, with Shopify's search syntax and sort keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.graphql.context import (
    FIELD_SCOPES,
    GID,
    Ctx,
    connection,
    guard,
    parse_gid,
)
from tradewind.sandbox.shopify.graphql.converters import View, maybe, split_tags
from tradewind.sandbox.shopify.graphql.search import search
from tradewind.sandbox.shopify.rest import parse_time
from tradewind.sandbox.shopify.state import Doc
from tradewind.sandbox.shopify.webhooks import ENUM_TOPICS

ORDER_WINDOW = timedelta(days=60)


def _visible_orders(ctx: Ctx) -> list[Doc]:
    orders = sorted(ctx.ops.shop.orders.values(), key=lambda o: o["id"])
    if ctx.token.grants("read_all_orders"):
        return orders
    horizon = datetime.now(UTC) - ORDER_WINDOW
    return [o for o in orders if parse_time(o["created_at"]) >= horizon]


ORDER_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda o: o["id"],
    "name": lambda o: o["name"],
    "email": lambda o: o["email"],
    "created_at": lambda o: o["created_at"],
    "updated_at": lambda o: o["updated_at"],
    "processed_at": lambda o: o["processed_at"],
    "financial_status": lambda o: o["financial_status"],
    "fulfillment_status": lambda o: o["fulfillment_status"] or "unshipped",
    "status": lambda o: (
        "cancelled" if o["cancelled_at"] else ("closed" if o["closed_at"] else "open")
    ),
    "source_name": lambda o: o["source_name"],
    "tag": lambda o: split_tags(o["tags"]),
    "test": lambda o: str(o["test"]).lower(),
    "sku": lambda o: [li["sku"] for li in o["line_items"]],
}


PRODUCT_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda p: p["id"],
    "title": lambda p: p["title"],
    "handle": lambda p: p["handle"],
    "vendor": lambda p: p["vendor"],
    "product_type": lambda p: p["product_type"],
    "status": lambda p: p["status"],
    "tag": lambda p: split_tags(p["tags"]),
    "created_at": lambda p: p["created_at"],
    "updated_at": lambda p: p["updated_at"],
}


PRODUCT_SORT: dict[str, Callable[[Doc], Any]] = {
    "TITLE": lambda p: (p["title"], p["id"]),
    "CREATED_AT": lambda p: (parse_time(p["created_at"]), p["id"]),
    "UPDATED_AT": lambda p: (parse_time(p["updated_at"]), p["id"]),
}


VARIANT_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda v: v["id"],
    "sku": lambda v: v["sku"],
    "barcode": lambda v: v["barcode"],
    "product_id": lambda v: v["product_id"],
    "title": lambda v: v["title"],
    "updated_at": lambda v: v["updated_at"],
}


ITEM_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda i: i["id"],
    "sku": lambda i: i["sku"],
    "created_at": lambda i: i["created_at"],
    "updated_at": lambda i: i["updated_at"],
}


CUSTOMER_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda c: c["id"],
    "email": lambda c: c["email"],
    "first_name": lambda c: c["first_name"],
    "last_name": lambda c: c["last_name"],
    "updated_at": lambda c: c["updated_at"],
    "created_at": lambda c: c["created_at"],
}


ORDER_SORT: dict[str, Callable[[Doc], Any]] = {
    "ID": lambda o: o["id"],
    "CREATED_AT": lambda o: (parse_time(o["created_at"]), o["id"]),
    "UPDATED_AT": lambda o: (parse_time(o["updated_at"]), o["id"]),
    "PROCESSED_AT": lambda o: (parse_time(o["processed_at"]), o["id"]),
    "ORDER_NUMBER": lambda o: (o["order_number"], o["id"]),
}


def _node(ctx: Ctx, view: View, gid: str) -> Doc | None:
    match = GID.match(gid or "")
    if match is None:
        return None
    kind, ident = match.group(1), int(match.group(2))
    shop = ctx.ops.shop
    if kind == "InventoryLevel" and match.group(3):
        return view._level_by(int(match.group(3)), ident)
    finders: dict[str, tuple[tuple[str, ...], Callable[[], Doc | None]]] = {
        "Product": (("read_products",), lambda: maybe(shop.products.get(ident), view.product)),
        "ProductVariant": (
            ("read_products",),
            lambda: maybe(shop.variants.get(ident), view.variant),
        ),
        "InventoryItem": (
            ("read_inventory",),
            lambda: maybe(shop.inventory_items.get(ident), view.inventory_item),
        ),
        "Location": (("read_locations",), lambda: maybe(shop.locations.get(ident), view.location)),
        "Order": (("read_orders",), lambda: maybe(shop.orders.get(ident), view.order)),
        "Customer": (("read_customers",), lambda: view.customer(shop.customers.get(ident))),
        "FulfillmentOrder": (
            FIELD_SCOPES["fulfillmentOrder"],
            lambda: maybe(shop.fulfillment_orders.get(ident), view.fulfillment_order),
        ),
        "Fulfillment": (
            FIELD_SCOPES["fulfillment"],
            lambda: maybe(shop.fulfillments.get(ident), view.fulfillment),
        ),
        "WebhookSubscription": ((), lambda: _subscription(ctx, view, ident)),
    }
    found = finders.get(kind)
    if found is None:
        return None
    scopes, make = found
    if scopes:
        ctx.require(scopes, kind[0].lower() + kind[1:])
    return make()


def _subscription(ctx: Ctx, view: View, ident: int) -> Doc | None:
    sub = ctx.ops.shop.subscriptions.get(ident)
    if sub is None or sub.app_key != ctx.token.app_key:
        return None
    return view.subscription(sub)


def _sort(items: list[Doc], key: Callable[[Doc], Any]) -> list[Doc]:
    return sorted(items, key=key)


def query_root(ctx: Ctx) -> Doc:
    view = View(ctx)
    ops = ctx.ops
    shop = ops.shop

    def guarded(make: Callable[..., Any]) -> Callable[..., Any]:
        def resolver(info: Any, **args: Any) -> Any:
            guard(info)
            return make(**args)

        return resolver

    def orders(**args: Any) -> Doc:
        items = search(_visible_orders(ctx), args.get("query"), ORDER_SEARCH)
        items = _sort(items, ORDER_SORT[args.get("sortKey") or "ID"])
        return connection(items, args, view.order)

    def order(id: str) -> Doc | None:
        ident = parse_gid(id, "Order")
        doc = shop.orders.get(ident) if ident else None
        if doc is None or doc not in _visible_orders(ctx):
            return None
        return view.order(doc)

    def products(**args: Any) -> Doc:
        items = search(
            _sort(shop.products.values(), lambda p: p["id"]), args.get("query"), PRODUCT_SEARCH
        )
        if args.get("sortKey") in PRODUCT_SORT:
            items.sort(key=PRODUCT_SORT[args["sortKey"]])
        return connection(items, args, view.product)

    def variants(**args: Any) -> Doc:
        items = search(
            _sort(shop.variants.values(), lambda v: v["id"]), args.get("query"), VARIANT_SEARCH
        )
        return connection(items, args, view.variant)

    def items(**args: Any) -> Doc:
        found = search(
            _sort(shop.inventory_items.values(), lambda i: i["id"]), args.get("query"), ITEM_SEARCH
        )
        return connection(found, args, view.inventory_item)

    def locations(**args: Any) -> Doc:
        found = _sort(shop.locations.values(), lambda loc: loc["id"])
        if not args.get("includeInactive"):  # deactivated locations only when asked for
            found = [loc for loc in found if loc["active"]]
        return connection(found, args, view.location)

    def customers(**args: Any) -> Doc:
        found = search(
            _sort(shop.customers.values(), lambda c: c["id"]), args.get("query"), CUSTOMER_SEARCH
        )
        return connection(found, args, view.customer)  # type: ignore[arg-type]

    def subscriptions(**args: Any) -> Doc:
        own = [s for s in shop.subscriptions.values() if s.app_key == ctx.token.app_key]
        topics = {ENUM_TOPICS.get(t) for t in args.get("topics") or []}
        if args.get("topics"):
            own = [s for s in own if s.topic in topics]
        if args.get("callbackUrl"):
            own = [s for s in own if s.address == args["callbackUrl"]]
        docs = [{"id": s.id, "_sub": s} for s in sorted(own, key=lambda s: s.id)]
        return connection(docs, args, lambda doc: view.subscription(doc["_sub"]))

    def by_gid(kind: str, table: Any, make: Callable[[Doc], Doc | None]) -> Callable[..., Any]:
        def find(id: str) -> Doc | None:
            ident = parse_gid(id, kind)
            doc = table.get(ident) if ident else None
            return make(doc) if doc is not None else None

        return find

    def location(id: str | None = None) -> Doc | None:
        if id is None:
            return view.location(ops.locations.location(ops.locations.primary_location_id()))
        found: Doc | None = by_gid("Location", shop.locations, view.location)(id)
        return found

    def app_installation() -> Doc:
        app = ctx.ops.state.apps.get(ctx.token.app_key)
        return {
            "__typename": "AppInstallation",
            "id": d.gid("AppInstallation", app.id if app else 0),
            "accessScopes": [{"handle": s, "description": s} for s in ctx.token.scopes],
            "app": {
                "id": d.gid("App", app.id if app else 0),
                "title": app.title if app else "",
                "apiKey": ctx.token.app_key,
            },
        }

    return {
        "shop": lambda _info: view.shop(),
        "node": guarded(lambda id: _node(ctx, view, id)),
        "nodes": guarded(lambda ids: [_node(ctx, view, i) for i in ids]),
        "currentAppInstallation": guarded(app_installation),
        "location": guarded(location),
        "locations": guarded(locations),
        "product": guarded(by_gid("Product", shop.products, view.product)),
        "products": guarded(products),
        "productVariant": guarded(by_gid("ProductVariant", shop.variants, view.variant)),
        "productVariants": guarded(variants),
        "inventoryItem": guarded(
            by_gid("InventoryItem", shop.inventory_items, view.inventory_item)
        ),
        "inventoryItems": guarded(items),
        "inventoryLevel": guarded(lambda id: _node(ctx, view, id)),
        "order": guarded(order),
        "orders": guarded(orders),
        "fulfillmentOrder": guarded(
            by_gid("FulfillmentOrder", shop.fulfillment_orders, view.fulfillment_order)
        ),
        "fulfillment": guarded(by_gid("Fulfillment", shop.fulfillments, view.fulfillment)),
        "customer": guarded(by_gid("Customer", shop.customers, view.customer)),
        "customers": guarded(customers),
        "webhookSubscription": guarded(
            lambda id: _subscription(ctx, view, parse_gid(id, "WebhookSubscription") or 0)
        ),
        "webhookSubscriptions": guarded(subscriptions),
    }
