"""REST handlers: orders (read within the 60-day window unless ``read_all_orders``),
a customer's orders, transactions, tender transactions and refunds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tradewind.sandbox.shopify.ops.base import ShopifyError, not_found, unprocessable
from tradewind.sandbox.shopify.rest.base import (
    Answer,
    Context,
    Sorting,
    body_of,
    by_id,
    common_filter,
    ok,
    page,
    parse_time,
    pick_fields,
)
from tradewind.sandbox.shopify.state import Doc

ORDER_WINDOW = timedelta(days=60)

# Shopify lists orders newest first unless ``order=`` asks otherwise.
ORDER_SORTING = Sorting(
    keys=frozenset({"id", "created_at", "updated_at", "processed_at", "name"}),
    default=("created_at", True),
)


def customer_orders(ctx: Context) -> Answer:
    ctx.ops.customers.customer(ctx.ids[0])
    items = [o for o in _orders(ctx) if o.get("_customer_id") == ctx.ids[0]]
    return ok({"orders": [ctx.ops.orders.render_order(o) for o in items]})


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
    return ok({"orders": page(ctx, _orders(ctx), ctx.ops.orders.render_order, ORDER_SORTING)})


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
