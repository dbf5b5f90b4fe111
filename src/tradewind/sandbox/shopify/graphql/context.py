"""What every resolver works with: the execution context (shop, token, version) and
its scope check, global ids and cursors, and Relay connections.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, GraphQLError
from graphql.execution.values import get_directive_values

from tradewind.sandbox.shopify.core import version_at_least
from tradewind.sandbox.shopify.graphql.schema import CAS_VERSION
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc, Token

if TYPE_CHECKING:
    from tradewind.sandbox.shopify.core import Sandbox

MAX_PAGE = 250

# Set while a bulk operation runs its query: connections then return every node.
BULK: ContextVar[bool] = ContextVar("bulk", default=False)


# Read scope of each root field; mutations name their write scope.
FIELD_SCOPES: dict[str, tuple[str, ...]] = {
    "location": ("read_locations",),
    "locations": ("read_locations",),
    "product": ("read_products",),
    "products": ("read_products",),
    "productVariant": ("read_products",),
    "productVariants": ("read_products",),
    "inventoryItem": ("read_inventory",),
    "inventoryItems": ("read_inventory",),
    "inventoryLevel": ("read_inventory",),
    "order": ("read_orders",),
    "orders": ("read_orders",),
    "customer": ("read_customers",),
    "customers": ("read_customers",),
    "fulfillmentOrder": (
        "read_merchant_managed_fulfillment_orders",
        "read_assigned_fulfillment_orders",
    ),
    "fulfillment": ("read_orders", "read_fulfillments"),
    "inventorySetQuantities": ("write_inventory",),
    "inventoryAdjustQuantities": ("write_inventory",),
    "inventoryActivate": ("write_inventory",),
    "fulfillmentCreate": (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "write_fulfillments",
    ),
    "fulfillmentOrderHold": (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
    ),
    "fulfillmentOrderReleaseHold": (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
    ),
    "fulfillmentTrackingInfoUpdate": (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "write_fulfillments",
    ),
    "refundCreate": ("write_orders",),
}


GID = re.compile(r"^gid://shopify/(\w+)/(\d+)(?:\?inventory_item_id=(\d+))?$")


def parse_gid(value: str, kind: str | None = None) -> int | None:
    match = GID.match(value or "")
    if match is None or (kind is not None and match.group(1) != kind):
        return None
    return int(match.group(2))


def cursor_of(ident: int | str) -> str:
    return base64.b64encode(orjson.dumps({"last_id": ident})).decode()


def id_of_cursor(cursor: str) -> int | str:
    try:
        value = orjson.loads(base64.b64decode(cursor))["last_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.") from exc
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GraphQLError("Invalid cursor for current pagination sort.")
    return value


@dataclass
class Ctx:
    ops: ShopOps
    token: Token
    version: str
    idempotency_key: str | None = None
    notes: list[str] = field(default_factory=list)
    sandbox: Sandbox | None = None

    def require(self, scopes: tuple[str, ...], name: str) -> None:
        if any(self.token.grants(s) for s in scopes):
            return
        needed = f"`{scopes[0]}` access scope."
        raise GraphQLError(
            f"Access denied for {name} field. Required access: {needed}",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": needed,
            },
        )


def connection(items: list[Doc], args: dict[str, Any], make: Callable[[Doc], Doc]) -> Doc:
    """A Relay connection over ``items`` (already filtered and sorted), paged by
    ``first/after`` or ``last/before``."""
    first, last = args.get("first"), args.get("last")
    if BULK.get():
        return _everything(items, make)
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and (value < 0 or value > MAX_PAGE):
            raise GraphQLError(
                f"The {name} argument must be between 0 and {MAX_PAGE}.",
                extensions={"code": "BAD_REQUEST"},
            )
    if args.get("reverse"):
        items = list(reversed(items))
    ids = [i["id"] for i in items]
    start, end = 0, len(items)
    if args.get("after"):
        after = id_of_cursor(args["after"])
        start = ids.index(after) + 1 if after in ids else len(ids)
    if args.get("before"):
        before = id_of_cursor(args["before"])
        end = ids.index(before) if before in ids else end
    window = items[start:end]
    if first is not None:
        chosen = window[:first]
        has_next, has_previous = len(window) > first, start > 0
    else:
        assert last is not None
        chosen = window[max(0, len(window) - last) :]
        has_next, has_previous = end < len(items), len(window) > last
    nodes = [make(i) for i in chosen]
    edges = [{"cursor": cursor_of(i["id"]), "node": n} for i, n in zip(chosen, nodes, strict=True)]
    return {
        "edges": edges,
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _everything(items: list[Doc], make: Callable[[Doc], Doc]) -> Doc:
    nodes = [make(i) for i in items]
    edges = [{"cursor": cursor_of(i["id"]), "node": n} for i, n in zip(items, nodes, strict=True)]
    page = {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
    return {"edges": edges, "nodes": nodes, "pageInfo": page}


def context_of(info: Any) -> Ctx:
    return info.context  # type: ignore[no-any-return]


def idempotency_key(info: Any, ctx: Ctx) -> str | None:
    """The mutation's ``@idempotent`` key; from 2026-04 the inventory and refund mutations
    refuse to run without one (the schema does not mark it required: Shopify checks it
    when the mutation runs)."""
    node: FieldNode = info.field_nodes[0]
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, node, info.variable_values)
    if values is not None:
        return str(values["key"])
    if version_at_least(ctx.version, CAS_VERSION):
        raise GraphQLError(
            "The @idempotent directive is required for this mutation.",
            extensions={"code": "BAD_REQUEST"},
        )
    return None


def guard(info: Any) -> Ctx:
    ctx = context_of(info)
    name = info.field_name
    scopes = FIELD_SCOPES.get(name)
    if scopes:
        ctx.require(scopes, name)
    return ctx
