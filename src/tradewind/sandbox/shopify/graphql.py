"""The GraphQL Admin API, executed by graphql-core over an SDL subset of Shopify's schema.

Every answer carries ``extensions.cost``: the requested cost is computed from the query
before it runs (objects 1, scalars and enums 0, connections 2 + page size × node cost,
mutations 10), charged to the shop's cost bucket, and the difference to the actual cost
(computed from the real page sizes) is given back. A query over 1000 points, or one
that does not fit the bucket, is refused with HTTP 200 and an error, as Shopify does.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.execution.values import get_directive_values
from graphql.utilities import value_from_ast_untyped
from starlette.requests import Request
from starlette.responses import Response

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.core import Sandbox, resolve_version, version_at_least
from tradewind.sandbox.shopify.journal import Request as Recorded
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.responses import (
    authenticated,
    fault_response,
    json_response,
    request_faults,
)
from tradewind.sandbox.shopify.rest import add_subscription, parse_time
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import QUANTITY_NAMES, Doc, Level, Subscription, Token
from tradewind.sandbox.shopify.webhooks import ENUM_TOPICS, topic_enum

HERE = Path(__file__).parent
MAX_QUERY_COST = 1000
MUTATION_COST = 10
MAX_PAGE = 250
MAX_INPUT_ITEMS = 250
CAS_VERSION = "2026-04"  # changeFromQuantity and @idempotent become mandatory
ORDER_WINDOW = timedelta(days=60)
RATE_DOC = "https://shopify.dev/api/usage/rate-limits"

SET_NAMES = ("available", "on_hand")
ADJUST_NAMES = ("available", "damaged", "incoming", "quality_control", "reserved", "safety_stock")
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)

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
    "fulfillmentTrackingInfoUpdate": (
        "write_merchant_managed_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "write_fulfillments",
    ),
}


@cache
def schema_for(version: str) -> GraphQLSchema:
    """Two schemas: inventory compare-and-set changed shape in 2026-04."""
    part = "2026" if version_at_least(version, CAS_VERSION) else "2025"
    sdl = (HERE / "schema.graphql").read_text() + (
        HERE / f"schema_inventory_{part}.graphql"
    ).read_text()
    schema = build_schema(sdl)
    for name in ("Node", "WebhookSubscriptionEndpoint"):
        abstract = schema.get_type(name)
        abstract.resolve_type = _typename  # type: ignore[union-attr]
    return schema


def _typename(value: Any, _info: Any, _abstract: Any) -> str:
    return str(value["__typename"])


# --- ids ------------------------------------------------------------------------------

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


# --- the execution context ------------------------------------------------------------


@dataclass
class Ctx:
    ops: ShopOps
    token: Token
    version: str
    idempotency_key: str | None = None
    notes: list[str] = field(default_factory=list)

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


def money_v2(amount: Any, currency: str) -> Doc:
    return {"amount": d.money(amount), "currencyCode": currency}


def bag(rest_set: Doc | None) -> Doc | None:
    if rest_set is None:
        return None
    return {
        name: {"amount": part["amount"], "currencyCode": part["currency_code"]}
        for name, part in (
            ("shopMoney", rest_set["shop_money"]),
            ("presentmentMoney", rest_set["presentment_money"]),
        )
    }


def mailing(address: Doc | None) -> Doc | None:
    if not address:
        return None
    return {
        "firstName": address.get("first_name"),
        "lastName": address.get("last_name"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "zip": address.get("zip"),
        "phone": address.get("phone"),
    }


def split_tags(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",") if t.strip()]


# --- connections ----------------------------------------------------------------------


def connection(items: list[Doc], args: dict[str, Any], make: Callable[[Doc], Doc]) -> Doc:
    """A Relay connection over ``items`` (already filtered and sorted), paged by
    ``first/after`` or ``last/before``."""
    first, last = args.get("first"), args.get("last")
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


SEARCH_TERM = re.compile(r"""(-?)(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)""")


def search(
    items: list[Doc], query: str | None, fields: dict[str, Callable[[Doc], Any]]
) -> list[Doc]:
    """Shopify's search syntax, the common part: ``field:value``, ``field:>value`` for
    times, ``*`` wildcards, joined by spaces or AND. Unknown fields are ignored."""
    if not query:
        return items
    for negate, name, op, raw in SEARCH_TERM.findall(query):
        value = raw.strip("'\"")
        getter = fields.get(name)
        if getter is None or (name == "status" and value == "any"):
            continue
        items = [i for i in items if _term(getter(i), op, value) != bool(negate)]
    return items


def _term(actual: Any, op: str, value: str) -> bool:
    if op:
        if actual is None:
            return False
        if isinstance(actual, int | float):
            left, right = float(actual), float(value)
        else:
            left, right = parse_time(str(actual)), parse_time(value)  # type: ignore[assignment]
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    if isinstance(actual, list):
        return value.lower() in [str(a).lower() for a in actual]
    text = "" if actual is None else str(actual).lower()
    pattern = value.lower()
    if "*" in pattern:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), text) is not None
    return text == pattern


# --- converters: REST documents -> GraphQL objects ------------------------------------


class View:
    """Builds GraphQL objects from a shop's documents, lazily for nested fields."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.ops = ctx.ops
        self.currency = ctx.ops.currency

    def shop(self) -> Doc:
        doc = self.ops.shop_doc()
        return {
            "__typename": "Shop",
            "id": d.gid("Shop", doc["id"]),
            "name": doc["name"],
            "email": doc["email"],
            "myshopifyDomain": doc["myshopify_domain"],
            "currencyCode": doc["currency"],
            "ianaTimezone": doc["iana_timezone"],
            "createdAt": doc["created_at"],
            "plan": {
                "displayName": doc["plan_display_name"],
                "partnerDevelopment": False,
                "shopifyPlus": doc["plan_name"] == "shopify_plus",
            },
            "primaryDomain": {"host": doc["domain"], "url": f"https://{doc['domain']}"},
        }

    def location(self, doc: Doc) -> Doc:
        ident = doc["id"]
        return {
            "__typename": "Location",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "name": doc["name"],
            "isActive": doc["active"],
            "fulfillsOnlineOrders": True,
            "address": {
                "address1": doc["address1"],
                "address2": doc["address2"],
                "city": doc["city"],
                "zip": doc["zip"],
                "province": doc["province"],
                "provinceCode": doc["province_code"],
                "country": doc["country_name"],
                "countryCode": doc["country_code"],
                "phone": doc["phone"],
            },
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "inventoryLevel": lambda _info, **args: self._level_by(
                parse_gid(args["inventoryItemId"], "InventoryItem"), ident
            ),
            "inventoryLevels": lambda _info, **args: connection(
                self._levels(lambda lv: lv.location_id == ident), args, self.level
            ),
        }

    def _levels(self, keep: Callable[[Level], bool]) -> list[Doc]:
        found = [lv for lv in self.ops.shop.levels.values() if keep(lv)]
        found.sort(key=lambda lv: (lv.location_id, lv.inventory_item_id))
        # A level is keyed by its item and location (their ids do not fit one 64-bit int).
        return [{"id": f"{lv.inventory_item_id}-{lv.location_id}", "_level": lv} for lv in found]

    def _level_by(self, item_id: int | None, location_id: int | None) -> Doc | None:
        if item_id is None or location_id is None:
            return None
        level = self.ops.inventory.level(item_id, location_id)
        return self.level({"_level": level}) if level else None

    def level(self, wrapped: Doc) -> Doc:
        level: Level = wrapped["_level"]
        doc = d.inventory_level(level)

        def quantities(_info: Any, names: list[str]) -> list[Doc]:
            return [
                {
                    "__typename": "InventoryQuantity",
                    "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
                    f"?inventory_item_id={level.inventory_item_id}&name={name}",
                    "name": name,
                    "quantity": level.quantity(name),
                    "updatedAt": level.updated_at,
                }
                for name in names
                if name in QUANTITY_NAMES
            ]

        return {
            "__typename": "InventoryLevel",
            "id": doc["admin_graphql_api_id"],
            "item": lambda _info: self.inventory_item(
                self.ops.inventory.inventory_item(level.inventory_item_id)
            ),
            "location": lambda _info: self.location(self.ops.locations.location(level.location_id)),
            "quantities": quantities,
            "createdAt": level.updated_at,
            "updatedAt": level.updated_at,
            "canDeactivate": True,
        }

    def product(self, doc: Doc) -> Doc:
        ident = doc["id"]
        return {
            "__typename": "Product",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "title": doc["title"],
            "handle": doc["handle"],
            "status": doc["status"].upper(),
            "vendor": doc["vendor"],
            "productType": doc["product_type"],
            "descriptionHtml": doc["body_html"] or "",
            "tags": split_tags(doc["tags"]),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "publishedAt": doc["published_at"],
            "totalInventory": lambda _info: sum(
                self.ops.catalog.render_variant(v)["inventory_quantity"]
                for v in self.ops.catalog.product_variants(ident)
            ),
            "tracksInventory": True,
            "options": [
                {
                    "id": d.gid("ProductOption", o["id"]),
                    "name": o["name"],
                    "position": o["position"],
                    "values": o["values"],
                }
                for o in doc["options"]
            ],
            "variants": lambda _info, **args: connection(
                sorted(self.ops.catalog.product_variants(ident), key=lambda v: v["position"]),
                args,
                self.variant,
            ),
        }

    def variant(self, doc: Doc) -> Doc:
        product = self.ops.shop.products.get(doc["product_id"]) or {}
        options = [o["name"] for o in product.get("options", [])]
        selected = [
            {"name": options[i] if i < len(options) else "Title", "value": doc[f"option{i + 1}"]}
            for i in range(3)
            if doc[f"option{i + 1}"] is not None
        ]
        return {
            "__typename": "ProductVariant",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "title": doc["title"],
            "displayName": f"{product.get('title', '')} - {doc['title']}",
            "sku": doc["sku"],
            "barcode": doc["barcode"],
            "price": doc["price"],
            "compareAtPrice": doc["compare_at_price"],
            "position": doc["position"],
            "inventoryQuantity": lambda _info: self.ops.catalog.render_variant(doc)[
                "inventory_quantity"
            ],
            "inventoryPolicy": doc["inventory_policy"].upper(),
            "taxable": doc["taxable"],
            "selectedOptions": selected,
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "product": lambda _info: _maybe(
                self.ops.shop.products.get(doc["product_id"]), self.product
            ),
            "inventoryItem": lambda _info: self.inventory_item(
                self.ops.inventory.inventory_item(doc["inventory_item_id"])
            ),
        }

    def inventory_item(self, doc: Doc) -> Doc:
        ident = doc["id"]
        variant = next(
            (v for v in self.ops.shop.variants.values() if v["inventory_item_id"] == ident), None
        )
        return {
            "__typename": "InventoryItem",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "sku": doc["sku"],
            "tracked": doc["tracked"],
            "requiresShipping": doc["requires_shipping"],
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "unitCost": money_v2(doc["cost"], self.currency) if doc["cost"] else None,
            "countryCodeOfOrigin": doc["country_code_of_origin"],
            "harmonizedSystemCode": doc["harmonized_system_code"],
            "variant": lambda _info: self.variant(variant) if variant else None,
            "inventoryLevel": lambda _info, **args: self._level_by(
                ident, parse_gid(args["locationId"], "Location")
            ),
            "inventoryLevels": lambda _info, **args: connection(
                self._levels(lambda lv: lv.inventory_item_id == ident), args, self.level
            ),
        }

    def customer(self, doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        name = " ".join(p for p in (doc["first_name"], doc["last_name"]) if p)
        return {
            "__typename": "Customer",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "firstName": doc["first_name"],
            "lastName": doc["last_name"],
            "displayName": name or doc["email"] or "",
            "email": doc["email"],
            "phone": doc["phone"],
            "note": doc["note"],
            "tags": split_tags(doc["tags"]),
            "numberOfOrders": str(doc["orders_count"]),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "defaultAddress": mailing(doc["default_address"]),
        }

    def order(self, stored: Doc) -> Doc:
        doc = self.ops.orders.render_order(stored)
        ident = doc["id"]
        return {
            "__typename": "Order",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "name": doc["name"],
            "email": doc["email"] or None,
            "phone": doc["phone"],
            "note": doc["note"],
            "tags": split_tags(doc["tags"]),
            "test": doc["test"],
            "sourceName": doc["source_name"],
            "confirmed": doc["confirmed"],
            "closed": doc["closed_at"] is not None,
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "processedAt": doc["processed_at"],
            "closedAt": doc["closed_at"],
            "cancelledAt": doc["cancelled_at"],
            "cancelReason": doc["cancel_reason"].upper() if doc["cancel_reason"] else None,
            "currencyCode": doc["currency"],
            "displayFinancialStatus": doc["financial_status"].upper(),
            "displayFulfillmentStatus": display_fulfillment(doc),
            "fullyPaid": doc["financial_status"] in ("paid", "partially_refunded", "refunded"),
            "totalPriceSet": bag(doc["total_price_set"]),
            "subtotalPriceSet": bag(doc["subtotal_price_set"]),
            "totalTaxSet": bag(doc["total_tax_set"]),
            "totalShippingPriceSet": bag(doc["total_shipping_price_set"]),
            "totalDiscountsSet": bag(doc["total_discounts_set"]),
            "currentTotalPriceSet": bag(doc["current_total_price_set"]),
            "customer": self.customer(
                self.ops.shop.customers.get(doc["customer"]["id"]) if doc["customer"] else None
            ),
            "shippingAddress": mailing(doc["shipping_address"]),
            "billingAddress": mailing(doc["billing_address"]),
            "physicalLocation": (
                self.location(self.ops.locations.location(doc["location_id"]))
                if doc["location_id"] in self.ops.shop.locations
                else None
            ),
            "lineItems": lambda _info, **args: connection(
                stored["line_items"], args, lambda li: self.line_item(li, doc["currency"])
            ),
            "fulfillmentOrders": lambda _info, **args: connection(
                self.ops.fulfillment_orders.order_fulfillment_orders(ident),
                args,
                self.fulfillment_order,
            ),
            "fulfillments": lambda _info, first=None: [
                self.fulfillment(f) for f in self.ops.fulfillments.order_fulfillments(ident)[:first]
            ],
            "transactions": lambda _info, first=None: [
                self.transaction(t) for t in self.ops.payments.order_transactions(ident)[:first]
            ],
            "refunds": lambda _info, first=None: [self.refund(r) for r in doc["refunds"][:first]],
        }

    def line_item(self, li: Doc, currency: str) -> Doc:
        variant = self.ops.shop.variants.get(li["variant_id"]) if li["variant_id"] else None
        product = self.ops.shop.products.get(li["product_id"]) if li["product_id"] else None
        return {
            "__typename": "LineItem",
            "id": li["admin_graphql_api_id"],
            "name": li["name"],
            "title": li["title"],
            "variantTitle": li["variant_title"],
            "vendor": li["vendor"],
            "sku": li["sku"],
            "quantity": li["quantity"],
            "currentQuantity": li["current_quantity"],
            "unfulfilledQuantity": li["fulfillable_quantity"],
            "requiresShipping": li["requires_shipping"],
            "taxable": li["taxable"],
            "originalUnitPriceSet": bag(li["price_set"]),
            "variant": self.variant(variant) if variant else None,
            "product": (lambda _info: self.product(product)) if product else None,
        }

    def fulfillment_order(self, fo: Doc) -> Doc:
        order_doc = self.ops.shop.orders.get(fo["order_id"]) or {}
        lines = {li["id"]: li for li in order_doc.get("line_items", [])}
        assigned = fo["assigned_location"] or {}
        location_id = fo["assigned_location_id"]

        def line(fl: Doc) -> Doc:
            li = lines.get(fl["line_item_id"], {})
            variant = self.ops.shop.variants.get(fl["variant_id"]) if fl["variant_id"] else None
            return {
                "__typename": "FulfillmentOrderLineItem",
                "id": d.gid("FulfillmentOrderLineItem", fl["id"]),
                "totalQuantity": fl["quantity"],
                "remainingQuantity": fl["fulfillable_quantity"],
                "sku": li.get("sku"),
                "inventoryItemId": (
                    d.gid("InventoryItem", fl["inventory_item_id"])
                    if fl["inventory_item_id"]
                    else None
                ),
                "lineItem": self.line_item(li, order_doc.get("currency", self.currency))
                if li
                else None,
                "variant": self.variant(variant) if variant else None,
            }

        return {
            "__typename": "FulfillmentOrder",
            "id": d.gid("FulfillmentOrder", fo["id"]),
            "status": fo["status"].upper(),
            "requestStatus": fo["request_status"].upper(),
            "createdAt": fo["created_at"],
            "updatedAt": fo["updated_at"],
            "fulfillAt": fo["fulfill_at"],
            "fulfillBy": fo["fulfill_by"],
            "orderId": d.gid("Order", fo["order_id"]),
            "orderName": order_doc.get("name", ""),
            "order": lambda _info: self.order(self.ops.orders.order_doc(fo["order_id"])),
            "assignedLocation": {
                "name": assigned.get("name") or "",
                "address1": assigned.get("address1"),
                "city": assigned.get("city"),
                "countryCode": assigned.get("country_code") or "US",
                "location": (
                    self.location(self.ops.locations.location(location_id))
                    if location_id in self.ops.shop.locations
                    else None
                ),
            },
            "supportedActions": [{"action": a.upper()} for a in fo["supported_actions"]],
            "lineItems": lambda _info, **args: connection(fo["line_items"], args, line),
        }

    def fulfillment(self, doc: Doc) -> Doc:
        tracking = [
            {"company": doc["tracking_company"], "number": n, "url": u}
            for n, u in zip(
                doc["tracking_numbers"],
                doc["tracking_urls"] + [None] * len(doc["tracking_numbers"]),
                strict=False,
            )
        ]
        location_id = doc["location_id"]
        return {
            "__typename": "Fulfillment",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "name": doc["name"],
            "status": doc["status"].upper(),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "trackingInfo": lambda _info, first=None: tracking[:first],
            "order": lambda _info: self.order(self.ops.orders.order_doc(doc["order_id"])),
            "location": (
                self.location(self.ops.locations.location(location_id))
                if location_id in self.ops.shop.locations
                else None
            ),
        }

    def transaction(self, tx: Doc) -> Doc:
        parent = self.ops.shop.transactions.get(tx["parent_id"]) if tx["parent_id"] else None
        return {
            "__typename": "OrderTransaction",
            "id": tx["admin_graphql_api_id"],
            "kind": tx["kind"].upper(),
            "status": tx["status"].upper(),
            "gateway": tx["gateway"],
            "test": tx["test"],
            "amountSet": bag(d.money_set(tx["amount"], tx["currency"])),
            "createdAt": tx["created_at"],
            "processedAt": tx["processed_at"],
            "parentTransaction": (lambda _info: self.transaction(parent)) if parent else None,
        }

    def refund(self, doc: Doc) -> Doc:
        total = sum((d.dec(t["amount"]) for t in doc["transactions"]), d.dec(0))
        return {
            "__typename": "Refund",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "note": doc["note"],
            "createdAt": doc["created_at"],
            "totalRefundedSet": bag(d.money_set(total, self.currency)),
        }

    def subscription(self, sub: Subscription) -> Doc:
        if sub.address.startswith("pubsub://"):
            project, _, topic = sub.address.removeprefix("pubsub://").partition(":")
            endpoint: Doc = {
                "__typename": "WebhookPubSubEndpoint",
                "pubSubProject": project,
                "pubSubTopic": topic,
            }
        elif sub.address.startswith("arn:"):
            endpoint = {"__typename": "WebhookEventBridgeEndpoint", "arn": sub.address}
        else:
            endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.address}
        return {
            "__typename": "WebhookSubscription",
            "id": d.gid("WebhookSubscription", sub.id),
            "legacyResourceId": str(sub.id),
            "topic": topic_enum(sub.topic),
            "format": sub.format.upper(),
            "uri": sub.address,
            "callbackUrl": sub.address,
            "endpoint": endpoint,
            "includeFields": list(sub.fields),
            "metafieldNamespaces": list(sub.metafield_namespaces),
            "filter": sub.filter,
            "apiVersion": {
                "handle": sub.api_version,
                "displayName": sub.api_version,
                "supported": True,
            },
            "createdAt": sub.created_at,
            "updatedAt": sub.updated_at,
        }


def display_fulfillment(doc: Doc) -> str:
    status = doc["fulfillment_status"]
    if status == "fulfilled":
        return "FULFILLED"
    if status == "partial":
        return "PARTIALLY_FULFILLED"
    return "UNFULFILLED"


# --- root resolvers -------------------------------------------------------------------


def _ctx(info: Any) -> Ctx:
    return info.context  # type: ignore[no-any-return]


def _guard(info: Any) -> Ctx:
    ctx = _ctx(info)
    name = info.field_name
    scopes = FIELD_SCOPES.get(name)
    if scopes:
        ctx.require(scopes, name)
    return ctx


def _visible_orders(ctx: Ctx) -> list[Doc]:
    orders = sorted(ctx.ops.shop.orders.values(), key=lambda o: o["id"])
    if ctx.token.grants("read_all_orders"):
        return orders
    horizon = datetime.now(UTC) - ORDER_WINDOW
    return [o for o in orders if parse_time(o["created_at"]) >= horizon]


ORDER_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda o: o["id"],
    "name": lambda o: o["name"],
    "email": lambda o: o["email"],
    "created_at": lambda o: o["created_at"],
    "updated_at": lambda o: o["updated_at"],
    "processed_at": lambda o: o["processed_at"],
    "financial_status": lambda o: o["financial_status"],
    "fulfillment_status": lambda o: o["fulfillment_status"] or "unshipped",
    "status": lambda o: (
        "cancelled" if o["cancelled_at"] else ("closed" if o["closed_at"] else "open")
    ),
    "source_name": lambda o: o["source_name"],
    "tag": lambda o: split_tags(o["tags"]),
    "test": lambda o: str(o["test"]).lower(),
    "sku": lambda o: [li["sku"] for li in o["line_items"]],
}

PRODUCT_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda p: p["id"],
    "title": lambda p: p["title"],
    "handle": lambda p: p["handle"],
    "vendor": lambda p: p["vendor"],
    "product_type": lambda p: p["product_type"],
    "status": lambda p: p["status"],
    "tag": lambda p: split_tags(p["tags"]),
    "created_at": lambda p: p["created_at"],
    "updated_at": lambda p: p["updated_at"],
}

VARIANT_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda v: v["id"],
    "sku": lambda v: v["sku"],
    "barcode": lambda v: v["barcode"],
    "product_id": lambda v: v["product_id"],
    "title": lambda v: v["title"],
    "updated_at": lambda v: v["updated_at"],
}

ITEM_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda i: i["id"],
    "sku": lambda i: i["sku"],
    "created_at": lambda i: i["created_at"],
    "updated_at": lambda i: i["updated_at"],
}

CUSTOMER_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "id": lambda c: c["id"],
    "email": lambda c: c["email"],
    "first_name": lambda c: c["first_name"],
    "last_name": lambda c: c["last_name"],
    "updated_at": lambda c: c["updated_at"],
    "created_at": lambda c: c["created_at"],
}

ORDER_SORT: dict[str, Callable[[Doc], Any]] = {
    "ID": lambda o: o["id"],
    "CREATED_AT": lambda o: (parse_time(o["created_at"]), o["id"]),
    "UPDATED_AT": lambda o: (parse_time(o["updated_at"]), o["id"]),
    "PROCESSED_AT": lambda o: (parse_time(o["processed_at"]), o["id"]),
    "ORDER_NUMBER": lambda o: (o["order_number"], o["id"]),
}


def _node(ctx: Ctx, view: View, gid: str) -> Doc | None:
    match = GID.match(gid or "")
    if match is None:
        return None
    kind, ident = match.group(1), int(match.group(2))
    shop = ctx.ops.shop
    if kind == "InventoryLevel" and match.group(3):
        return view._level_by(int(match.group(3)), ident)
    finders: dict[str, tuple[tuple[str, ...], Callable[[], Doc | None]]] = {
        "Product": (("read_products",), lambda: _maybe(shop.products.get(ident), view.product)),
        "ProductVariant": (
            ("read_products",),
            lambda: _maybe(shop.variants.get(ident), view.variant),
        ),
        "InventoryItem": (
            ("read_inventory",),
            lambda: _maybe(shop.inventory_items.get(ident), view.inventory_item),
        ),
        "Location": (("read_locations",), lambda: _maybe(shop.locations.get(ident), view.location)),
        "Order": (("read_orders",), lambda: _maybe(shop.orders.get(ident), view.order)),
        "Customer": (("read_customers",), lambda: view.customer(shop.customers.get(ident))),
        "FulfillmentOrder": (
            FIELD_SCOPES["fulfillmentOrder"],
            lambda: _maybe(shop.fulfillment_orders.get(ident), view.fulfillment_order),
        ),
        "Fulfillment": (
            FIELD_SCOPES["fulfillment"],
            lambda: _maybe(shop.fulfillments.get(ident), view.fulfillment),
        ),
        "WebhookSubscription": ((), lambda: _subscription(ctx, view, ident)),
    }
    found = finders.get(kind)
    if found is None:
        return None
    scopes, make = found
    if scopes:
        ctx.require(scopes, kind[0].lower() + kind[1:])
    return make()


def _maybe(doc: Doc | None, make: Callable[[Doc], Doc]) -> Doc | None:
    return make(doc) if doc is not None else None


def _subscription(ctx: Ctx, view: View, ident: int) -> Doc | None:
    sub = ctx.ops.shop.subscriptions.get(ident)
    if sub is None or sub.app_key != ctx.token.app_key:
        return None
    return view.subscription(sub)


def _sort(items: list[Doc], key: Callable[[Doc], Any]) -> list[Doc]:
    return sorted(items, key=key)


def query_root(ctx: Ctx) -> Doc:
    view = View(ctx)
    ops = ctx.ops
    shop = ops.shop

    def guarded(make: Callable[..., Any]) -> Callable[..., Any]:
        def resolver(info: Any, **args: Any) -> Any:
            _guard(info)
            return make(**args)

        return resolver

    def orders(**args: Any) -> Doc:
        items = search(_visible_orders(ctx), args.get("query"), ORDER_SEARCH)
        items = _sort(items, ORDER_SORT[args.get("sortKey") or "ID"])
        return connection(items, args, view.order)

    def order(id: str) -> Doc | None:
        ident = parse_gid(id, "Order")
        doc = shop.orders.get(ident) if ident else None
        if doc is None or doc not in _visible_orders(ctx):
            return None
        return view.order(doc)

    def products(**args: Any) -> Doc:
        items = search(
            _sort(shop.products.values(), lambda p: p["id"]), args.get("query"), PRODUCT_SEARCH
        )
        if args.get("sortKey") == "TITLE":
            items.sort(key=lambda p: (p["title"], p["id"]))
        return connection(items, args, view.product)

    def variants(**args: Any) -> Doc:
        items = search(
            _sort(shop.variants.values(), lambda v: v["id"]), args.get("query"), VARIANT_SEARCH
        )
        return connection(items, args, view.variant)

    def items(**args: Any) -> Doc:
        found = search(
            _sort(shop.inventory_items.values(), lambda i: i["id"]), args.get("query"), ITEM_SEARCH
        )
        return connection(found, args, view.inventory_item)

    def locations(**args: Any) -> Doc:
        return connection(
            _sort(shop.locations.values(), lambda loc: loc["id"]), args, view.location
        )

    def customers(**args: Any) -> Doc:
        found = search(
            _sort(shop.customers.values(), lambda c: c["id"]), args.get("query"), CUSTOMER_SEARCH
        )
        return connection(found, args, view.customer)  # type: ignore[arg-type]

    def subscriptions(**args: Any) -> Doc:
        own = [s for s in shop.subscriptions.values() if s.app_key == ctx.token.app_key]
        topics = {ENUM_TOPICS.get(t) for t in args.get("topics") or []}
        if args.get("topics"):
            own = [s for s in own if s.topic in topics]
        if args.get("callbackUrl"):
            own = [s for s in own if s.address == args["callbackUrl"]]
        docs = [{"id": s.id, "_sub": s} for s in sorted(own, key=lambda s: s.id)]
        return connection(docs, args, lambda doc: view.subscription(doc["_sub"]))

    def by_gid(kind: str, table: Any, make: Callable[[Doc], Doc | None]) -> Callable[..., Any]:
        def find(id: str) -> Doc | None:
            ident = parse_gid(id, kind)
            doc = table.get(ident) if ident else None
            return make(doc) if doc is not None else None

        return find

    def location(id: str | None = None) -> Doc | None:
        if id is None:
            return view.location(ops.locations.location(ops.locations.primary_location_id()))
        found: Doc | None = by_gid("Location", shop.locations, view.location)(id)
        return found

    def app_installation() -> Doc:
        app = ctx.ops.state.apps.get(ctx.token.app_key)
        return {
            "__typename": "AppInstallation",
            "id": d.gid("AppInstallation", app.id if app else 0),
            "accessScopes": [{"handle": s, "description": s} for s in ctx.token.scopes],
            "app": {
                "id": d.gid("App", app.id if app else 0),
                "title": app.title if app else "",
                "apiKey": ctx.token.app_key,
            },
        }

    return {
        "shop": lambda _info: view.shop(),
        "node": guarded(lambda id: _node(ctx, view, id)),
        "nodes": guarded(lambda ids: [_node(ctx, view, i) for i in ids]),
        "currentAppInstallation": guarded(app_installation),
        "location": guarded(location),
        "locations": guarded(locations),
        "product": guarded(by_gid("Product", shop.products, view.product)),
        "products": guarded(products),
        "productVariant": guarded(by_gid("ProductVariant", shop.variants, view.variant)),
        "productVariants": guarded(variants),
        "inventoryItem": guarded(
            by_gid("InventoryItem", shop.inventory_items, view.inventory_item)
        ),
        "inventoryItems": guarded(items),
        "inventoryLevel": guarded(lambda id: _node(ctx, view, id)),
        "order": guarded(order),
        "orders": guarded(orders),
        "fulfillmentOrder": guarded(
            by_gid("FulfillmentOrder", shop.fulfillment_orders, view.fulfillment_order)
        ),
        "fulfillment": guarded(by_gid("Fulfillment", shop.fulfillments, view.fulfillment)),
        "customer": guarded(by_gid("Customer", shop.customers, view.customer)),
        "customers": guarded(customers),
        "webhookSubscription": guarded(
            lambda id: _subscription(ctx, view, parse_gid(id, "WebhookSubscription") or 0)
        ),
        "webhookSubscriptions": guarded(subscriptions),
    }


# --- mutations ------------------------------------------------------------------------


def _user_error(path: list[str], message: str, code: str | None = None) -> Doc:
    return {"field": path, "message": message, "code": code}


def _check_size(items: list[Any], name: str) -> None:
    if len(items) > MAX_INPUT_ITEMS:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of "
            f"{MAX_INPUT_ITEMS}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argumentName": name},
        )


def _idempotent(info: Any, ctx: Ctx) -> str | None:
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


def _replay(ctx: Ctx, info: Any, key: str | None, run: Callable[[], Doc]) -> Doc:
    """A repeated idempotency key returns the first answer without doing it again."""
    if key is None:
        return run()
    stored_key = f"{ctx.token.app_key}:{info.field_name}:{key}"
    previous = ctx.ops.shop.idempotency.get(stored_key)
    if previous is not None:
        return _revive(ctx, previous)
    result = run()
    ctx.ops.shop.idempotency.put(stored_key, _freeze(result))
    return result


def _freeze(result: Doc) -> Doc:
    group = result.get("inventoryAdjustmentGroup")
    frozen: Doc = {"userErrors": result["userErrors"], "group": None}
    if group is not None:
        frozen["group"] = {k: v for k, v in group.items() if k != "changes"}
        frozen["group"]["_changes"] = group["_raw"]
    return frozen


def _revive(ctx: Ctx, frozen: Doc) -> Doc:
    group = frozen.get("group")
    if group is None:
        return {"inventoryAdjustmentGroup": None, "userErrors": frozen["userErrors"]}
    return {
        "inventoryAdjustmentGroup": _group(
            ctx,
            group["reason"],
            group["referenceDocumentUri"],
            group["_changes"],
            group["id"],
            group["createdAt"],
        ),
        "userErrors": frozen["userErrors"],
    }


def _group(
    ctx: Ctx,
    reason: str,
    reference: str | None,
    raw: list[Doc],
    ident: str | None = None,
    created: str | None = None,
) -> Doc:
    view = View(ctx)

    def changes(_info: Any, **_filters: Any) -> list[Doc]:
        out = []
        for change in raw:
            out.append(
                {
                    "name": change["name"],
                    "delta": change["delta"],
                    "quantityAfterChange": change["after"],
                    "item": view.inventory_item(ctx.ops.inventory.inventory_item(change["item"])),
                    "location": view.location(ctx.ops.locations.location(change["location"])),
                    "ledgerDocumentUri": change.get("ledger"),
                }
            )
        return out

    return {
        "__typename": "InventoryAdjustmentGroup",
        "id": ident or d.gid("InventoryAdjustmentGroup", ctx.ops.state.next_id()),
        "createdAt": created or ctx.ops.now(),
        "reason": reason,
        "referenceDocumentUri": reference,
        "changes": changes,
        "_raw": raw,
    }


def _target(ctx: Ctx, item_gid: str, location_gid: str, path: list[str]) -> tuple[int, int] | Doc:
    item = parse_gid(item_gid, "InventoryItem")
    location = parse_gid(location_gid, "Location")
    if item is None or item not in ctx.ops.shop.inventory_items:
        return _user_error(
            [*path, "inventoryItemId"],
            "The specified inventory item could not be found.",
            "INVALID_INVENTORY_ITEM",
        )
    if location is None or location not in ctx.ops.shop.locations:
        return _user_error(
            [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
        )
    return item, location


def inventory_set(info: Any, input: Doc) -> Doc:
    ctx = _guard(info)
    _check_size(input["quantities"], "quantities")
    key = _idempotent(info, ctx)
    return _replay(ctx, info, key, lambda: _inventory_set(ctx, input))


def _inventory_set(ctx: Ctx, data: Doc) -> Doc:
    errors: list[Doc] = []
    name = data["name"]
    if name not in SET_NAMES:
        errors.append(
            _user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_QUANTITY_NAME",
            )
        )
    if data["reason"] not in REASONS:
        errors.append(
            _user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    cas = version_at_least(ctx.version, CAS_VERSION)
    plan: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for index, q in enumerate(data["quantities"]):
        path = ["input", "quantities", str(index)]
        target = _target(ctx, q["inventoryItemId"], q["locationId"], path)
        if isinstance(target, dict):
            errors.append(target)
            continue
        if target in seen:
            errors.append(
                _user_error(
                    path,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
            continue
        seen.add(target)
        if q["quantity"] < 0 and name == "on_hand":
            errors.append(
                _user_error(
                    [*path, "quantity"],
                    "The quantity can't be negative.",
                    "INVALID_QUANTITY_NEGATIVE",
                )
            )
            continue
        level = ctx.ops.inventory.level(*target)
        current = level.quantity(name) if level else 0
        stale = _stale(q, cas, current, data.get("ignoreCompareQuantity", False), path)
        if stale is not None:
            errors.append(stale)
            continue
        plan.append((target[0], target[1], q["quantity"] - current))
    if errors or not name:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    raw = []
    for item, location, delta in plan:
        level = ctx.ops.inventory.change_quantity(item, location, name, delta)
        raw.append(
            {
                "name": name,
                "delta": delta,
                "after": level.quantity(name),
                "item": item,
                "location": location,
            }
        )
    return {
        "inventoryAdjustmentGroup": _group(
            ctx, data["reason"], data.get("referenceDocumentUri"), raw
        ),
        "userErrors": [],
    }


def _stale(q: Doc, cas: bool, current: int, ignore: bool, path: list[str]) -> Doc | None:
    if cas:
        if "changeFromQuantity" not in q:
            return _user_error(
                [*path, "changeFromQuantity"],
                "changeFromQuantity is required. Pass null to skip the check.",
                "CHANGE_FROM_QUANTITY_REQUIRED",
            )
        expected = q["changeFromQuantity"]
        if expected is not None and expected != current:
            return _user_error(
                [*path, "changeFromQuantity"],
                "The specified changeFromQuantity does not match the current quantity.",
                "CHANGE_FROM_QUANTITY_STALE",
            )
        return None
    if ignore:
        return None
    if q.get("compareQuantity") is None:
        return _user_error(
            [*path, "compareQuantity"],
            "The compareQuantity argument must be given to each quantity or ignored using "
            "ignoreCompareQuantity.",
            "COMPARE_QUANTITY_REQUIRED",
        )
    if q["compareQuantity"] != current:
        return _user_error(
            [*path, "compareQuantity"],
            "The compareQuantity argument no longer matches the persisted quantity.",
            "COMPARE_QUANTITY_STALE",
        )
    return None


def inventory_adjust(info: Any, input: Doc) -> Doc:
    ctx = _guard(info)
    _check_size(input["changes"], "changes")
    key = _idempotent(info, ctx)
    return _replay(ctx, info, key, lambda: _inventory_adjust(ctx, input))


def _inventory_adjust(ctx: Ctx, data: Doc) -> Doc:
    errors: list[Doc] = []
    name = data["name"]
    if name not in ADJUST_NAMES:
        errors.append(
            _user_error(
                ["input", "name"],
                f"The quantity name '{name}' can't be adjusted.",
                "INVALID_QUANTITY_NAME",
            )
        )
    if data["reason"] not in REASONS:
        errors.append(
            _user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    cas = version_at_least(ctx.version, CAS_VERSION)
    plan: list[tuple[int, int, int, str | None]] = []
    for index, change in enumerate(data["changes"]):
        path = ["input", "changes", str(index)]
        target = _target(ctx, change["inventoryItemId"], change["locationId"], path)
        if isinstance(target, dict):
            errors.append(target)
            continue
        ledger = change.get("ledgerDocumentUri")
        if name == "available" and ledger:
            errors.append(
                _user_error(
                    [*path, "ledgerDocumentUri"],
                    "A ledger document URI is not allowed when adjusting available.",
                    "INVALID_QUANTITY_DOCUMENT",
                )
            )
            continue
        if name != "available" and name in ADJUST_NAMES and not ledger:
            errors.append(
                _user_error(
                    [*path, "ledgerDocumentUri"],
                    "A ledger document URI is required for this quantity name.",
                    "INVALID_QUANTITY_DOCUMENT",
                )
            )
            continue
        level = ctx.ops.inventory.level(*target)
        if level is None:
            errors.append(
                _user_error(
                    path,
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
            continue
        current = level.quantity(name) if name in QUANTITY_NAMES else 0
        if cas or "changeFromQuantity" in change:
            if cas and "changeFromQuantity" not in change:
                errors.append(
                    _user_error(
                        [*path, "changeFromQuantity"],
                        "changeFromQuantity is required. Pass null to skip the check.",
                        "CHANGE_FROM_QUANTITY_REQUIRED",
                    )
                )
                continue
            expected = change.get("changeFromQuantity")
            if expected is not None and expected != current:
                errors.append(
                    _user_error(
                        [*path, "changeFromQuantity"],
                        "The specified changeFromQuantity does not match the current quantity.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
                continue
        plan.append((target[0], target[1], change["delta"], ledger))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    raw = []
    for item, location, delta, ledger in plan:
        level = ctx.ops.inventory.change_quantity(item, location, name, delta)
        raw.append(
            {
                "name": name,
                "delta": delta,
                "after": level.quantity(name),
                "item": item,
                "location": location,
                "ledger": ledger,
            }
        )
        if name != "available":
            raw.append(
                {
                    "name": "on_hand",
                    "delta": delta,
                    "after": level.on_hand,
                    "item": item,
                    "location": location,
                    "ledger": None,
                }
            )
    return {
        "inventoryAdjustmentGroup": _group(
            ctx, data["reason"], data.get("referenceDocumentUri"), raw
        ),
        "userErrors": [],
    }


def inventory_activate(info: Any, **args: Any) -> Doc:
    ctx = _guard(info)
    available = args.get("available")
    target = _target(ctx, args["inventoryItemId"], args["locationId"], [])
    if isinstance(target, dict):
        return {
            "inventoryLevel": None,
            "userErrors": [{"field": target["field"], "message": target["message"]}],
        }
    ctx.ops.inventory.connect(*target)
    if available is not None:
        ctx.ops.inventory.set_available(*target, available)
    return {"inventoryLevel": View(ctx)._level_by(*target), "userErrors": []}


def fulfillment_create(info: Any, fulfillment: Doc, message: str | None = None) -> Doc:
    ctx = _guard(info)
    groups = []
    for index, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
        fo_id = parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
        if fo_id is None or fo_id not in ctx.ops.shop.fulfillment_orders:
            return {
                "fulfillment": None,
                "userErrors": [
                    {
                        "field": [
                            "fulfillment",
                            "lineItemsByFulfillmentOrder",
                            str(index),
                            "fulfillmentOrderId",
                        ],
                        "message": "Fulfillment order does not exist.",
                    }
                ],
            }
        spec: Doc = {"fulfillment_order_id": fo_id}
        lines = group.get("fulfillmentOrderLineItems")
        if lines:
            spec["fulfillment_order_line_items"] = [
                {"id": parse_gid(li["id"], "FulfillmentOrderLineItem"), "quantity": li["quantity"]}
                for li in lines
            ]
        groups.append(spec)
    tracking = fulfillment.get("trackingInfo") or {}
    data = {
        "line_items_by_fulfillment_order": groups,
        "notify_customer": fulfillment.get("notifyCustomer", False),
        "tracking_info": tracking,
        "message": message,
    }
    try:
        created = ctx.ops.fulfillments.create_fulfillment(data)
    except ShopifyError as error:
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillment"], "message": _first_message(error)}],
        }
    return {"fulfillment": View(ctx).fulfillment(created), "userErrors": []}


def tracking_update(info: Any, **args: Any) -> Doc:
    ctx = _guard(info)
    ident = parse_gid(args["fulfillmentId"], "Fulfillment")
    if ident is None or ident not in ctx.ops.shop.fulfillments:
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}],
        }
    updated = ctx.ops.fulfillments.update_tracking(
        ident,
        {
            "tracking_info": args["trackingInfoInput"],
            "notify_customer": bool(args.get("notifyCustomer")),
        },
    )
    return {"fulfillment": View(ctx).fulfillment(updated), "userErrors": []}


def _first_message(error: ShopifyError) -> str:
    errors = error.errors
    if isinstance(errors, dict):
        for messages in errors.values():
            return str(messages[0] if isinstance(messages, list) else messages)
    return str(errors)


def webhook_create(info: Any, **args: Any) -> Doc:
    ctx = _ctx(info)
    topic: str = args["topic"]
    spec: Doc = args["webhookSubscription"]
    address = spec.get("uri") or spec.get("callbackUrl") or ""
    try:
        sub = add_subscription(
            ctx.ops,
            ctx.token,
            ENUM_TOPICS.get(topic, topic),
            address,
            ctx.version,
            format=(spec.get("format") or "JSON").lower(),
            fields=list(spec.get("includeFields") or []),
            metafield_namespaces=list(spec.get("metafieldNamespaces") or []),
            filter=spec.get("filter"),
        )
    except ShopifyError as error:
        return {
            "webhookSubscription": None,
            "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"], "message": _first_message(error)}
            ],
        }
    return {"webhookSubscription": View(ctx).subscription(sub), "userErrors": []}


def webhook_update(info: Any, **args: Any) -> Doc:
    ctx = _ctx(info)
    id = args["id"]
    webhookSubscription = args["webhookSubscription"]  # noqa: N806
    sub = ctx.ops.shop.subscriptions.get(parse_gid(id, "WebhookSubscription") or 0)
    if sub is None or sub.app_key != ctx.token.app_key:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    address = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if address:
        sub.address = address
    if webhookSubscription.get("includeFields") is not None:
        sub.fields = list(webhookSubscription["includeFields"])
    sub.updated_at = ctx.ops.now()
    ctx.ops.shop.subscriptions.put(sub.id, sub)
    return {"webhookSubscription": View(ctx).subscription(sub), "userErrors": []}


def webhook_delete(info: Any, id: str) -> Doc:
    ctx = _ctx(info)
    ident = parse_gid(id, "WebhookSubscription")
    sub = ctx.ops.shop.subscriptions.get(ident or 0)
    if sub is None or sub.app_key != ctx.token.app_key:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    ctx.ops.shop.subscriptions.delete(sub.id)
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "inventorySetQuantities": inventory_set,
    "inventoryAdjustQuantities": inventory_adjust,
    "inventoryActivate": inventory_activate,
    "fulfillmentCreate": fulfillment_create,
    "fulfillmentTrackingInfoUpdate": tracking_update,
    "webhookSubscriptionCreate": webhook_create,
    "webhookSubscriptionUpdate": webhook_update,
    "webhookSubscriptionDelete": webhook_delete,
}


def mutation_root() -> Doc:
    def bound(fn: Callable[..., Doc]) -> Callable[..., Doc]:
        def resolver(info: Any, **args: Any) -> Doc:
            return fn(info, **args)

        return resolver

    return {name: bound(fn) for name, fn in MUTATIONS.items()}


# --- cost -----------------------------------------------------------------------------


@dataclass
class Costing:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    def arg(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def fields(self, selection: SelectionSetNode | None) -> Iterable[FieldNode]:
        for item in selection.selections if selection else ():
            if isinstance(item, FieldNode):
                yield item
            elif isinstance(item, InlineFragmentNode):
                yield from self.fields(item.selection_set)
            elif isinstance(item, FragmentSpreadNode):
                fragment = self.fragments.get(item.name.value)
                if fragment is not None:
                    yield from self.fields(fragment.selection_set)

    def cost(self, selection: SelectionSetNode | None, parent: Any, data: Any = None) -> int:
        total = 0
        for node in self.fields(selection):
            name = node.name.value
            if name.startswith("__"):
                continue
            fields = getattr(parent, "fields", {})
            definition = fields.get(name)
            if definition is None:
                # interface or union: cost against the first possible type having it
                continue
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            key = node.alias.value if node.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            if named.name.endswith("Connection"):
                total += self.connection(node, named, value, data is not None)
            else:
                child_parent = named
                if not isinstance(named, GraphQLObjectType):
                    child_parent = self._first_possible(named)
                total += 1 + self.cost(node.selection_set, child_parent, value)
        return total

    def _first_possible(self, abstract: Any) -> Any:
        types = self.schema.get_possible_types(abstract)
        return types[0] if types else abstract

    def connection(self, node: FieldNode, conn: Any, value: Any, actual: bool) -> int:
        size = self.arg(node, "first") or self.arg(node, "last") or 0
        node_type = get_named_type(conn.fields["edges"].type).fields["node"].type
        node_type = get_named_type(node_type)
        if not isinstance(node_type, GraphQLObjectType):
            node_type = self._first_possible(node_type)
        per_node: list[int] = []
        items: list[Any] = []
        if actual and isinstance(value, dict):
            for inner in self.fields(node.selection_set):
                key = inner.alias.value if inner.alias else inner.name.value
                if inner.name.value == "edges":
                    items = [
                        e.get("node") if isinstance(e, dict) else None for e in value.get(key) or []
                    ]
                elif inner.name.value == "nodes":
                    items = list(value.get(key) or [])
        count = len(items) if actual else int(size)
        selection = self._node_selection(node)
        if actual:
            per_node = [1 + self.cost(selection, node_type, item) for item in items]
            return 2 + sum(per_node)
        return 2 + count * (1 + self.cost(selection, node_type))

    def _node_selection(self, node: FieldNode) -> SelectionSetNode:
        merged: list[Any] = []
        for inner in self.fields(node.selection_set):
            if inner.name.value == "nodes" and inner.selection_set:
                merged.extend(inner.selection_set.selections)
            elif inner.name.value == "edges":
                for edge_field in self.fields(inner.selection_set):
                    if edge_field.name.value == "node" and edge_field.selection_set:
                        merged.extend(edge_field.selection_set.selections)
        return SelectionSetNode(selections=tuple(merged))


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    data: Any = None,
) -> int:
    fragments = {
        f.name.value: f for f in document.definitions if isinstance(f, FragmentDefinitionNode)
    }
    costing = Costing(schema, fragments, variables)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _ in costing.fields(operation.selection_set))
    return costing.cost(operation.selection_set, schema.query_type, data)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [o for o in document.definitions if isinstance(o, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


# --- the endpoint ---------------------------------------------------------------------


def cost_extension(
    requested: int, actual: int | None, available: float, maximum: float, restore: float
) -> Doc:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": float(maximum),
                "currentlyAvailable": int(available),
                "restoreRate": float(restore),
            },
        }
    }


async def endpoint(sandbox: Sandbox, request: Request) -> Response:
    headers = {"X-Request-Id": str(uuid.uuid4())}
    version = resolve_version(request.path_params["version"])
    if version is None:
        return json_response(404, {"errors": "Not Found"}, headers)
    headers["X-Shopify-API-Version"] = version
    found = await authenticated(sandbox, request, headers)
    if isinstance(found, Response):
        return found
    token = found
    limits = sandbox.limits(token.shop)
    fault = await request_faults(sandbox, token.shop, "graphql.json")
    if fault is not None:
        return fault_response(fault, headers, f"{limits.rest_bucket}/{limits.rest_bucket}")
    raw = await request.body()
    if "application/graphql" in request.headers.get("content-type", ""):
        payload: Any = {"query": raw.decode()}
    else:
        try:
            payload = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            return json_response(400, {"errors": "Invalid JSON in request body"}, headers)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return json_response(
            400, {"errors": {"query": "Required parameter missing or invalid"}}, headers
        )
    body = run_query(sandbox, token, version, payload)
    sandbox.journal.record(
        token.shop, Recorded("POST", "graphql.json", version, token.app_key, payload, 200)
    )
    return json_response(200, body, headers)


def run_query(sandbox: Sandbox, token: Token, version: str, payload: Doc) -> Doc:
    schema = schema_for(version)
    limits = sandbox.limits(token.shop)
    maximum, restore = limits.graphql_bucket, limits.graphql_restore
    try:
        document = parse(payload["query"])
    except GraphQLError as error:
        return {"errors": [error.formatted]}
    problems = validate(schema, document)
    if problems:
        return {"errors": [p.formatted for p in problems]}
    operation = _operation(document, payload.get("operationName"))
    if operation is None:
        return {"errors": [{"message": "An operation name is required"}]}
    variables = payload.get("variables") or {}
    requested = query_cost(schema, document, operation, variables)
    if requested > MAX_QUERY_COST:
        _, available = sandbox.limiter.graphql(token.shop, token.app_key, maximum, restore, 0)
        return {
            "errors": [
                {
                    "message": f"Query cost is {requested}, which exceeds the single query max "
                    f"cost limit ({MAX_QUERY_COST}).",
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": requested,
                        "maxCost": MAX_QUERY_COST,
                        "documentation": RATE_DOC,
                    },
                }
            ],
            "extensions": cost_extension(requested, None, available, maximum, restore),
        }
    allowed, available = sandbox.limiter.graphql(
        token.shop, token.app_key, maximum, restore, requested
    )
    if not allowed:
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_DOC},
                }
            ],
            "extensions": cost_extension(requested, None, available, maximum, restore),
        }

    def execute_in_shop(ops: ShopOps) -> Any:
        ctx = Ctx(ops, token, version)
        root = mutation_root() if operation.operation is OperationType.MUTATION else query_root(ctx)
        return execute(
            schema,
            document,
            root_value=root,
            context_value=ctx,
            variable_values=variables,
            operation_name=payload.get("operationName"),
        )

    try:
        result = sandbox.run(token.shop, execute_in_shop, actor=token.app_key)
    except ShopifyError as error:
        return {"errors": [{"message": str(error.errors)}]}
    body: Doc = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    actual = query_cost(schema, document, operation, variables, result.data)
    actual = min(actual, requested)
    available = sandbox.limiter.refund(token.shop, token.app_key, requested - actual)
    body["extensions"] = cost_extension(requested, actual, available, maximum, restore)
    return body
