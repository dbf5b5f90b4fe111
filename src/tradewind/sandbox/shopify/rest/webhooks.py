"""REST handlers: an app's webhook subscriptions, and the checks GraphQL shares."""

from __future__ import annotations

from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify import webhook_filter
from tradewind.sandbox.shopify.ops.base import not_found, unprocessable
from tradewind.sandbox.shopify.rest.base import (
    Answer,
    Context,
    body_of,
    common_filter,
    ok,
    page,
    pick_fields,
)
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Subscription, Token
from tradewind.sandbox.shopify.webhooks import TOPIC_SCOPES, TOPICS


def _subscriptions(ctx: Context) -> list[Subscription]:
    own = [s for s in ctx.ops.shop.subscriptions.values() if s.app_key == ctx.token.app_key]
    q = ctx.query
    if q.get("topic"):
        own = [s for s in own if s.topic == q["topic"]]
    if q.get("address"):
        own = [s for s in own if s.address == q["address"]]
    return sorted(own, key=lambda s: s.id)


def list_webhooks(ctx: Context) -> Answer:
    docs = common_filter([d.webhook(s) for s in _subscriptions(ctx)], ctx.query)
    return ok({"webhooks": page(ctx, docs)})


def count_webhooks(ctx: Context) -> Answer:
    return ok({"count": len(_subscriptions(ctx))})


def _subscription(ctx: Context) -> Subscription:
    sub = ctx.ops.shop.subscriptions.get(ctx.ids[0])
    if sub is None or sub.app_key != ctx.token.app_key:
        raise not_found()
    return sub


def get_webhook(ctx: Context) -> Answer:
    return ok({"webhook": pick_fields(d.webhook(_subscription(ctx)), ctx.query)})


def check_topic(token: Token, topic: str) -> None:
    if topic not in TOPICS:
        raise unprocessable("topic", f"Invalid topic specified: {topic}")
    needed = TOPIC_SCOPES.get(topic.split("/")[0])
    if needed and not token.grants(needed):
        raise unprocessable("topic", f"Invalid topic specified: {topic}. Access denied.")


def check_address(address: str) -> None:
    if not address:
        raise unprocessable("address", "can't be blank")
    if not address.startswith(("https://", "http://", "pubsub://", "arn:aws:events:")):
        raise unprocessable("address", "is invalid")


def add_subscription(
    ops: ShopOps, token: Token, topic: str, address: str, version: str, **extra: Any
) -> Subscription:
    check_topic(token, topic)
    check_address(address)
    if extra.get("filter"):
        webhook_filter.parse(str(extra["filter"]))  # refused now, never ignored later
    for sub in ops.shop.subscriptions.values():
        if sub.app_key == token.app_key and sub.topic == topic and sub.address == address:
            raise unprocessable("address", "for this topic has already been taken")
    now = ops.now()
    sub = Subscription(
        id=ops.state.next_id(),
        shop=ops.shop.settings.name,
        app_key=token.app_key,
        topic=topic,
        address=address,
        created_at=now,
        updated_at=now,
        api_version=version,
        **extra,
    )
    ops.shop.subscriptions.put(sub.id, sub)
    return sub


def create_webhook(ctx: Context) -> Answer:
    data = body_of(ctx, "webhook")
    sub = add_subscription(
        ctx.ops,
        ctx.token,
        str(data.get("topic", "")),
        str(data.get("address", "")),
        ctx.version,
        format=data.get("format", "json"),
        fields=list(data.get("fields") or []),
        metafield_namespaces=list(data.get("metafield_namespaces") or []),
    )
    return ok({"webhook": d.webhook(sub)}, 201)


def update_webhook(ctx: Context) -> Answer:
    sub = _subscription(ctx)
    data = body_of(ctx, "webhook")
    if "address" in data:
        check_address(str(data["address"]))
        sub.address = str(data["address"])
    if "topic" in data:
        check_topic(ctx.token, str(data["topic"]))
        sub.topic = str(data["topic"])
    if "fields" in data:
        sub.fields = list(data["fields"] or [])
    sub.updated_at = ctx.ops.now()
    ctx.ops.shop.subscriptions.put(sub.id, sub)
    return ok({"webhook": d.webhook(sub)})


def delete_webhook(ctx: Context) -> Answer:
    sub = _subscription(ctx)
    ctx.ops.shop.subscriptions.delete(sub.id)
    return ok({})
