"""``draftOrderCreate`` and ``draftOrderComplete`` (and ``draftOrder(id:)``): GraphQL
inputs translated to the draft-order rules of ``ops/draft_orders.py``, whose completed
draft is an order like any other (``orders/create`` fires)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.graphql.context import Ctx, connection, context_of, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View, bag, maybe, split_tags
from tradewind.sandbox.shopify.graphql.customers import address_data
from tradewind.sandbox.shopify.ops.base import ShopifyError, first_message
from tradewind.sandbox.shopify.state import Doc

SCOPES = ("write_draft_orders",)


def view(ctx: Ctx, doc: Doc) -> Doc:
    shop = ctx.ops.shop
    currency = doc["currency"]
    v = View(ctx)
    shipping = doc["shipping_line"]

    def line(item: Doc) -> Doc:
        price = d.dec(item["price"])
        name = item["title"] + (f" - {item['variant_title']}" if item["variant_title"] else "")
        return {
            "__typename": "DraftOrderLineItem",
            "id": d.gid("DraftOrderLineItem", item["id"]),
            "name": name,
            "title": item["title"],
            "quantity": item["quantity"],
            "sku": item["sku"],
            "custom": item["custom"],
            "requiresShipping": item["requires_shipping"],
            "taxable": item["taxable"],
            "variant": lambda _info: maybe(shop.variants.get(item["variant_id"]), v.variant),
            "product": lambda _info: maybe(shop.products.get(item["product_id"]), v.product),
            "originalUnitPriceSet": bag(d.money_set(price, currency)),
            "originalTotalSet": bag(d.money_set(price * item["quantity"], currency)),
        }

    return {
        "__typename": "DraftOrder",
        "id": doc["admin_graphql_api_id"],
        "legacyResourceId": str(doc["id"]),
        "name": doc["name"],
        "status": doc["status"].upper(),
        "email": doc["email"],
        "phone": doc["phone"],
        "note2": doc["note"],
        "tags": split_tags(doc["tags"]),
        "currencyCode": currency,
        "taxExempt": doc["tax_exempt"],
        "createdAt": doc["created_at"],
        "updatedAt": doc["updated_at"],
        "completedAt": doc["completed_at"],
        "invoiceUrl": doc["invoice_url"],
        "customAttributes": [
            {"key": a["name"], "value": a["value"]} for a in doc["note_attributes"]
        ],
        "customer": lambda _info: v.customer(shop.customers.get(doc["customer_id"] or 0)),
        "order": lambda _info: maybe(shop.orders.get(doc["order_id"] or 0), v.order),
        "lineItems": lambda _info, **args: connection(doc["line_items"], args, line),
        "subtotalPriceSet": bag(d.money_set(doc["subtotal_price"], currency)),
        "totalShippingPriceSet": bag(d.money_set(shipping["price"] if shipping else 0, currency)),
        "totalTaxSet": bag(d.money_set(doc["total_tax"], currency)),
        "totalPriceSet": bag(d.money_set(doc["total_price"], currency)),
    }


def _price(given: Doc, with_currency: str, plain: str) -> Any:
    if given.get(with_currency):
        return given[with_currency]["amount"]
    return given.get(plain)


def _user_error(field: list[str], message: str) -> Doc:
    return {"draftOrder": None, "userErrors": [{"field": field, "message": message}]}


def _field_of(error: ShopifyError) -> list[str]:
    """``line_items.0.variant_id`` → ``["lineItems", "0", "variantId"]``."""
    errors = error.errors
    key = next(iter(errors), "base") if isinstance(errors, dict) else "base"
    parts = str(key).split(".")
    camel = {"line_items": "lineItems", "variant_id": "variantId", "customer": "customerId"}
    return ["input", *(camel.get(p, p) for p in parts)]


def draft_order_create(info: Any, input: Doc) -> Doc:
    ctx = context_of(info)
    ctx.require(SCOPES, "draftOrderCreate")
    lines: list[Doc] = []
    for index, given in enumerate(input.get("lineItems") or []):
        spec: Doc = {"quantity": given["quantity"]}
        if given.get("variantId"):
            ident = parse_gid(given["variantId"], "ProductVariant")
            if ident is None:
                return _user_error(
                    ["input", "lineItems", str(index), "variantId"], "Variant does not exist"
                )
            spec["variant_id"] = ident
        price = _price(given, "originalUnitPriceWithCurrency", "originalUnitPrice")
        if price is not None:
            spec["price"] = price
        for key, rest in (
            ("title", "title"),
            ("sku", "sku"),
            ("taxable", "taxable"),
            ("requiresShipping", "requires_shipping"),
        ):
            if given.get(key) is not None:
                spec[rest] = given[key]
        lines.append(spec)
    data: Doc = {"line_items": lines, "tags": list(input.get("tags") or [])}
    for key, rest in (
        ("email", "email"),
        ("phone", "phone"),
        ("note", "note"),
        ("taxExempt", "tax_exempt"),
        ("sourceName", "source_name"),
    ):
        if input.get(key) is not None:
            data[rest] = input[key]
    for key, rest in (
        ("billingAddress", "billing_address"),
        ("shippingAddress", "shipping_address"),
    ):
        if input.get(key):
            data[rest] = address_data(input[key])
    if input.get("shippingLine"):
        given = input["shippingLine"]
        data["shipping_line"] = {
            "title": given.get("title") or "Shipping",
            "code": given.get("shippingRateHandle"),
            "price": d.money(_price(given, "priceWithCurrency", "price") or 0),
        }
    if input.get("customAttributes"):
        data["note_attributes"] = [
            {"name": a["key"], "value": a["value"]} for a in input["customAttributes"]
        ]
    if input.get("customerId"):
        data["customer_id"] = parse_gid(input["customerId"], "Customer") or 0
    try:
        made = ctx.ops.draft_orders.create_draft_order(data)
    except ShopifyError as error:
        return _user_error(_field_of(error), first_message(error))
    return {"draftOrder": view(ctx, made), "userErrors": []}


def draft_order_complete(
    info: Any,
    id: str,
    paymentGatewayId: str | None = None,  # noqa: N803 - Shopify's argument names
    sourceName: str | None = None,  # noqa: N803
    paymentPending: bool | None = None,  # noqa: N803
) -> Doc:
    del paymentGatewayId  # no gateways here: the order is marked paid, or pending
    ctx = context_of(info)
    ctx.require(SCOPES, "draftOrderComplete")
    ident = parse_gid(id, "DraftOrder")
    try:
        if ident is None:
            raise ShopifyError(404, "Not Found")
        done = ctx.ops.draft_orders.complete(
            ident, payment_pending=bool(paymentPending), source_name=sourceName
        )
    except ShopifyError as error:
        if error.status == 404:
            return _user_error(["id"], "Draft order does not exist")
        return _user_error(["id"], first_message(error))
    return {"draftOrder": view(ctx, done), "userErrors": []}


def draft_order(info: Any, id: str) -> Doc | None:
    ctx = context_of(info)
    ctx.require(("read_draft_orders",), "draftOrder")
    ident = parse_gid(id, "DraftOrder")
    doc = ctx.ops.shop.draft_orders.get(ident) if ident else None
    return view(ctx, doc) if doc else None


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "draftOrderCreate": draft_order_create,
    "draftOrderComplete": draft_order_complete,
}
