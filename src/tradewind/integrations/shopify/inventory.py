"""Stock out to Shopify: batched GraphQL mutations of up to 250 levels.

Absolute mode sets ``available`` with compare-and-set against what Shopify was last
known to hold (``changeFromQuantity`` from 2026-04, ``compareQuantity`` before); a stale
value means Shopify's number moved under us, so the stale levels are re-read and the batch
is sent once more. Delta mode adjusts by the change since the last push. Each batch carries
an idempotency key, so a batch resent after a lost answer is applied once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tradewind.connectors import (
    Priority,
    StockMode,
    StockPush,
    StockPushResult,
    StockReading,
    Unavailable,
)
from tradewind.integrations.shopify.client import ShopifyClient, gid

BATCH = 250  # Shopify's cap on input arrays
CAS_FROM = "2026-04"  # changeFromQuantity from this version on
STALE = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) %s {
    inventoryAdjustmentGroup { changes { name quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}
"""
ADJUST = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) %s {
    inventoryAdjustmentGroup { changes { name quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}
"""
READ = """
query Levels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevels(first: 50) {
        nodes { location { id } quantities(names: ["available"]) { quantity } }
      }
    }
  }
}
"""


def push(
    client: ShopifyClient, pushes: Sequence[StockPush], mode: StockMode
) -> list[StockPushResult]:
    results: list[StockPushResult] = []
    for start in range(0, len(pushes), BATCH):
        batch = list(pushes[start : start + BATCH])
        if mode is StockMode.DELTA:
            results += _adjust(client, batch)
        else:
            results += _set(client, batch)
    return results


def _cas(client: ShopifyClient) -> bool:
    return client.version >= CAS_FROM


def _directive(client: ShopifyClient, batch: Sequence[StockPush], sent: Any) -> str:
    """The idempotency key of one mutation: the intended changes and exactly what is sent
    (a retry with re-read values is a different mutation and gets its own)."""
    material = "|".join(p.idempotency_key for p in batch) + json.dumps(sent, sort_keys=True)
    return client.idempotent(material)


def _set(client: ShopifyClient, batch: list[StockPush]) -> list[StockPushResult]:
    expected = {index: push.expected for index, push in enumerate(batch)}
    failed: dict[int, str] = {}
    for attempt in range(2):  # the first try, and one retry after re-reading stale levels
        live = [index for index in range(len(batch)) if index not in failed]
        if not live:
            break
        quantities = []
        for index in live:
            push = batch[index]
            entry: dict[str, Any] = {
                "inventoryItemId": gid("InventoryItem", push.item_ref or ""),
                "locationId": gid("Location", push.location_ref),
                "quantity": push.available,
            }
            if _cas(client):
                entry["changeFromQuantity"] = expected[index]  # null: nothing known yet
            elif expected[index] is not None:
                entry["compareQuantity"] = expected[index]
            quantities.append(entry)
        variables: dict[str, Any] = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "tradewind://stock-sync",
                "quantities": quantities,
            },
        }
        if not _cas(client):
            variables["input"]["ignoreCompareQuantity"] = all(
                expected[index] is None for index in live
            )
        data = client.graphql(
            SET % _directive(client, [batch[i] for i in live], variables),
            variables,
            operation="inventory.set",
            priority=Priority.LIVE,
        )
        payload = data["inventorySetQuantities"] or {}
        errors = payload.get("userErrors") or []
        if not errors:
            after = _after(payload)
            return [
                StockPushResult(
                    product_id=push.product_id,
                    location_ref=push.location_ref,
                    ok=index not in failed,
                    error=failed.get(index, ""),
                    platform_quantity=after.get(
                        (
                            gid("InventoryItem", push.item_ref or ""),
                            gid("Location", push.location_ref),
                        ),
                        push.available,
                    )
                    if index not in failed
                    else None,
                )
                for index, push in enumerate(batch)
            ]
        stale: list[int] = []
        for error in errors:
            position = _position(error, live)
            if position is None:
                raise Unavailable(f"Shopify refused the stock batch: {error.get('message')}")
            if error.get("code") in STALE:
                stale.append(position)
            else:
                failed[position] = str(error.get("message") or error.get("code"))
        if stale:
            if attempt == 1:
                raise Unavailable("stock kept changing on Shopify while it was being set")
            fresh = _read(client, [batch[index] for index in stale])
            for index in stale:
                push = batch[index]
                expected[index] = fresh.get((push.item_ref or "", push.location_ref), 0)
    return [
        StockPushResult(
            product_id=push.product_id,
            location_ref=push.location_ref,
            ok=False,
            error=failed.get(index, "not sent"),
        )
        for index, push in enumerate(batch)
    ]


def _adjust(client: ShopifyClient, batch: list[StockPush]) -> list[StockPushResult]:
    changes = []
    for push in batch:
        change: dict[str, Any] = {
            "delta": push.delta or 0,
            "inventoryItemId": gid("InventoryItem", push.item_ref or ""),
            "locationId": gid("Location", push.location_ref),
        }
        if _cas(client):
            change["changeFromQuantity"] = None  # a delta does not compare
        changes.append(change)
    variables = {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "tradewind://stock-sync",
            "changes": changes,
        }
    }
    data = client.graphql(
        ADJUST % _directive(client, batch, variables),
        variables,
        operation="inventory.adjust",
    )
    payload = data["inventoryAdjustQuantities"] or {}
    errors = payload.get("userErrors") or []
    if errors:
        live = list(range(len(batch)))
        failed = {}
        for error in errors:
            position = _position(error, live, key="changes")
            if position is None:
                raise Unavailable(f"Shopify refused the stock batch: {error.get('message')}")
            failed[position] = str(error.get("message") or error.get("code"))
        # The mutation is all or nothing: resend the others on their own.
        rest = [push for index, push in enumerate(batch) if index not in failed]
        results = _adjust(client, rest) if rest else []
        return results + [
            StockPushResult(
                product_id=batch[i].product_id,
                location_ref=batch[i].location_ref,
                ok=False,
                error=message,
            )
            for i, message in failed.items()
        ]
    after = _after(payload)
    return [
        StockPushResult(
            product_id=push.product_id,
            location_ref=push.location_ref,
            ok=True,
            platform_quantity=after.get(
                (gid("InventoryItem", push.item_ref or ""), gid("Location", push.location_ref))
            ),
        )
        for push in batch
    ]


def _after(payload: dict[str, Any]) -> dict[tuple[str, str], int]:
    group = payload.get("inventoryAdjustmentGroup") or {}
    return {
        (change["item"]["id"], change["location"]["id"]): int(change["quantityAfterChange"])
        for change in group.get("changes") or []
        if change.get("name") == "available" and change.get("quantityAfterChange") is not None
    }


def _position(error: dict[str, Any], live: list[int], key: str = "quantities") -> int | None:
    """Which item of the batch a user error is about (``field: [input, key, N, …]``)."""
    field = error.get("field") or []
    if len(field) >= 3 and field[1] == key and str(field[2]).isdigit():
        offset = int(field[2])
        return live[offset] if offset < len(live) else None
    return None


def _read(client: ShopifyClient, pushes: Sequence[StockPush]) -> dict[tuple[str, str], int]:
    """Shopify's current available quantity for each (item, location) of ``pushes``."""
    ids = sorted({gid("InventoryItem", push.item_ref or "") for push in pushes})
    data = client.graphql(READ, {"ids": ids}, operation="inventory.read", cost=2 + len(ids) * 52)
    found: dict[tuple[str, str], int] = {}
    for node in data.get("nodes") or []:
        if not node:
            continue
        item = str(node["id"]).rsplit("/", 1)[-1]
        for level in (node.get("inventoryLevels") or {}).get("nodes") or []:
            location = str(level["location"]["id"]).rsplit("/", 1)[-1]
            quantities = level.get("quantities") or [{"quantity": 0}]
            found[(item, location)] = int(quantities[0]["quantity"])
    return found


def read(client: ShopifyClient, items: Sequence[StockPush]) -> list[StockReading]:
    """Shopify's available quantity now at each item's location (a level Shopify does not
    hold there reads as 0), in batches of ``BATCH`` items."""
    found: list[StockReading] = []
    for start in range(0, len(items), BATCH):
        batch = [item for item in items[start : start + BATCH] if item.item_ref]
        held = _read(client, batch) if batch else {}
        found += [
            StockReading(
                product_id=item.product_id,
                location_ref=item.location_ref,
                available=held.get((item.item_ref or "", item.location_ref), 0),
            )
            for item in batch
        ]
    return found
