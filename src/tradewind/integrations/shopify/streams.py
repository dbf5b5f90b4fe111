"""Reading a store: the shop, its locations, orders (REST, cursor pages of 250) and the
catalog (GraphQL product variants, 250 a page)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from tradewind.connectors import (
    FulfillmentStatus,
    LocationRecord,
    OrderQuery,
    OrderRecord,
    OrderStatus,
    Page,
    Priority,
    ProductRecord,
    Rejected,
    next_link,
    query_value,
)
from tradewind.integrations.shopify import mapping, scopes
from tradewind.integrations.shopify.client import ShopifyClient

PAGE = 250
VARIANTS_QUERY = """
query Variants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku barcode title price
      product { id title }
      inventoryItem { id }
    }
  }
}
"""
# 2 + 250 × (variant 1 + product 1 + inventory item 1): under the 1000-point query cap.
VARIANTS_COST = 2 + PAGE * 3
# REST orders do not show holds: the unshipped ones of a page are asked about by GraphQL
# (``displayFulfillmentStatus`` needs only read_orders), and the reasons of the few on
# hold are read from their fulfillment orders.
HOLDS_QUERY = """
query Holds($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Order { legacyResourceId displayFulfillmentStatus } }
}
"""
HOLDS_CHUNK = 250


def shop(client: ShopifyClient) -> dict[str, str]:
    body = client.rest("GET", "shop", operation="shop.read").json()["shop"]
    return {"name": str(body.get("name", "")), "domain": str(body.get("myshopify_domain", ""))}


def granted_scopes(client: ShopifyClient) -> set[str]:
    response = client.rest("GET", "/admin/oauth/access_scopes.json", operation="scopes.read")
    return {str(scope["handle"]) for scope in response.json().get("access_scopes", [])}


def locations(client: ShopifyClient) -> list[LocationRecord]:
    body = client.rest("GET", "locations", operation="locations.list").json()
    return [mapping.location(raw) for raw in body.get("locations", [])]


def orders(
    client: ShopifyClient, query: OrderQuery, cursor: str | None, priority: Priority
) -> Page[OrderRecord]:
    """One page of orders updated (or created) in the query's window. A cursor is the
    ``page_info`` Shopify handed back: with it only ``limit`` may be sent."""
    if cursor is None and query.field == "created_at":
        history_readable(client, query.since)
    if cursor:
        params: dict[str, str | int] = {"limit": PAGE, "page_info": cursor}
    else:
        prefix = "updated_at" if query.field == "updated_at" else "created_at"
        params = {"limit": PAGE, "status": "any", f"{prefix}_min": query.since.isoformat()}
        if query.until is not None:
            params[f"{prefix}_max"] = query.until.isoformat()
    response = client.rest(
        "GET", "orders", operation="orders.list", params=params, priority=priority
    )
    records: list[OrderRecord] = []
    skipped: list[tuple[str, str]] = []
    for raw in response.json().get("orders", []):
        try:
            records.append(mapping.order(raw))
        except (KeyError, ValueError, TypeError) as exc:  # one bad order never stops a page
            skipped.append((str(raw.get("id", "?")), f"unreadable order: {exc}"))
    link = next_link(response)
    following = query_value(link, "page_info") if link else None
    return Page(
        records=with_holds(client, records, priority), next_cursor=following, skipped=tuple(skipped)
    )


def with_holds(
    client: ShopifyClient, records: list[OrderRecord], priority: Priority = Priority.LIVE
) -> list[OrderRecord]:
    """``records`` with ``review_hold`` set on those Shopify holds. Only an open order
    with something left to ship can be held, so only those are asked about."""
    open_ = [
        record.external_id
        for record in records
        if record.status is OrderStatus.OPEN
        and record.fulfillment_status is not FulfillmentStatus.FULFILLED
    ]
    held: list[str] = []
    for start in range(0, len(open_), HOLDS_CHUNK):
        ids = [f"gid://shopify/Order/{ident}" for ident in open_[start : start + HOLDS_CHUNK]]
        data = client.graphql(
            HOLDS_QUERY,
            {"ids": ids},
            operation="orders.holds",
            cost=1 + len(ids),  # a node each: a webhook batch of 10 costs 11, not 251
            priority=priority,
        )
        held += [
            str(node.get("legacyResourceId"))
            for node in data.get("nodes") or []
            if node and node.get("displayFulfillmentStatus") == "ON_HOLD"
        ]
    holds = {external_id: _hold_reasons(client, external_id, priority) for external_id in held}
    return [
        record.model_copy(update={"review_hold": holds[record.external_id]})
        if record.external_id in holds
        else record
        for record in records
    ]


def history_readable(client: ShopifyClient, since: dt.datetime) -> None:
    """Orders older than Shopify's window are left out of every list without
    ``read_all_orders``: a backfill reaching past it stops with why, rather than import
    part of the range as if it were all."""
    horizon = dt.datetime.now(dt.UTC) - scopes.ORDER_WINDOW
    if since >= horizon:
        return
    lacking = scopes.missing(granted_scopes(client), scopes.HISTORY)
    if lacking:
        raise Rejected(
            f"orders placed before {horizon:%Y-%m-%d} can be read only with the "
            f"{', '.join(lacking)} scope, which the token lacks: grant it to the app (or "
            f"Reauthorize), or sync from {horizon:%Y-%m-%d} on"
        )


def order(client: ShopifyClient, external_id: str) -> OrderRecord | None:
    """The order by its id, or by one of its fulfillment orders' (``gid://shopify/
    FulfillmentOrder/…``, as a hold's webhook names it)."""
    if external_id.startswith(FULFILLMENT_ORDER_GID):
        external_id = _order_of(client, external_id.removeprefix(FULFILLMENT_ORDER_GID))
    if not external_id.isdigit():
        return None
    response = client.rest("GET", f"orders/{external_id}", operation="orders.get", allow=(404,))
    if response.status_code == 404:
        return None
    return with_holds(client, [mapping.order(response.json()["order"])])[0]


def orders_by_id(client: ShopifyClient, external_ids: Sequence[str]) -> list[OrderRecord]:
    """Orders by id, ``PAGE`` to a REST call (``ids=``) rather than one call each: the
    re-reads of a burst of webhooks fit the standard plan's 2 calls a second."""
    wanted = sorted({ident for ident in external_ids if ident.isdigit()}, key=int)
    records: list[OrderRecord] = []
    for start in range(0, len(wanted), PAGE):
        chunk = wanted[start : start + PAGE]
        params: dict[str, str | int] = {"ids": ",".join(chunk), "status": "any", "limit": PAGE}
        response = client.rest("GET", "orders", operation="orders.get_many", params=params)
        records += [mapping.order(raw) for raw in response.json().get("orders", [])]
    return with_holds(client, records)


def delivered(deliveries: Sequence[bytes]) -> list[OrderRecord | None]:
    """The orders webhook bodies carry (None for a body that does not carry one whole)."""
    found: list[OrderRecord | None] = []
    for body in deliveries:
        try:
            raw = json.loads(body)
        except ValueError:
            raw = None
        found.append(mapping.delivered_order(raw) if isinstance(raw, dict) else None)
    return found


def _hold_reasons(client: ShopifyClient, external_id: str, priority: Priority) -> str:
    """Why the order is held, from its fulfillment orders ("on_hold" when the token may
    not read them: the hold is known all the same)."""
    response = client.rest(
        "GET",
        f"orders/{external_id}/fulfillment_orders",
        operation="fulfillment_orders.list",
        allow=(403, 404),
        priority=priority,
    )
    if response.status_code != 200:
        return "on_hold"
    return mapping.review_hold(response.json().get("fulfillment_orders") or [])


FULFILLMENT_ORDER_GID = "gid://shopify/FulfillmentOrder/"


def _order_of(client: ShopifyClient, fulfillment_order_id: str) -> str:
    if not fulfillment_order_id.isdigit():
        return ""
    response = client.rest(
        "GET",
        f"fulfillment_orders/{fulfillment_order_id}",
        operation="fulfillment_orders.get",
        allow=(404,),
    )
    if response.status_code == 404:
        return ""
    return str(response.json()["fulfillment_order"]["order_id"])


def products(client: ShopifyClient, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
    data = client.graphql(
        VARIANTS_QUERY,
        {"first": PAGE, "after": cursor},
        operation="products.list",
        cost=VARIANTS_COST,
        priority=priority,
    )
    connection = data["productVariants"]
    info = connection["pageInfo"]
    return Page(
        records=mapping.products_from_variants(connection["nodes"]),
        next_cursor=info["endCursor"] if info["hasNextPage"] else None,
    )
