"""Webhooks from Fake Market: the base64 HMAC-SHA256 signature over the raw body, and what
a delivery is about (the engine re-reads the order by id, so the subject is enough)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from pydantic import SecretStr

from tradewind.connectors import Rejected, WebhookEvent


def verify(secret: SecretStr | None, headers: Mapping[str, str], body: bytes) -> bool:
    given = header(headers, "x-fake-signature")
    if secret is None or not given:
        return False
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), given)


def parse(topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    delivery = header(headers, "x-fake-delivery")
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        raise Rejected(f"the body is not JSON ({exc.msg})") from None
    if not delivery or not isinstance(payload, dict):
        raise Rejected("a Fake Market webhook has a delivery id and a JSON object body")
    if topic.startswith("app/"):
        return WebhookEvent(delivery_id=delivery, topic=topic, subject="app")
    return WebhookEvent(
        delivery_id=delivery,
        topic=topic,
        subject="order",
        subject_id=str(payload.get("order_id", "")),
    )


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by its lower-case name, however the server spelled it."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""
