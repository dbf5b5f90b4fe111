"""The UI's pages, one module per noun as ``api/routers`` has them. Each handler parses a
form, calls the same service or action the API calls, and renders a page or an htmx
fragment; rules stay in the services. ``router`` holds every page route."""

from __future__ import annotations

from fastapi import APIRouter

from tradewind.web.views import (
    account,
    catalog,
    channels,
    contact,
    customers,
    dashboard,
    doctor,
    monitoring,
    order_list,
    orders,
    plugin_panels,
    plugins,
    shadow,
    shipping,
    templates,
    webhooks,
)
from tradewind.web.views.common import PAGE_SIZE

router = APIRouter(include_in_schema=False)
for module in (
    account,
    dashboard,
    monitoring,
    channels,
    plugins,
    plugin_panels,
    shadow,
    templates,
    order_list,  # before orders: /orders/export.csv is not /orders/{order_id}
    orders,
    doctor,
    shipping,
    customers,
    contact,
    catalog,
    webhooks,
):
    router.include_router(module.router)

__all__ = ["PAGE_SIZE", "router"]
