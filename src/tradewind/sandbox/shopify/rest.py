"""The REST Admin API: a table of routes, each a method, a path pattern, the access scope
Shopify requires and a handler; list filters, ``fields``, cursor pagination with the
``Link`` header, and Shopify's error bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import ShopifyError, not_found, public, unprocessable
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc, Subscription, Token
from tradewind.sandbox.shopify.webhooks import TOPIC_SCOPES, TOPICS

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
PAGE_INFO_COMPANIONS = frozenset({"limit", "fields", "page_info"})
ORDER_WINDOW = timedelta(days=60)


@dataclass
class Context:
    ops: ShopOps
    token: Token
    query: dict[str, str]
    body: Doc
    ids: tuple[int, ...]
    version: str
    url: str  # absolute URL of the resource path, without query (for Link)
    link: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


Handler = Callable[[Context], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...]  # any of these grants access; () = no scope needed


def ok(body: Any, status: int = 200) -> Answer:
    return Answer(status, body)


# --- query helpers ---------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """Shopify accepts ISO 8601 with a ``T`` or a space and an optional offset."""
    value = text.strip().replace(" ", "T", 1)
    value = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", value)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ShopifyError(400, {"errors": f"invalid date {text!r}"}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def id_set(text: str | None) -> set[int] | None:
    if not text:
        return None
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise ShopifyError(400, {"errors": "ids must be integers"}) from exc


TIME_FILTERS = ("created_at", "updated_at", "processed_at", "published_at")


def common_filter(items: list[Doc], query: dict[str, str]) -> list[Doc]:
    ids = id_set(query.get("ids"))
    if ids is not None:
        items = [i for i in items if i["id"] in ids]
    if query.get("since_id"):
        since = int(query["since_id"])
        items = [i for i in items if i["id"] > since]
    for name in TIME_FILTERS:
        low, high = query.get(name + "_min"), query.get(name + "_max")
        if low:
            bound = parse_time(low)
            items = [i for i in items if i.get(name) and parse_time(i[name]) >= bound]
        if high:
            bound = parse_time(high)
            items = [i for i in items if i.get(name) and parse_time(i[name]) <= bound]
    return items


def pick_fields(doc: Doc, query: dict[str, str]) -> Doc:
    wanted = query.get("fields")
    if not wanted:
        return doc
    names = [f.strip().replace("-", "_") for f in wanted.split(",") if f.strip()]
    return {k: doc[k] for k in names if k in doc}


def page(ctx: Context, items: list[Doc], render: Callable[[Doc], Doc] | None = None) -> list[Doc]:
    """Cut one page, set the ``Link`` header, render the page's items and apply ``fields``."""
    try:
        limit = min(MAX_LIMIT, max(1, int(ctx.query.get("limit", DEFAULT_LIMIT))))
    except ValueError as exc:
        raise ShopifyError(400, {"limit": "Limit must be an integer"}) from exc
    start = int(ctx.query.get("_start", 0))
    chunk = items[start : start + limit]
    links = []
    filters = {
        k: v for k, v in ctx.query.items() if k not in PAGE_INFO_COMPANIONS and k != "_start"
    }
    extra = f"&fields={ctx.query['fields']}" if ctx.query.get("fields") else ""
    if start + limit < len(items):
        cursor = encode_cursor(filters, start + limit)
        links.append(f'<{ctx.url}?limit={limit}{extra}&page_info={cursor}>; rel="next"')
    if start > 0:
        cursor = encode_cursor(filters, max(0, start - limit))
        links.insert(0, f'<{ctx.url}?limit={limit}{extra}&page_info={cursor}>; rel="previous"')
    if links:
        ctx.link = ", ".join(links)
    if render is not None:
        chunk = [render(doc) for doc in chunk]
    return [pick_fields(doc, ctx.query) for doc in chunk]


def encode_cursor(filters: dict[str, str], start: int) -> str:
    return d.page_cursor(json.dumps({"f": filters, "s": start}, separators=(",", ":")))


def decode_query(raw: dict[str, str]) -> dict[str, str]:
    """Expand ``page_info`` into the filters of the first request, as Shopify does."""
    if "page_info" not in raw:
        return raw
    for key in raw:
        if key not in PAGE_INFO_COMPANIONS:
            raise ShopifyError(
                400,
                {
                    key: f"{key} cannot be passed when page_info is present. See "
                    "https://shopify.dev/api/usage/pagination-rest for more information."
                },
            )
    try:
        cursor = json.loads(d.read_cursor(raw["page_info"]))
        query = {str(k): str(v) for k, v in cursor["f"].items()}
        query["_start"] = str(int(cursor["s"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ShopifyError(400, {"page_info": "Invalid value."}) from exc
    for key in ("limit", "fields"):
        if key in raw:
            query[key] = raw[key]
    return query


def by_id(items: list[Doc]) -> list[Doc]:
    return sorted(items, key=lambda i: i["id"])


def body_of(ctx: Context, key: str) -> Doc:
    value = ctx.body.get(key)
    if not isinstance(value, dict):
        raise ShopifyError(400, {key: "Required parameter missing or invalid"})
    return value


# --- shop, locations -------------------------------------------------------------------


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
    return ok({"inventory_levels": page(ctx, ctx.ops.inventory.levels(None, {ctx.ids[0]}))})


# --- products and variants -------------------------------------------------------------


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
    return ok({"products": page(ctx, _products(ctx), ctx.ops.catalog.render_product)})


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


# --- inventory -------------------------------------------------------------------------


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
    return ok({"inventory_levels": page(ctx, levels)})


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


# --- customers -------------------------------------------------------------------------


def list_customers(ctx: Context) -> Answer:
    items = common_filter(by_id(ctx.ops.shop.customers.values()), ctx.query)
    return ok({"customers": page(ctx, items)})


def search_customers(ctx: Context) -> Answer:
    items = by_id(ctx.ops.customers.search_customers(ctx.query.get("query", "")))
    return ok({"customers": page(ctx, items)})


def count_customers(ctx: Context) -> Answer:
    return ok({"count": len(common_filter(ctx.ops.shop.customers.values(), ctx.query))})


def get_customer(ctx: Context) -> Answer:
    return ok({"customer": pick_fields(ctx.ops.customers.customer(ctx.ids[0]), ctx.query)})


def create_customer(ctx: Context) -> Answer:
    data = body_of(ctx, "customer")
    if not any(data.get(k) for k in ("email", "phone", "first_name", "last_name")):
        raise unprocessable("customer", "A name, phone number, or email address must be present")
    return ok({"customer": ctx.ops.customers.create_customer(data)}, 201)


def update_customer(ctx: Context) -> Answer:
    return ok({"customer": ctx.ops.customers.update_customer(ctx.ids[0], body_of(ctx, "customer"))})


def delete_customer(ctx: Context) -> Answer:
    ctx.ops.customers.delete_customer(ctx.ids[0])
    return ok({})


def customer_orders(ctx: Context) -> Answer:
    ctx.ops.customers.customer(ctx.ids[0])
    items = [o for o in _orders(ctx) if o.get("_customer_id") == ctx.ids[0]]
    return ok({"orders": [ctx.ops.orders.render_order(o) for o in items]})


def activation_url(ctx: Context) -> Answer:
    customer = ctx.ops.customers.customer(ctx.ids[0])
    if customer["state"] == "enabled":
        raise unprocessable("account_activation_url", "account already enabled")
    return ok({"account_activation_url": d.activation_url(ctx.ops.shop.settings, ctx.ids[0])}, 201)


def send_invite(ctx: Context) -> Answer:
    customer = ctx.ops.customers.customer(ctx.ids[0])
    data = ctx.body.get("customer_invite") or {}
    invite = {
        "to": data.get("to") or customer["email"],
        "from": data.get("from") or ctx.ops.shop.settings.email,
        "subject": data.get("subject") or "Customer account activation",
        "custom_message": data.get("custom_message", ""),
        "bcc": list(data.get("bcc", [])),
    }
    customer["state"] = "invited"
    ctx.ops.shop.customers.put(customer["id"], customer)
    return ok({"customer_invite": invite}, 201)


# --- orders ----------------------------------------------------------------------------

FINANCIAL_FILTERS: dict[str, frozenset[str] | None] = {
    "any": None,
    "unpaid": frozenset({"authorized", "pending", "partially_paid"}),
    "authorized": frozenset({"authorized"}),
    "pending": frozenset({"pending"}),
    "paid": frozenset({"paid"}),
    "partially_paid": frozenset({"partially_paid"}),
    "refunded": frozenset({"refunded"}),
    "partially_refunded": frozenset({"partially_refunded"}),
    "voided": frozenset({"voided"}),
}

FULFILLMENT_FILTERS: dict[str, frozenset[str | None] | None] = {
    "any": None,
    "shipped": frozenset({"fulfilled"}),
    "partial": frozenset({"partial"}),
    "unshipped": frozenset({None}),
    "unfulfilled": frozenset({None, "partial"}),
}


ORDER_STATUS: dict[str, Callable[[Doc], bool]] = {
    "open": lambda o: not o["closed_at"] and not o["cancelled_at"],
    "closed": lambda o: bool(o["closed_at"]),  # cancelled orders are closed as well
    "cancelled": lambda o: bool(o["cancelled_at"]),
}


def _orders(ctx: Context) -> list[Doc]:
    q = ctx.query
    items = by_id(ctx.ops.shop.orders.values())
    if not ctx.token.grants("read_all_orders"):
        horizon = datetime.now(UTC) - ORDER_WINDOW
        items = [o for o in items if parse_time(o["created_at"]) >= horizon]
    items = common_filter(items, q)
    status = q.get("status", "open")
    if status != "any":
        keep = ORDER_STATUS.get(status)
        if keep is None:
            raise ShopifyError(400, {"status": f"{status} is not a valid status"})
        items = [o for o in items if keep(o)]
    financial = q.get("financial_status")
    if financial:
        allowed = FINANCIAL_FILTERS.get(financial, frozenset({financial}))
        if allowed is not None:
            items = [o for o in items if o["financial_status"] in allowed]
    fulfilment = q.get("fulfillment_status")
    if fulfilment:
        wanted = FULFILLMENT_FILTERS.get(fulfilment, frozenset({fulfilment}))
        if wanted is not None:
            items = [o for o in items if o["fulfillment_status"] in wanted]
    if q.get("name"):
        names = {q["name"], "#" + q["name"].lstrip("#")}
        items = [o for o in items if o["name"] in names]
    if q.get("attribution_app_id") and q["attribution_app_id"] != "current":
        items = [o for o in items if str(o.get("app_id")) == q["attribution_app_id"]]
    return items


def list_orders(ctx: Context) -> Answer:
    return ok({"orders": page(ctx, _orders(ctx), ctx.ops.orders.render_order)})


def count_orders(ctx: Context) -> Answer:
    return ok({"count": len(_orders(ctx))})


def _visible_order(ctx: Context, ident: int) -> Doc:
    doc = ctx.ops.orders.order_doc(ident)
    too_old = parse_time(doc["created_at"]) < datetime.now(UTC) - ORDER_WINDOW
    if too_old and not ctx.token.grants("read_all_orders"):
        raise not_found()
    return doc


def get_order(ctx: Context) -> Answer:
    _visible_order(ctx, ctx.ids[0])
    return ok({"order": pick_fields(ctx.ops.orders.order(ctx.ids[0]), ctx.query)})


def create_order(ctx: Context) -> Answer:
    data = dict(body_of(ctx, "order"))
    data.pop("created_at", None)  # read-only: an app cannot date an order's creation
    behaviour = data.get("inventory_behaviour", "bypass")
    if behaviour not in ("bypass", "decrement_ignoring_policy", "decrement_obeying_policy"):
        raise unprocessable("inventory_behaviour", "is invalid")
    return ok({"order": ctx.ops.orders.create_order(data, inventory_behaviour=behaviour)}, 201)


def update_order(ctx: Context) -> Answer:
    return ok({"order": ctx.ops.orders.update_order(ctx.ids[0], body_of(ctx, "order"))})


def delete_order(ctx: Context) -> Answer:
    ctx.ops.orders.delete_order(ctx.ids[0])
    return ok({})


def close_order(ctx: Context) -> Answer:
    return ok({"order": ctx.ops.orders.close_order(ctx.ids[0])})


def open_order(ctx: Context) -> Answer:
    return ok({"order": ctx.ops.orders.open_order(ctx.ids[0])})


def cancel_order(ctx: Context) -> Answer:
    order = ctx.ops.orders.cancel_order(ctx.ids[0], ctx.body)
    return ok({"order": order, "notice": "Order has been canceled"})


def list_transactions(ctx: Context) -> Answer:
    ctx.ops.orders.order_doc(ctx.ids[0])
    items = common_filter(ctx.ops.payments.order_transactions(ctx.ids[0]), ctx.query)
    return ok({"transactions": items})


def count_transactions(ctx: Context) -> Answer:
    ctx.ops.orders.order_doc(ctx.ids[0])
    return ok({"count": len(ctx.ops.payments.order_transactions(ctx.ids[0]))})


def get_transaction(ctx: Context) -> Answer:
    tx = ctx.ops.shop.transactions.get(ctx.ids[1])
    if tx is None or tx["order_id"] != ctx.ids[0]:
        raise not_found()
    return ok({"transaction": tx})


def create_transaction(ctx: Context) -> Answer:
    data = body_of(ctx, "transaction")
    return ok({"transaction": ctx.ops.payments.create_transaction(ctx.ids[0], data)}, 201)


def list_tender_transactions(ctx: Context) -> Answer:
    items = common_filter(ctx.ops.shop.tender_transactions.values(), ctx.query)
    ascending = ctx.query.get("order", "processed_at DESC").upper().endswith("ASC")
    items.sort(key=lambda t: (parse_time(t["processed_at"]), t["id"]), reverse=not ascending)
    return ok({"tender_transactions": page(ctx, items)})


def list_refunds(ctx: Context) -> Answer:
    return ok({"refunds": page(ctx, ctx.ops.refunds.order_refunds(ctx.ids[0]))})


def get_refund(ctx: Context) -> Answer:
    refund = ctx.ops.shop.refunds.get(ctx.ids[1])
    if refund is None or refund["order_id"] != ctx.ids[0]:
        raise not_found()
    return ok({"refund": refund})


def create_refund(ctx: Context) -> Answer:
    return ok({"refund": ctx.ops.refunds.create_refund(ctx.ids[0], body_of(ctx, "refund"))}, 201)


def calculate_refund(ctx: Context) -> Answer:
    return ok({"refund": ctx.ops.refunds.calculate_refund(ctx.ids[0], body_of(ctx, "refund"))})


# --- fulfillment orders and fulfillments -----------------------------------------------


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


# --- webhooks --------------------------------------------------------------------------


def _subscriptions(ctx: Context) -> list[Subscription]:
    own = [s for s in ctx.ops.shop.subscriptions.values() if s.app_key == ctx.token.app_key]
    q = ctx.query
    if q.get("topic"):
        own = [s for s in own if s.topic == q["topic"]]
    if q.get("address"):
        own = [s for s in own if s.address == q["address"]]
    return sorted(own, key=lambda s: s.id)


def list_webhooks(ctx: Context) -> Answer:
    docs = common_filter([d.webhook(s) for s in _subscriptions(ctx)], ctx.query)
    return ok({"webhooks": page(ctx, docs)})


def count_webhooks(ctx: Context) -> Answer:
    return ok({"count": len(_subscriptions(ctx))})


def _subscription(ctx: Context) -> Subscription:
    sub = ctx.ops.shop.subscriptions.get(ctx.ids[0])
    if sub is None or sub.app_key != ctx.token.app_key:
        raise not_found()
    return sub


def get_webhook(ctx: Context) -> Answer:
    return ok({"webhook": pick_fields(d.webhook(_subscription(ctx)), ctx.query)})


def check_topic(token: Token, topic: str) -> None:
    if topic not in TOPICS:
        raise unprocessable("topic", f"Invalid topic specified: {topic}")
    needed = TOPIC_SCOPES.get(topic.split("/")[0])
    if needed and not token.grants(needed):
        raise unprocessable("topic", f"Invalid topic specified: {topic}. Access denied.")


def check_address(address: str) -> None:
    if not address:
        raise unprocessable("address", "can't be blank")
    if not address.startswith(("https://", "http://", "pubsub://", "arn:aws:events:")):
        raise unprocessable("address", "is invalid")


def add_subscription(
    ops: ShopOps, token: Token, topic: str, address: str, version: str, **extra: Any
) -> Subscription:
    check_topic(token, topic)
    check_address(address)
    for sub in ops.shop.subscriptions.values():
        if sub.app_key == token.app_key and sub.topic == topic and sub.address == address:
            raise unprocessable("address", "for this topic has already been taken")
    now = ops.now()
    sub = Subscription(
        id=ops.state.next_id(),
        shop=ops.shop.settings.name,
        app_key=token.app_key,
        topic=topic,
        address=address,
        created_at=now,
        updated_at=now,
        api_version=version,
        **extra,
    )
    ops.shop.subscriptions.put(sub.id, sub)
    return sub


def create_webhook(ctx: Context) -> Answer:
    data = body_of(ctx, "webhook")
    sub = add_subscription(
        ctx.ops,
        ctx.token,
        str(data.get("topic", "")),
        str(data.get("address", "")),
        ctx.version,
        format=data.get("format", "json"),
        fields=list(data.get("fields") or []),
        metafield_namespaces=list(data.get("metafield_namespaces") or []),
    )
    return ok({"webhook": d.webhook(sub)}, 201)


def update_webhook(ctx: Context) -> Answer:
    sub = _subscription(ctx)
    data = body_of(ctx, "webhook")
    if "address" in data:
        check_address(str(data["address"]))
        sub.address = str(data["address"])
    if "topic" in data:
        check_topic(ctx.token, str(data["topic"]))
        sub.topic = str(data["topic"])
    if "fields" in data:
        sub.fields = list(data["fields"] or [])
    sub.updated_at = ctx.ops.now()
    ctx.ops.shop.subscriptions.put(sub.id, sub)
    return ok({"webhook": d.webhook(sub)})


def delete_webhook(ctx: Context) -> Answer:
    sub = _subscription(ctx)
    ctx.ops.shop.subscriptions.delete(sub.id)
    return ok({})


# --- the table -------------------------------------------------------------------------

N = r"(\d+)"
READ, WRITE = "GET", ("POST", "PUT", "DELETE")


def _scopes(area: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (f"read_{area}",), (f"write_{area}",)


PRODUCTS = _scopes("products")
INVENTORY = _scopes("inventory")
LOCATIONS = _scopes("locations")
CUSTOMERS = _scopes("customers")
ORDERS = _scopes("orders")
FULFILMENT = (
    (
        "read_merchant_managed_fulfillment_orders",
        "read_assigned_fulfillment_orders",
        "read_fulfillments",
    ),
    (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "write_fulfillments",
    ),
)
NONE: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

_TABLE: list[tuple[str, str, Handler, tuple[tuple[str, ...], tuple[str, ...]]]] = [
    ("GET", "shop", get_shop, NONE),
    ("GET", "locations", list_locations, LOCATIONS),
    ("GET", "locations/count", count_locations, LOCATIONS),
    ("GET", f"locations/{N}", get_location, LOCATIONS),
    ("GET", f"locations/{N}/inventory_levels", location_levels, INVENTORY),
    ("GET", "products", list_products, PRODUCTS),
    ("POST", "products", create_product, PRODUCTS),
    ("GET", "products/count", count_products, PRODUCTS),
    ("GET", f"products/{N}", get_product, PRODUCTS),
    ("PUT", f"products/{N}", update_product, PRODUCTS),
    ("DELETE", f"products/{N}", delete_product, PRODUCTS),
    ("GET", f"products/{N}/variants", list_variants, PRODUCTS),
    ("POST", f"products/{N}/variants", create_variant, PRODUCTS),
    ("GET", f"products/{N}/variants/count", count_variants, PRODUCTS),
    ("DELETE", f"products/{N}/variants/{N}", delete_variant, PRODUCTS),
    ("GET", f"variants/{N}", get_variant, PRODUCTS),
    ("PUT", f"variants/{N}", update_variant, PRODUCTS),
    ("GET", "inventory_items", list_inventory_items, INVENTORY),
    ("GET", f"inventory_items/{N}", get_inventory_item, INVENTORY),
    ("PUT", f"inventory_items/{N}", update_inventory_item, INVENTORY),
    ("GET", "inventory_levels", list_levels, INVENTORY),
    ("DELETE", "inventory_levels", delete_level, INVENTORY),
    ("POST", "inventory_levels/set", set_level, INVENTORY),
    ("POST", "inventory_levels/adjust", adjust_level, INVENTORY),
    ("POST", "inventory_levels/connect", connect_level, INVENTORY),
    ("GET", "customers", list_customers, CUSTOMERS),
    ("POST", "customers", create_customer, CUSTOMERS),
    ("GET", "customers/search", search_customers, CUSTOMERS),
    ("GET", "customers/count", count_customers, CUSTOMERS),
    ("GET", f"customers/{N}", get_customer, CUSTOMERS),
    ("PUT", f"customers/{N}", update_customer, CUSTOMERS),
    ("DELETE", f"customers/{N}", delete_customer, CUSTOMERS),
    ("GET", f"customers/{N}/orders", customer_orders, ORDERS),
    ("POST", f"customers/{N}/account_activation_url", activation_url, CUSTOMERS),
    ("POST", f"customers/{N}/send_invite", send_invite, CUSTOMERS),
    ("GET", "orders", list_orders, ORDERS),
    ("POST", "orders", create_order, ORDERS),
    ("GET", "orders/count", count_orders, ORDERS),
    ("GET", f"orders/{N}", get_order, ORDERS),
    ("PUT", f"orders/{N}", update_order, ORDERS),
    ("DELETE", f"orders/{N}", delete_order, ORDERS),
    ("POST", f"orders/{N}/close", close_order, ORDERS),
    ("POST", f"orders/{N}/open", open_order, ORDERS),
    ("POST", f"orders/{N}/cancel", cancel_order, ORDERS),
    ("GET", f"orders/{N}/transactions", list_transactions, ORDERS),
    ("POST", f"orders/{N}/transactions", create_transaction, ORDERS),
    ("GET", f"orders/{N}/transactions/count", count_transactions, ORDERS),
    ("GET", f"orders/{N}/transactions/{N}", get_transaction, ORDERS),
    ("GET", "tender_transactions", list_tender_transactions, ORDERS),
    ("GET", f"orders/{N}/refunds", list_refunds, ORDERS),
    ("POST", f"orders/{N}/refunds", create_refund, ORDERS),
    ("POST", f"orders/{N}/refunds/calculate", calculate_refund, ORDERS),
    ("GET", f"orders/{N}/refunds/{N}", get_refund, ORDERS),
    ("GET", f"orders/{N}/fulfillment_orders", order_fulfillment_orders, FULFILMENT),
    ("GET", f"fulfillment_orders/{N}", get_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/cancel", cancel_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/close", close_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/open", open_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/reschedule", reschedule_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/hold", hold_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/release_hold", release_hold, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/move", move_fulfillment_order, FULFILMENT),
    ("POST", "fulfillment_orders/set_fulfillment_orders_deadline", set_deadline, FULFILMENT),
    ("GET", f"fulfillment_orders/{N}/fulfillments", fulfillment_order_fulfillments, FULFILMENT),
    ("POST", "fulfillments", create_fulfillment, FULFILMENT),
    ("POST", f"fulfillments/{N}/update_tracking", update_tracking, FULFILMENT),
    ("POST", f"fulfillments/{N}/cancel", cancel_fulfillment, FULFILMENT),
    ("GET", f"orders/{N}/fulfillments", order_fulfillments, ORDERS),
    ("GET", f"orders/{N}/fulfillments/count", count_order_fulfillments, ORDERS),
    ("GET", f"orders/{N}/fulfillments/{N}", get_order_fulfillment, ORDERS),
    ("GET", f"orders/{N}/fulfillments/{N}/events", list_fulfillment_events, ORDERS),
    ("POST", f"orders/{N}/fulfillments/{N}/events", create_fulfillment_event, FULFILMENT),
    ("GET", f"orders/{N}/fulfillments/{N}/events/{N}", get_fulfillment_event, ORDERS),
    ("DELETE", f"orders/{N}/fulfillments/{N}/events/{N}", delete_fulfillment_event, FULFILMENT),
    ("GET", "webhooks", list_webhooks, NONE),
    ("POST", "webhooks", create_webhook, NONE),
    ("GET", "webhooks/count", count_webhooks, NONE),
    ("GET", f"webhooks/{N}", get_webhook, NONE),
    ("PUT", f"webhooks/{N}", update_webhook, NONE),
    ("DELETE", f"webhooks/{N}", delete_webhook, NONE),
]

ROUTES: tuple[Route, ...] = tuple(
    Route(
        method,
        re.compile(f"^{path}\\.json$"),
        handler,
        scopes[0] if method == READ else scopes[1],
    )
    for method, path, handler, scopes in _TABLE
)

ACCESS_SCOPES_ROUTE = Route("GET", re.compile(r"^access_scopes\.json$"), access_scopes, ())


def resolve(method: str, path: str) -> tuple[Route, tuple[int, ...]] | None:
    """The route for ``path`` (relative to ``/admin/api/{version}/``), or None.
    A known path with another method is answered by the caller (406/404)."""
    for route in ROUTES:
        if route.method != method:
            continue
        match = route.pattern.match(path)
        if match:
            return route, tuple(int(g) for g in match.groups())
    return None


def missing_scope(route: Route, token: Token) -> str | None:
    if not route.scopes or any(token.grants(s) for s in route.scopes):
        return None
    return route.scopes[0]
