"""The mandatory compliance (privacy) webhooks: ``customers/data_request``,
``customers/redact`` and ``shop/redact``. As on Shopify they are not subscriptions: an
app declares its compliance URLs in its configuration (``shopify.app.toml``; here the
control API's ``PUT /_sandbox/apps/{key}/compliance``), every app installed on the shop
is sent them, and ``shop/redact`` follows an uninstall 48 hours later (sandbox time).
Payloads are Shopify's documented shapes.
"""

from __future__ import annotations

from tradewind.sandbox.shopify.ops.base import not_found
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc

DATA_REQUEST = "customers/data_request"
CUSTOMER_REDACT = "customers/redact"
SHOP_REDACT = "shop/redact"
TOPICS = (DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT)

SHOP_REDACT_DELAY_SECONDS = 48 * 3600.0


def _shop(ops: ShopOps) -> Doc:
    return {"shop_id": ops.shop_doc()["id"], "shop_domain": ops.shop.settings.domain}


def _customer(ops: ShopOps, customer_id: int) -> tuple[Doc, list[int]]:
    customer = ops.shop.customers.get(customer_id)
    if customer is None:
        raise not_found()
    orders = sorted(
        int(o["id"]) for o in ops.shop.orders.values() if o.get("_customer_id") == customer_id
    )
    who = {"id": customer_id, "email": customer.get("email"), "phone": customer.get("phone")}
    return who, orders


def data_request(ops: ShopOps, customer_id: int, request_id: int) -> Doc:
    who, orders = _customer(ops, customer_id)
    return {
        **_shop(ops),
        "orders_requested": orders,
        "customer": who,
        "data_request": {"id": request_id},
    }


def customer_redact(ops: ShopOps, customer_id: int) -> Doc:
    who, orders = _customer(ops, customer_id)
    return {**_shop(ops), "customer": who, "orders_to_redact": orders}


def shop_redact(ops: ShopOps) -> Doc:
    return _shop(ops)
