"""Webhooks from Shopify: the signature over the raw body, what a delivery is about, and
keeping the store's subscriptions in place (Shopify deletes one after its retries fail)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from urllib.parse import urlsplit

from tradewind.connectors import Rejected, Toggle, WebhookEvent, WebhookSubject
from tradewind.integrations.shopify import mapping
from tradewind.integrations.shopify.client import ShopifyClient, gid

TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "refunds/create",
    "fulfillments/create",
    "fulfillments/update",
    "inventory_levels/update",
    "app/uninstalled",
)
# Registered only while the toggle is on: Shopify refuses them without its scope.
TOGGLE_TOPICS: Mapping[Toggle, tuple[str, ...]] = MappingProxyType(
    {
        # A held order waits to be imported; its release moves only its fulfillment
        # orders (the order's updated_at stays), so the release is listened for.
        Toggle.IMPORT_ORDERS: ("fulfillment_orders/hold_released",),
        Toggle.IMPORT_CUSTOMERS: ("customers/create", "customers/update"),
    }
)
# The scope a subscription to each topic family needs: Shopify refuses one without it.
TOPIC_SCOPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "orders": frozenset({"read_orders"}),
        "refunds": frozenset({"read_orders"}),
        "fulfillments": frozenset({"read_fulfillments"}),
        "fulfillment_orders": frozenset({"read_merchant_managed_fulfillment_orders"}),
        "inventory_levels": frozenset({"read_inventory"}),
        "customers": frozenset({"read_customers"}),
        "app": frozenset(),
    }
)


def scopes_of(topic: str) -> frozenset[str]:
    return TOPIC_SCOPES[topic.split("/", 1)[0]]


# The mandatory compliance topics, sent to the app's compliance URL (never subscribed).
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")

# Topic prefix → what the engine re-reads. An order-related delivery names the order.
_SUBJECTS: tuple[tuple[str, WebhookSubject, str], ...] = (
    ("orders/", "order", "id"),
    ("refunds/", "order", "order_id"),
    ("fulfillments/", "order", "order_id"),
    # Names the fulfillment order only: the order is found through it.
    ("fulfillment_orders/", "order", "fulfillment_order"),
    ("inventory_levels/", "inventory", ""),
    ("products/", "product", "id"),
    ("customers/", "customer", "id"),
    ("app/", "app", ""),
)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header under Shopify's ``X-Shopify-…`` name or the newer un-prefixed one."""
    wanted = {f"x-shopify-{name}", f"shopify-{name}"}
    for key, value in headers.items():
        if key.lower() in wanted:
            return value
    return ""


def verify(secret: str | None, headers: Mapping[str, str], body: bytes) -> bool:
    given = header(headers, "hmac-sha256")
    if not secret or not given:
        return False
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, given.strip())


def parse(topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    named = header(headers, "topic") or topic
    delivery = header(headers, "webhook-id") or header(headers, "event-id")
    if not delivery:
        raise Rejected("a Shopify webhook carries X-Shopify-Webhook-Id; this one does not")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        raise Rejected(f"the body is not JSON ({str(exc)[:120]})") from None
    if not isinstance(payload, dict):
        raise Rejected("the body is not a JSON object")
    if named in PRIVACY_TOPICS:
        return _privacy(delivery, named, payload)
    found = next((entry for entry in _SUBJECTS if named.startswith(entry[0])), None)
    if found is None:
        return WebhookEvent(delivery_id=delivery, topic=named, subject="other")
    _, subject, key = found
    if subject == "inventory":
        item, location = payload.get("inventory_item_id"), payload.get("location_id")
        return WebhookEvent(
            delivery_id=delivery,
            topic=named,
            subject="inventory",
            subject_id=f"{item}:{location}",
            quantity=_whole(payload.get("available")),
        )
    ident = payload.get(key) if key else ""
    if key == "fulfillment_order":  # {"fulfillment_order": {"id": "gid://…", …}}
        ident = ident.get("id") if isinstance(ident, dict) else None
    return WebhookEvent(
        delivery_id=delivery,
        topic=named,
        subject=subject,
        subject_id=str(ident) if ident is not None else "",
        updated_at=_version(payload) if named.startswith("orders/") else None,
    )


def _version(payload: Mapping[str, object]) -> dt.datetime | None:
    """The order's ``updated_at`` an ``orders/…`` body carries (None: unstamped, or a
    subscription whose ``fields`` left it out; the order is read then)."""
    stamp = payload.get("updated_at")
    if not isinstance(stamp, str):
        return None
    try:
        return mapping.time(stamp)
    except ValueError:
        return None


def _privacy(delivery: str, topic: str, payload: dict[str, object]) -> WebhookEvent:
    """A compliance request: the customer it is about and the orders it covers."""
    if topic == "shop/redact":
        return WebhookEvent(delivery_id=delivery, topic=topic, subject="privacy")
    customer = payload.get("customer")
    ident = customer.get("id") if isinstance(customer, dict) else None
    if not isinstance(ident, int | str) or isinstance(ident, bool) or not str(ident):
        raise Rejected(f"{topic} names no customer id")
    orders = payload.get("orders_to_redact", payload.get("orders_requested")) or []
    if not isinstance(orders, list):
        raise Rejected(f"{topic}: its orders are not a list")
    return WebhookEvent(
        delivery_id=delivery,
        topic=topic,
        subject="privacy",
        subject_id=str(ident),
        refs=tuple(str(o) for o in orders if isinstance(o, int | str)),
    )


def _whole(value: object) -> int | None:
    """An inventory level: a whole number (``5`` or ``5.0``), or None when absent."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():  # finite: 1e400 is inf
        return int(value)
    raise Rejected(f"available is not a whole number ({str(value)[:40]})")


SUBSCRIBE = """mutation Subscribe(
  $topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id }
    userErrors { field message }
  }
}"""
UNSUBSCRIBE = """mutation Unsubscribe($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}"""


def ensure(client: ShopifyClient, topics: Sequence[str], base_url: str) -> list[str]:
    """Create the subscriptions that are missing and return their topics; remove ours
    that point at this plugin's hook path on an address Tradewind no longer answers on
    (its public URL or port changed), so deliveries stop failing there, and ours for a
    topic no longer wanted (its toggle was switched off)."""
    existing = (
        client.rest("GET", "webhooks", operation="webhooks.list", params={"limit": 250})
        .json()
        .get("webhooks", [])
    )
    have = {(hook["topic"], hook["address"]) for hook in existing}
    for hook in existing:
        wanted = f"{base_url}/{hook['topic']}"
        ours = urlsplit(hook["address"]).path == urlsplit(wanted).path
        if ours and (hook["address"] != wanted or hook["topic"] not in topics):
            client.mutate(
                UNSUBSCRIBE,
                {"id": gid("WebhookSubscription", hook["id"])},
                field="webhookSubscriptionDelete",
                operation="webhooks.delete",
                tolerate=("does not exist",),  # gone already
            )
    created = []
    refused = []
    for topic in topics:  # one refused topic does not keep the others unsubscribed
        address = f"{base_url}/{topic}"
        if (topic, address) in have:
            continue
        try:
            client.mutate(
                SUBSCRIBE,
                {
                    "topic": topic.upper().replace("/", "_"),
                    "subscription": {"uri": address, "format": "JSON"},
                },
                field="webhookSubscriptionCreate",
                operation="webhooks.create",
            )
        except Rejected as exc:
            needs = ", ".join(sorted(scopes_of(topic)))
            refused.append(
                f"{topic} at {address}: {exc}" + (f" (it needs {needs})" if needs else "")
            )
            continue
        created.append(topic)
    if refused:
        raise Rejected(
            f"Shopify refused {len(refused)} webhook subscription(s), the others are in "
            f"place: {'; '.join(refused)}. Orders still arrive by the reconciliation poll."
        )
    return created
