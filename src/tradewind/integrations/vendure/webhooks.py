"""Events from the companion Vendure plugin (``vendure-plugin/tradewind-plugin.js``):
Standard Webhooks signatures, and what each topic is about.

The plugin signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 keyed by the
plugin's ``whsec_…`` secret; a delivery older or newer than five minutes is refused, so a
captured request cannot be replayed later. The body names the order or variant only: the
engine re-reads the order through the Admin API.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tradewind.connectors import Rejected, WebhookEvent, WebhookSubject
from tradewind.integrations.vendure.mapping import when

# topic → (subject, the payload key naming it)
TOPICS: Mapping[str, tuple[WebhookSubject, str]] = MappingProxyType(
    {
        "order/placed": ("order", "orderId"),
        "order/state-changed": ("order", "orderId"),
        "order/refunded": ("order", "orderId"),
        "stock/adjusted": ("inventory", "productVariantId"),
    }
)


def verify(secret: bytes | None, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether ``body`` carries a valid, current Standard Webhooks signature."""
    if not secret:
        return False
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        # ValueError covers a body that is not UTF-8 and a malformed signature list.
        return False
    return True


def parse(
    topic: str, headers: Mapping[str, str], body: bytes, *, channel_token: str = ""
) -> WebhookEvent:
    """What a delivery is about. The delivery id is read from the body as well as the
    header: the engine keeps only some headers when it parses a stored delivery later."""
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        raise Rejected(f"the body is not JSON ({str(exc)[:120]})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise Rejected("a Tradewind plugin event is a JSON object with a data object")
    delivery = str(payload.get("id") or _header(headers, "webhook-id"))
    if not delivery:
        raise Rejected("the event has no id")
    data: dict[str, Any] = payload["data"]
    kind = str(payload.get("type") or topic)
    stamp = payload.get("timestamp")
    try:
        occurred = when(stamp) if isinstance(stamp, str) else None
    except ValueError:
        raise Rejected(f"the timestamp is not ISO 8601 ({str(stamp)[:40]!r})") from None
    subject, key = TOPICS.get(kind, ("other", ""))
    if channel_token and data.get("channelToken") not in (None, channel_token):
        subject, key = "other", ""  # another Vendure channel's business
    subject_id = str(data.get(key) or "") if key else ""
    quantity: int | None = None
    if subject == "inventory":
        # The engine's inventory subject: "<item ref>:<location ref>", and the level now
        # held there in the same terms Tradewind pushes (what Vendure can sell).
        subject_id = f"{subject_id}:{data.get('stockLocationId') or ''}"
        on_hand, allocated = data.get("stockOnHand"), data.get("stockAllocated")
        if isinstance(on_hand, int) and isinstance(allocated, int):
            quantity = on_hand - allocated
    return WebhookEvent(
        delivery_id=delivery,
        topic=kind,
        subject=subject,
        subject_id=subject_id,
        occurred_at=occurred,
        quantity=quantity,
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""
