"""Events POSTed to an account's webhooks, as Shippo sends them.

Each event becomes one delivery per active webhook whose ``event`` matches (or is
``all``) and whose ``is_test`` matches the event's mode. The body is ``{event, test,
data}`` with the Transaction or Track as ``data``, its bytes fixed once. Shippo does not
sign by default: merchants put a secret ``?token=…`` in the URL, and the URL is used
exactly as registered. With ``secret`` set (the opt-in HMAC Shippo enables on request),
each delivery also carries ``Shippo-Auth-Signature: t=<timestamp>,v1=<hex>``, the hex
HMAC-SHA256 of ``<timestamp>.<body>`` (``timestamp``: the sandbox clock's second); that
format comes from third-party SDKs and is unverified against Shippo's own docs.

A 2xx ends a delivery; anything else is retried after ``RETRY_DELAYS`` (divided by
``time_scale``). Only ``allowed_hosts`` (loopback by default) are contacted. Sending and
retrying are every service sandbox's (``sandbox/webhooks.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from tradewind.sandbox import webhooks as sending
from tradewind.sandbox.shippo.state import Doc, Event, State
from tradewind.sandbox.webhooks import LOOPBACK_HOSTS

__all__ = [
    "LOOPBACK_HOSTS",
    "RETRY_DELAYS",
    "SIGNATURE_HEADER",
    "Delivery",
    "WebhookWorker",
    "sign",
]

SIGNATURE_HEADER = "Shippo-Auth-Signature"
RETRY_DELAYS: tuple[float, ...] = (30, 120, 600, 3600, 4 * 3600)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The opt-in ``Shippo-Auth-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(kw_only=True)
class Delivery(sending.Delivery):
    event: str
    webhook_id: str

    def as_dict(self) -> Doc:
        return {
            "event": self.event,
            "webhook_id": self.webhook_id,
            "url": self.url,
            "state": self.state,
            "attempts": self.attempts_shown(),
            "headers": self.headers,
            "body": json.loads(self.body),
        }


class WebhookWorker(sending.Outbox[Delivery]):
    def __init__(
        self,
        state: State,
        time_scale: float = 1.0,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        secret: str | None = None,
    ) -> None:
        super().__init__(
            name="shippo-webhooks",
            retry_delays=RETRY_DELAYS,
            time_scale=time_scale,
            allowed_hosts=allowed_hosts,
        )
        self.state = state
        self.secret = secret

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.send(self._deliveries(event))

    def _deliveries(self, event: Event) -> list[Delivery]:
        doc = {"event": event.event, "test": event.test, "data": event.data}
        body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        with self.state.lock:
            account = self.state.accounts.get(event.token)
            hooks = list(account.webhooks.values()) if account else []
        made = []
        for hook in hooks:
            if not hook["active"] or hook["event"] not in (event.event, "all"):
                continue
            if bool(hook["is_test"]) != event.test:
                continue
            headers = {"Content-Type": "application/json"}
            if self.secret:
                headers[SIGNATURE_HEADER] = sign(self.secret, int(self.state.clock()), body)
            made.append(
                Delivery(
                    event=event.event,
                    webhook_id=hook["object_id"],
                    url=hook["url"],
                    body=body,
                    headers=headers,
                )
            )
        return made
