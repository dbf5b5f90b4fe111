"""Events POSTed to an account's webhooks, as EasyPost sends them.

Each Event becomes one delivery per enabled webhook: the Event's JSON (``result`` holding
the changed object), its bytes fixed once, with the webhook's custom headers and, when the
webhook has a secret, ``X-Hmac-Signature: hmac-sha256-hex=<hex>``: HMAC-SHA256 over those
exact bytes under the UTF-8 of the NFKD-normalised ``webhook_secret``. User and password
in the webhook's URL are sent as Basic auth. A delivery succeeds on any 2xx; otherwise it
is retried with growing delays over about a day (``RETRY_DELAYS``, divided by
``time_scale``), resending the same bytes. Only hosts in ``allowed_hosts`` are contacted
(loopback by default), so a sandbox never posts to the internet unless told to.

The worker runs in its own thread, so a slow receiver never holds up the API; sending
and retrying are every service sandbox's (``sandbox/webhooks.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass

from tradewind.sandbox import webhooks as sending
from tradewind.sandbox.easypost.state import Doc, Event, State
from tradewind.sandbox.webhooks import LOOPBACK_HOSTS

__all__ = [
    "LOOPBACK_HOSTS",
    "RETRY_DELAYS",
    "SIGNATURE_HEADER",
    "Delivery",
    "WebhookWorker",
    "sign",
]

SIGNATURE_HEADER = "X-Hmac-Signature"
RETRY_DELAYS: tuple[float, ...] = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-Hmac-Signature`` for ``body`` under ``secret``."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(kw_only=True)
class Delivery(sending.Delivery):
    event_id: str
    description: str
    key: str
    webhook_id: str

    def as_dict(self) -> Doc:
        return {
            "event_id": self.event_id,
            "description": self.description,
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
    ) -> None:
        super().__init__(
            name="easypost-webhooks",
            retry_delays=RETRY_DELAYS,
            time_scale=time_scale,
            allowed_hosts=allowed_hosts,
        )
        self.state = state

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.send(self._deliveries(event))

    def _deliveries(self, event: Event) -> list[Delivery]:
        body = json.dumps(event.doc, separators=(",", ":"), ensure_ascii=False).encode()
        with self.state.lock:
            account = self.state.accounts.get(event.key)
            if account is None:
                return []
            made = []
            for hook in account.webhooks.values():
                if hook["disabled_at"] is not None:
                    continue
                headers = {"Content-Type": "application/json"}
                for custom in hook["custom_headers"]:
                    headers[custom["name"]] = custom["value"]
                secret = account.secrets.get(hook["id"])
                if secret:
                    headers[SIGNATURE_HEADER] = sign(secret, body)
                made.append(
                    Delivery(
                        event_id=event.doc["id"],
                        description=event.doc["description"],
                        key=event.key,
                        webhook_id=hook["id"],
                        url=hook["url"],
                        body=body,
                        headers=headers,
                    )
                )
            return made
