"""Orders by bulk operation: a long backfill asks Shopify for every order of the range at
once (``bulkOperationRunQuery``), polls the operation by id (``node(id:)``), then streams
the JSONL result from the read position it last committed (an HTTP ``Range``), a chunk
of whole orders at a time. ``groupObjects: true`` keeps each order's child rows right
after it, so an order is whole when the next order's row (or the end) is read."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping
from typing import Any, Literal

from tradewind.connectors import (
    BulkExport,
    ExportChunk,
    OrderQuery,
    OrderRecord,
    Priority,
    Rejected,
    Unavailable,
)
from tradewind.integrations.shopify import mapping, streams
from tradewind.integrations.shopify.client import ShopifyClient, legacy_id

# The order as the REST list gives it, with the hold reasons REST needs a call for.
# Five connections (orders, line items, fulfillment orders, fulfillment lines, refund
# lines), two deep: Shopify's limits for a bulk query.
ORDERS_QUERY = """
fragment Address on MailingAddress {
  firstName lastName company address1 address2 city province provinceCode zip
  countryCodeV2 phone
}
{
  orders(query: "%(search)s", sortKey: CREATED_AT) {
    edges { node {
      id legacyResourceId name email note tags test sourceName sourceIdentifier
      createdAt updatedAt processedAt closedAt cancelledAt cancelReason currencyCode
      displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount } }
      subtotalPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      customer {
        legacyResourceId email firstName lastName phone defaultAddress { ...Address }
      }
      shippingAddress { ...Address }
      billingAddress { ...Address }
      physicalLocation { legacyResourceId }
      lineItems { edges { node {
        id name title sku quantity currentQuantity
        originalUnitPriceSet { shopMoney { amount } }
        variant { legacyResourceId }
      } } }
      fulfillmentOrders { edges { node {
        id status fulfillmentHolds { reason reasonNotes }
      } } }
      fulfillments {
        id legacyResourceId status createdAt location { legacyResourceId }
        trackingInfo { company number url }
        fulfillmentLineItems { edges { node { id quantity lineItem { id } } } }
      }
      refunds {
        id legacyResourceId note createdAt
        refundLineItems { edges { node { quantity restockType lineItem { id } } } }
      }
    } }
  }
}
"""
RUN = """mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}"""
FIELDS = "id status errorCode objectCount fileSize url query"
POLL = f"query BulkPoll($id: ID!) {{ node(id: $id) {{ ... on BulkOperation {{ {FIELDS} }} }} }}"
CURRENT = f"{{ currentBulkOperation(type: QUERY) {{ {FIELDS} }} }}"
IN_PROGRESS = "OPERATION_IN_PROGRESS"
POLL_COST = 1
STATUSES: Mapping[str, Literal["running", "completed", "failed", "expired"]] = {
    "CREATED": "running",
    "RUNNING": "running",
    "CANCELING": "failed",
    "CANCELED": "failed",
    "FAILED": "failed",
    "COMPLETED": "completed",
    "EXPIRED": "expired",
}
READ_BYTES = 1 << 16


def search(query: OrderQuery) -> str:
    """The range in Shopify's search syntax ([since, until), as the backfill asks)."""
    terms = [f"created_at:>='{query.since.isoformat()}'"]
    if query.until is not None:
        terms.append(f"created_at:<'{query.until.isoformat()}'")
    return " ".join(terms)


def orders_query(query: OrderQuery) -> str:
    return ORDERS_QUERY % {"search": search(query)}


def count(client: ShopifyClient, query: OrderQuery) -> int:
    """How many orders were placed in the range (REST ``orders/count``: one call). A
    range older than the token may read stops here with why, as the pages do."""
    streams.history_readable(client, query.since)
    params = {
        "status": "any",
        "created_at_min": query.since.isoformat(),
        **({"created_at_max": query.until.isoformat()} if query.until is not None else {}),
    }
    response = client.rest(
        "GET", "orders/count", operation="orders.count", params=params, priority=Priority.BACKGROUND
    )
    return int(response.json().get("count") or 0)


def start(client: ShopifyClient, query: OrderQuery) -> BulkExport:
    """Start the export. Shopify runs one bulk query per app and shop: when one is under
    way, the same query (an earlier try of this backfill whose answer was lost) is
    adopted; another one (a product export, another app's run) is waited for."""
    wanted = orders_query(query)
    data = client.graphql(
        RUN, {"query": wanted}, operation="orders.bulk_start", priority=Priority.BACKGROUND
    )
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if any(error.get("code") == IN_PROGRESS for error in errors):
        running = client.graphql(
            CURRENT, operation="orders.bulk_current", cost=POLL_COST, priority=Priority.BACKGROUND
        ).get("currentBulkOperation")
        if running and running.get("query") == wanted:
            return export_of(running)
        raise Unavailable(
            "orders.bulk_start: another bulk query of this app is running on the store; "
            "the backfill starts once it is over"
        )
    if errors or not payload.get("bulkOperation"):
        detail = "; ".join(str(error.get("message")) for error in errors) or "no operation"
        raise Rejected(f"orders.bulk_start: {detail}")
    return export_of(payload["bulkOperation"])


def status(client: ShopifyClient, export_id: str) -> BulkExport:
    node = client.graphql(
        POLL,
        {"id": export_id},
        operation="orders.bulk_poll",
        cost=POLL_COST,
        priority=Priority.BACKGROUND,
    ).get("node")
    if not node:
        return BulkExport(id=export_id, status="expired", error="Shopify no longer knows it")
    return export_of(node)


def export_of(node: Mapping[str, Any]) -> BulkExport:
    size = node.get("fileSize")
    return BulkExport(
        id=str(node["id"]),
        status=STATUSES.get(str(node.get("status")), "running"),
        url=node.get("url"),
        objects=int(node.get("objectCount") or 0),
        size=int(size) if size is not None else None,
        error=str(node.get("errorCode") or "").lower(),
    )


def read(
    client: ShopifyClient, url: str, offset: int, chunk: int
) -> Generator[ExportChunk, None, None]:
    """The result from ``offset`` (a byte where an order's row starts) on, ``chunk`` whole
    orders at a time. The link is a signed storage URL: no token is sent to it."""
    headers = {"Accept": "application/jsonl"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with client.http.stream(
        client.absolute(url), operation="orders.bulk_read", headers=headers, allow=(416,)
    ) as response:
        if response.status_code == 416:  # nothing after the offset: the file was read
            return
        skip = offset if response.status_code == 200 else 0  # the host ignored the range
        yield from _chunks(_lines(response.iter_bytes(READ_BYTES), offset, skip), chunk)


def _lines(pieces: Iterator[bytes], offset: int, skip: int) -> Iterator[tuple[int, bytes]]:
    """(byte position, line with its newline) from ``offset``; the first ``skip`` bytes
    the host sent are dropped (it ignored the range)."""
    position, pending = offset - skip, b""
    for piece in pieces:
        parts = (pending + piece).split(b"\n")
        pending = parts.pop()
        for part in parts:
            if position >= offset:
                yield position, part + b"\n"
            position += len(part) + 1
    if pending and position >= offset:
        yield position, pending


class _Order:
    """An order's row and the child rows read after it so far."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.children: list[dict[str, Any]] = []


def _chunks(lines: Iterator[tuple[int, bytes]], size: int) -> Iterator[ExportChunk]:
    records: list[OrderRecord] = []
    skipped: list[tuple[str, str]] = []
    current: _Order | None = None
    end = 0

    def close(order: _Order) -> None:
        try:
            records.append(mapping.bulk_order(order.root, order.children))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            ident = legacy_id(str(order.root.get("id", "?")))
            skipped.append((ident, f"unreadable order: {type(exc).__name__}: {exc}"))

    for position, raw in lines:
        end = position + len(raw)
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            if not isinstance(row, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            skipped.append((f"byte {position}", f"unreadable line: {exc}"))
            continue
        if "__parentId" in row:
            if current is not None:
                current.children.append(row)
            else:
                skipped.append((f"byte {position}", "a child row with no order before it"))
            continue
        if current is not None:
            close(current)
            if len(records) + len(skipped) >= size:
                # the chunk ends where this order's row starts: it is read with the next
                yield ExportChunk(records=records, skipped=tuple(skipped), end=position)
                records, skipped = [], []
        current = _Order(row)
    if current is not None:
        close(current)
    if records or skipped:
        yield ExportChunk(records=records, skipped=tuple(skipped), end=end)
