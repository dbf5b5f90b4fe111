"""Pure builders of Shopify's JSON documents (REST Admin API 2025-07 shapes).

Every builder returns every key Shopify's reference examples show for that resource,
in Shopify's order, with Shopify's types: money as strings with two decimals plus a
``*_set`` bag, ids as integers, timestamps in the shop's time zone with its offset.

One module per resource; callers use them through this package, ``documents as d``.
"""

from tradewind.sandbox.shopify.documents.addresses import customer_address, order_address
from tradewind.sandbox.shopify.documents.catalog import (
    image,
    inventory_item,
    inventory_level,
    product,
    variant,
)
from tradewind.sandbox.shopify.documents.common import (
    dec,
    gid,
    money,
    money_set,
    normalise_tags,
    page_cursor,
    read_cursor,
    stamp,
)
from tradewind.sandbox.shopify.documents.customers import activation_url, customer, order_customer
from tradewind.sandbox.shopify.documents.fulfillments import (
    FO_ACTIONS,
    fo_location,
    fulfillment,
    fulfillment_event,
    fulfillment_order,
    fulfillment_order_line,
    tracking_url,
)
from tradewind.sandbox.shopify.documents.orders import (
    line_item,
    order,
    set_totals,
    shipping_line,
    tax_line,
    tender_transaction,
    transaction,
)
from tradewind.sandbox.shopify.documents.refunds import refund, refund_line
from tradewind.sandbox.shopify.documents.shops import location, shop, webhook

__all__ = [
    "FO_ACTIONS",
    "activation_url",
    "customer",
    "customer_address",
    "dec",
    "fo_location",
    "fulfillment",
    "fulfillment_event",
    "fulfillment_order",
    "fulfillment_order_line",
    "gid",
    "image",
    "inventory_item",
    "inventory_level",
    "line_item",
    "location",
    "money",
    "money_set",
    "normalise_tags",
    "order",
    "order_address",
    "order_customer",
    "page_cursor",
    "product",
    "read_cursor",
    "refund",
    "refund_line",
    "set_totals",
    "shipping_line",
    "shop",
    "stamp",
    "tax_line",
    "tender_transaction",
    "tracking_url",
    "transaction",
    "variant",
    "webhook",
]
