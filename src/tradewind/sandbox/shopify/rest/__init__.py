"""The REST Admin API: a table of routes (``routes.py``), each a method, a path pattern,
the access scope Shopify requires and a handler (one module per resource); list filters,
``fields``, cursor pagination with the ``Link`` header, and Shopify's error bodies
(``base.py``).
"""

from tradewind.sandbox.shopify.rest.base import Answer, Context, Route, decode_query, parse_time
from tradewind.sandbox.shopify.rest.routes import ACCESS_SCOPES_ROUTE, missing_scope, resolve
from tradewind.sandbox.shopify.rest.webhooks import add_subscription

__all__ = [
    "ACCESS_SCOPES_ROUTE",
    "Answer",
    "Context",
    "Route",
    "add_subscription",
    "decode_query",
    "missing_scope",
    "parse_time",
    "resolve",
]
