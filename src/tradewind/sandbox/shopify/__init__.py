"""A Shopify Admin API sandbox that behaves like Shopify to the letter, so that clients
written for Shopify run against it with only their base URL changed (see README.md).

Public surface: ``ShopifySandbox`` (in-process runner) and ``seed_demo``; ``create_app``,
``Sandbox`` and ``Options`` (the ASGI app and its core, for embedding).
"""

from tradewind.sandbox.shopify.app import create_app
from tradewind.sandbox.shopify.core import API_VERSIONS, Options, Sandbox
from tradewind.sandbox.shopify.runner import ShopifySandbox, ShopInfo, seed_demo

__all__ = [
    "API_VERSIONS",
    "Options",
    "Sandbox",
    "ShopInfo",
    "ShopifySandbox",
    "create_app",
    "seed_demo",
]
