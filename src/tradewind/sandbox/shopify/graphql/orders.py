"""Order writes over GraphQL: ``orderCreate``, ``orderCancel`` (2024-04+ signature: orderId, reason,
refund or, from 2025-07, refundMethod, restock, notifyCustomer; answered with a ``Job`` and
``orderCancelUserErrors``), ``orderClose`` and ``fulfillmentCancel``. They go through the
same order rules as REST, so stock, money and ``orders/cancelled`` / ``fulfillments/update``
follow as they do there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify.graphql.context import context_of, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.graphql.customers import address_data
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc

FULFILLMENT_WRITE = (
    "write_merchant_managed_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "write_fulfillments",
)


def _message(error: ShopifyError) -> str:
    errors = error.errors
    if isinstance(errors, dict):
        for messages in errors.values():
            return str(messages[0] if isinstance(messages, list) else messages)
    return str(errors)


def order_cancel(info: Any, orderId: str, reason: str, restock: bool, **args: Any) -> Doc:  # noqa: N803 - Shopify's name
    ctx = context_of(info)
    ctx.require(("write_orders",), "orderCancel")

    def refused(message: str, code: str) -> Doc:
        error = {"field": ["orderId"], "message": message, "code": code}
        return {
            "job": None,
            "orderCancelUserErrors": [error],
            "userErrors": [{"field": ["orderId"], "message": message}],
        }

    ident = parse_gid(orderId, "Order")
    doc = ctx.ops.shop.orders.get(ident) if ident else None
    if doc is None:
        return refused("Order does not exist", "NOT_FOUND")
    data: Doc = {"reason": reason.lower(), "restock": restock}
    method = args.get("refundMethod") or {}
    refund = args.get("refund") or method.get("originalPaymentMethodsRefund")
    if refund and doc["financial_status"] in ("paid", "partially_paid"):
        data["amount"] = doc["total_price"]
    try:
        ctx.ops.orders.cancel_order(doc["id"], data)
    except ShopifyError as error:
        return refused(_message(error), "INVALID")
    # Shopify answers with a job not yet done; the sandbox cancels at once, so job(id:)
    # reports it done
    return {
        "job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": False},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


def fulfillment_cancel(info: Any, id: str) -> Doc:
    ctx = context_of(info)
    ctx.require(FULFILLMENT_WRITE, "fulfillmentCancel")
    ident = parse_gid(id, "Fulfillment")
    if ident is None or ident not in ctx.ops.shop.fulfillments:
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["id"], "message": "Fulfillment does not exist."}],
        }
    try:
        ctx.ops.fulfillments.cancel_fulfillment(ident)
    except ShopifyError as error:
        return {"fulfillment": None, "userErrors": [{"field": ["id"], "message": _message(error)}]}
    stored = ctx.ops.shop.fulfillments.get(ident)
    assert stored is not None
    return {"fulfillment": View(ctx).fulfillment(stored), "userErrors": []}


def order_close(info: Any, input: Doc) -> Doc:
    ctx = context_of(info)
    ctx.require(("write_orders",), "orderClose")
    ident = parse_gid(input["id"], "Order")
    if ident is None or ident not in ctx.ops.shop.orders:
        return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    ctx.ops.orders.close_order(ident)
    stored = ctx.ops.shop.orders.get(ident)
    assert stored is not None
    return {"order": View(ctx).order(stored), "userErrors": []}


def _amount(bag: Doc | None) -> Any:
    return ((bag or {}).get("shopMoney") or {}).get("amount", 0)


def _taxes(given: list[Doc] | None) -> list[Doc]:
    return [
        {"title": t["title"], "rate": t["rate"], "price": _amount(t.get("priceSet"))}
        for t in given or []
    ]


def _order_extras(order: Doc) -> Doc:
    """The addresses, shipping, taxes, attributes and dates of an ``OrderCreateOrderInput``
    as the REST order data the documents are built from."""
    data: Doc = {}
    for key, rest in (
        ("billingAddress", "billing_address"),
        ("shippingAddress", "shipping_address"),
    ):
        if order.get(key):
            data[rest] = address_data(order[key])
    if order.get("shippingLines"):
        data["shipping_lines"] = [
            {
                "title": line["title"],
                "code": line.get("code"),
                "source": line.get("source"),
                "price": _amount(line["priceSet"]),
                "tax_lines": _taxes(line.get("taxLines")),
            }
            for line in order["shippingLines"]
        ]
    if order.get("taxLines"):
        data["tax_lines"] = _taxes(order["taxLines"])
    if order.get("customAttributes"):
        data["note_attributes"] = [
            {"name": a["key"], "value": a["value"]} for a in order["customAttributes"]
        ]
    for key, rest in (("processedAt", "processed_at"), ("currency", "currency")):
        if order.get(key):
            data[rest] = order[key]
    return data


def order_create(info: Any, order: Doc, options: Doc | None = None) -> Doc:
    """An order an app records (POS, marketplace import), through the REST rules."""
    ctx = context_of(info)
    ctx.require(("write_orders",), "orderCreate")
    lines: list[Doc] = []
    for index, given in enumerate(order.get("lineItems") or []):
        line: Doc = {"quantity": given["quantity"]}
        if given.get("variantId"):
            ident = parse_gid(given["variantId"], "ProductVariant")
            if ident is None or ctx.ops.shop.variants.get(ident) is None:
                path = ["order", "lineItems", str(index), "variantId"]
                return _create_error(path, "Variant does not exist", "INVALID")
            line["variant_id"] = ident
        elif not given.get("title"):
            path = ["order", "lineItems", str(index), "title"]
            return _create_error(path, "Title can't be blank", "BLANK")
        for key, rest in (("title", "title"), ("sku", "sku"), ("taxable", "taxable")):
            if given.get(key) is not None:
                line[rest] = given[key]
        if given.get("requiresShipping") is not None:
            line["requires_shipping"] = given["requiresShipping"]
        if given.get("priceSet"):
            line["price"] = given["priceSet"]["shopMoney"]["amount"]
        lines.append(line)
    if not lines:
        return _create_error(
            ["order", "lineItems"], "Line items must have at least one line item", "BLANK"
        )
    data: Doc = {
        "line_items": lines,
        "source_name": order.get("sourceName") or str(ctx.token.app_key),
        "source_identifier": order.get("sourceIdentifier"),
        **_order_extras(order),
    }
    for key, rest in (("email", "email"), ("phone", "phone"), ("note", "note"), ("test", "test")):
        if order.get(key) is not None:
            data[rest] = order[key]
    if order.get("tags"):
        data["tags"] = ", ".join(order["tags"])
    if order.get("financialStatus"):
        data["financial_status"] = str(order["financialStatus"]).lower()
    customer = order.get("customer") or {}
    if customer.get("toAssociate"):
        ident = parse_gid(customer["toAssociate"]["id"], "Customer")
        if ident is None or ctx.ops.shop.customers.get(ident) is None:
            path = ["order", "customer", "toAssociate", "id"]
            return _create_error(path, "Customer does not exist", "INVALID")
        data["customer"] = {"id": ident}
    elif customer.get("toUpsert"):
        upsert = customer["toUpsert"]
        data["customer"] = {
            "email": upsert.get("email"),
            "first_name": upsert.get("firstName"),
            "last_name": upsert.get("lastName"),
            "phone": upsert.get("phone"),
        }
    behaviour = str((options or {}).get("inventoryBehaviour") or "BYPASS").lower()
    try:
        created = ctx.ops.orders.create_order(data, inventory_behaviour=behaviour)  # type: ignore[arg-type]
    except ShopifyError as error:
        return _create_error(["order"], _message(error), "INVALID")
    stored = ctx.ops.shop.orders.get(created["id"])
    assert stored is not None
    return {"order": View(ctx).order(stored), "userErrors": []}


def _create_error(path: list[str], message: str, code: str) -> Doc:
    return {"order": None, "userErrors": [{"field": path, "message": message, "code": code}]}


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "orderCreate": order_create,
    "orderCancel": order_cancel,
    "orderClose": order_close,
    "fulfillmentCancel": fulfillment_cancel,
}


def job(_info: Any, id: str) -> Doc | None:
    """Every job the sandbox hands out has finished by the time it is asked about."""
    if not id.startswith("gid://shopify/Job/"):
        return None
    return {"id": id, "done": True}
