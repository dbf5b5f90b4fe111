"""REST handlers: customers, their search and account invites."""

from __future__ import annotations

from tradewind.sandbox.shopify import documents as d
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

CUSTOMER_SORTING = Sorting(
    keys=frozenset({"id", "created_at", "updated_at", "email", "last_name", "first_name"}),
)


def list_customers(ctx: Context) -> Answer:
    items = common_filter(by_id(ctx.ops.shop.customers.values()), ctx.query)
    return ok({"customers": page(ctx, items, sorting=CUSTOMER_SORTING)})


def search_customers(ctx: Context) -> Answer:
    items = ctx.ops.customers.search_customers(ctx.query.get("query", ""))
    return ok({"customers": page(ctx, items, sorting=CUSTOMER_SORTING)})


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
