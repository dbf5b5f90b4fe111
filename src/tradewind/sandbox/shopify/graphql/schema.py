"""The schema graphql-core executes: an SDL subset of Shopify's Admin API, in two
versions because inventory compare-and-set changed shape in 2026-04.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

from tradewind.sandbox.shopify.core import version_at_least

HERE = Path(__file__).parent

EXTRA_SDL = ("bulk", "products", "orders", "customers", "storefront", "draft_orders")

CAS_VERSION = "2026-04"  # changeFromQuantity and @idempotent become mandatory


@cache
def schema_for(version: str) -> GraphQLSchema:
    """Two schemas: inventory compare-and-set changed shape in 2026-04."""
    part = "2026" if version_at_least(version, CAS_VERSION) else "2025"
    sdl = (
        (HERE / "schema.graphql").read_text()
        + (HERE / f"schema_inventory_{part}.graphql").read_text()
        + "".join((HERE / f"schema_{extra}.graphql").read_text() for extra in EXTRA_SDL)
    )
    schema = build_schema(sdl)
    for name in ("Node", "WebhookSubscriptionEndpoint", "Media"):
        abstract = schema.get_type(name)
        abstract.resolve_type = _typename  # type: ignore[union-attr]
    return schema


def _typename(value: Any, _info: Any, _abstract: Any) -> str:
    return str(value["__typename"])
