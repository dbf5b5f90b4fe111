"""The mutations: inventory quantities (with compare-and-set and ``@idempotent``),
fulfillments and tracking, webhook subscriptions; refunds (``refunds.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify import webhook_filter
from tradewind.sandbox.shopify.core import version_at_least
from tradewind.sandbox.shopify.graphql import (
    bulk,
    customers,
    draft_orders,
    holds,
    orders,
    products,
)
from tradewind.sandbox.shopify.graphql.context import (
    Ctx,
    context_of,
    guard,
    idempotency_key,
    parse_gid,
)
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.graphql.refunds import refund_create
from tradewind.sandbox.shopify.graphql.schema import CAS_VERSION
from tradewind.sandbox.shopify.ops.base import ShopifyError, first_message
from tradewind.sandbox.shopify.rest import add_subscription
from tradewind.sandbox.shopify.state import QUANTITY_NAMES, Doc
from tradewind.sandbox.shopify.webhooks import ENUM_TOPICS

MAX_INPUT_ITEMS = 250

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


def _user_error(path: list[str], message: str, code: str | None = None) -> Doc:
    return {"field": path, "message": message, "code": code}


def _check_size(items: list[Any], name: str) -> None:
    if len(items) > MAX_INPUT_ITEMS:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of "
            f"{MAX_INPUT_ITEMS}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argumentName": name},
        )


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
    ctx = guard(info)
    _check_size(input["quantities"], "quantities")
    key = idempotency_key(info, ctx)
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
    ctx = guard(info)
    _check_size(input["changes"], "changes")
    key = idempotency_key(info, ctx)
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
    ctx = guard(info)
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
    ctx = guard(info)
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
            "userErrors": [{"field": ["fulfillment"], "message": first_message(error)}],
        }
    return {"fulfillment": View(ctx).fulfillment(created), "userErrors": []}


def tracking_update(info: Any, **args: Any) -> Doc:
    ctx = guard(info)
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


def webhook_create(info: Any, **args: Any) -> Doc:
    ctx = context_of(info)
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
        return _subscription_error(error)
    return {"webhookSubscription": View(ctx).subscription(sub), "userErrors": []}


def _subscription_error(error: ShopifyError) -> Doc:
    on = "filter" if isinstance(error.errors, dict) and "filter" in error.errors else "callbackUrl"
    return {
        "webhookSubscription": None,
        "userErrors": [{"field": ["webhookSubscription", on], "message": first_message(error)}],
    }


def webhook_update(info: Any, **args: Any) -> Doc:
    ctx = context_of(info)
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
    if "filter" in webhookSubscription:
        try:
            if webhookSubscription["filter"]:
                webhook_filter.parse(str(webhookSubscription["filter"]))
        except ShopifyError as error:
            return _subscription_error(error)
        sub.filter = webhookSubscription["filter"] or None
    sub.updated_at = ctx.ops.now()
    ctx.ops.shop.subscriptions.put(sub.id, sub)
    return {"webhookSubscription": View(ctx).subscription(sub), "userErrors": []}


def webhook_delete(info: Any, id: str) -> Doc:
    ctx = context_of(info)
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
    "fulfillmentOrderHold": holds.hold,
    "fulfillmentOrderReleaseHold": holds.release,
    "webhookSubscriptionCreate": webhook_create,
    "webhookSubscriptionUpdate": webhook_update,
    "webhookSubscriptionDelete": webhook_delete,
    **bulk.MUTATIONS,
    **products.MUTATIONS,
    **orders.MUTATIONS,
    **draft_orders.MUTATIONS,
    **customers.MUTATIONS,
    "refundCreate": refund_create,
}


def mutation_root() -> Doc:
    def bound(fn: Callable[..., Doc]) -> Callable[..., Doc]:
        def resolver(info: Any, **args: Any) -> Doc:
            return fn(info, **args)

        return resolver

    return {name: bound(fn) for name, fn in MUTATIONS.items()}
