"""The REST route table: method, path pattern, the access scope Shopify requires and
the handler; and the lookup the endpoint uses.
"""

from __future__ import annotations

import re

from tradewind.sandbox.shopify.rest import (
    catalog,
    customers,
    fulfillments,
    inventory,
    orders,
    shop,
    webhooks,
)
from tradewind.sandbox.shopify.rest.base import Handler, Route
from tradewind.sandbox.shopify.state import Token

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
    ("GET", "shop", shop.get_shop, NONE),
    ("GET", "locations", shop.list_locations, LOCATIONS),
    ("GET", "locations/count", shop.count_locations, LOCATIONS),
    ("GET", f"locations/{N}", shop.get_location, LOCATIONS),
    ("GET", f"locations/{N}/inventory_levels", shop.location_levels, INVENTORY),
    ("GET", "products", catalog.list_products, PRODUCTS),
    ("POST", "products", catalog.create_product, PRODUCTS),
    ("GET", "products/count", catalog.count_products, PRODUCTS),
    ("GET", f"products/{N}", catalog.get_product, PRODUCTS),
    ("PUT", f"products/{N}", catalog.update_product, PRODUCTS),
    ("DELETE", f"products/{N}", catalog.delete_product, PRODUCTS),
    ("GET", f"products/{N}/variants", catalog.list_variants, PRODUCTS),
    ("POST", f"products/{N}/variants", catalog.create_variant, PRODUCTS),
    ("GET", f"products/{N}/variants/count", catalog.count_variants, PRODUCTS),
    ("DELETE", f"products/{N}/variants/{N}", catalog.delete_variant, PRODUCTS),
    ("GET", f"variants/{N}", catalog.get_variant, PRODUCTS),
    ("PUT", f"variants/{N}", catalog.update_variant, PRODUCTS),
    ("GET", "inventory_items", inventory.list_inventory_items, INVENTORY),
    ("GET", f"inventory_items/{N}", inventory.get_inventory_item, INVENTORY),
    ("PUT", f"inventory_items/{N}", inventory.update_inventory_item, INVENTORY),
    ("GET", "inventory_levels", inventory.list_levels, INVENTORY),
    ("DELETE", "inventory_levels", inventory.delete_level, INVENTORY),
    ("POST", "inventory_levels/set", inventory.set_level, INVENTORY),
    ("POST", "inventory_levels/adjust", inventory.adjust_level, INVENTORY),
    ("POST", "inventory_levels/connect", inventory.connect_level, INVENTORY),
    ("GET", "customers", customers.list_customers, CUSTOMERS),
    ("POST", "customers", customers.create_customer, CUSTOMERS),
    ("GET", "customers/search", customers.search_customers, CUSTOMERS),
    ("GET", "customers/count", customers.count_customers, CUSTOMERS),
    ("GET", f"customers/{N}", customers.get_customer, CUSTOMERS),
    ("PUT", f"customers/{N}", customers.update_customer, CUSTOMERS),
    ("DELETE", f"customers/{N}", customers.delete_customer, CUSTOMERS),
    ("GET", f"customers/{N}/orders", orders.customer_orders, ORDERS),
    ("POST", f"customers/{N}/account_activation_url", customers.activation_url, CUSTOMERS),
    ("POST", f"customers/{N}/send_invite", customers.send_invite, CUSTOMERS),
    ("GET", "orders", orders.list_orders, ORDERS),
    ("POST", "orders", orders.create_order, ORDERS),
    ("GET", "orders/count", orders.count_orders, ORDERS),
    ("GET", f"orders/{N}", orders.get_order, ORDERS),
    ("PUT", f"orders/{N}", orders.update_order, ORDERS),
    ("DELETE", f"orders/{N}", orders.delete_order, ORDERS),
    ("POST", f"orders/{N}/close", orders.close_order, ORDERS),
    ("POST", f"orders/{N}/open", orders.open_order, ORDERS),
    ("POST", f"orders/{N}/cancel", orders.cancel_order, ORDERS),
    ("GET", f"orders/{N}/transactions", orders.list_transactions, ORDERS),
    ("POST", f"orders/{N}/transactions", orders.create_transaction, ORDERS),
    ("GET", f"orders/{N}/transactions/count", orders.count_transactions, ORDERS),
    ("GET", f"orders/{N}/transactions/{N}", orders.get_transaction, ORDERS),
    ("GET", "tender_transactions", orders.list_tender_transactions, ORDERS),
    ("GET", f"orders/{N}/refunds", orders.list_refunds, ORDERS),
    ("POST", f"orders/{N}/refunds", orders.create_refund, ORDERS),
    ("POST", f"orders/{N}/refunds/calculate", orders.calculate_refund, ORDERS),
    ("GET", f"orders/{N}/refunds/{N}", orders.get_refund, ORDERS),
    ("GET", f"orders/{N}/fulfillment_orders", fulfillments.order_fulfillment_orders, FULFILMENT),
    ("GET", f"fulfillment_orders/{N}", fulfillments.get_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/cancel", fulfillments.cancel_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/close", fulfillments.close_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/open", fulfillments.open_fulfillment_order, FULFILMENT),
    (
        "POST",
        f"fulfillment_orders/{N}/reschedule",
        fulfillments.reschedule_fulfillment_order,
        FULFILMENT,
    ),
    ("POST", f"fulfillment_orders/{N}/hold", fulfillments.hold_fulfillment_order, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/release_hold", fulfillments.release_hold, FULFILMENT),
    ("POST", f"fulfillment_orders/{N}/move", fulfillments.move_fulfillment_order, FULFILMENT),
    (
        "POST",
        "fulfillment_orders/set_fulfillment_orders_deadline",
        fulfillments.set_deadline,
        FULFILMENT,
    ),
    (
        "GET",
        f"fulfillment_orders/{N}/fulfillments",
        fulfillments.fulfillment_order_fulfillments,
        FULFILMENT,
    ),
    ("POST", "fulfillments", fulfillments.create_fulfillment, FULFILMENT),
    ("POST", f"fulfillments/{N}/update_tracking", fulfillments.update_tracking, FULFILMENT),
    ("POST", f"fulfillments/{N}/cancel", fulfillments.cancel_fulfillment, FULFILMENT),
    ("GET", f"orders/{N}/fulfillments", fulfillments.order_fulfillments, ORDERS),
    ("GET", f"orders/{N}/fulfillments/count", fulfillments.count_order_fulfillments, ORDERS),
    ("GET", f"orders/{N}/fulfillments/{N}", fulfillments.get_order_fulfillment, ORDERS),
    ("GET", f"orders/{N}/fulfillments/{N}/events", fulfillments.list_fulfillment_events, ORDERS),
    (
        "POST",
        f"orders/{N}/fulfillments/{N}/events",
        fulfillments.create_fulfillment_event,
        FULFILMENT,
    ),
    ("GET", f"orders/{N}/fulfillments/{N}/events/{N}", fulfillments.get_fulfillment_event, ORDERS),
    (
        "DELETE",
        f"orders/{N}/fulfillments/{N}/events/{N}",
        fulfillments.delete_fulfillment_event,
        FULFILMENT,
    ),
    ("GET", "webhooks", webhooks.list_webhooks, NONE),
    ("POST", "webhooks", webhooks.create_webhook, NONE),
    ("GET", "webhooks/count", webhooks.count_webhooks, NONE),
    ("GET", f"webhooks/{N}", webhooks.get_webhook, NONE),
    ("PUT", f"webhooks/{N}", webhooks.update_webhook, NONE),
    ("DELETE", f"webhooks/{N}", webhooks.delete_webhook, NONE),
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


ACCESS_SCOPES_ROUTE = Route("GET", re.compile(r"^access_scopes\.json$"), shop.access_scopes, ())


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
