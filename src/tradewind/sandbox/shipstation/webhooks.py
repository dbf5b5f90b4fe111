"""Webhook deliveries as ShipStation V1 sends them: thin and unsigned.

A notice becomes one delivery per active subscription of its event (and of its store,
when the subscription names one): ``POST`` of ``{"resource_url", "resource_type"}``,
where ``resource_url`` points back at this sandbox
(``<base>/shipments?batchId=N&includeShipmentItems=False``) and is fetched with the
account's Basic credentials. Nothing signs the body: V1 has no signature. A delivery
succeeds on any 2xx; otherwise it is retried with growing delays (``RETRY_DELAYS``,
divided by ``time_scale``). Only hosts in ``allowed_hosts`` are contacted (loopback by
default), so a sandbox never posts to the internet unless told to.

The worker runs in its own thread, so a slow receiver never holds up the API; sending
and retrying are every service sandbox's (``sandbox/webhooks.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tradewind.sandbox import webhooks as sending
from tradewind.sandbox.shipstation.ops import Notice
from tradewind.sandbox.shipstation.state import Doc, State
from tradewind.sandbox.webhooks import LOOPBACK_HOSTS

__all__ = [
    "LOOPBACK_HOSTS",
    "RESOURCE_PATHS",
    "RETRY_DELAYS",
    "Delivery",
    "WebhookWorker",
    "resource_url",
]

RETRY_DELAYS: tuple[float, ...] = (60, 120, 300, 900, 1800, 3600)
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
RESOURCE_PATHS = {
    "SHIP_NOTIFY": "/shipments?batchId={batch}&includeShipmentItems=False",
    "ITEM_SHIP_NOTIFY": "/shipments?batchId={batch}&includeShipmentItems=True",
}


def resource_url(base_url: str, event: str, batch_id: int) -> str:
    return base_url + RESOURCE_PATHS[event].format(batch=batch_id)


@dataclass(kw_only=True)
class Delivery(sending.Delivery):
    key: str
    webhook_id: int
    headers: dict[str, str] = field(default_factory=lambda: dict(HEADERS))

    def as_dict(self) -> Doc:
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "state": self.state,
            "attempts": self.attempts_shown(),
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
            name="shipstation-webhooks",
            retry_delays=RETRY_DELAYS,
            time_scale=time_scale,
            allowed_hosts=allowed_hosts,
        )
        self.state = state

    def publish(self, notices: list[Notice], base_url: str) -> None:
        for notice in notices:
            self.send(self._deliveries(notice, base_url))

    def _deliveries(self, notice: Notice, base_url: str) -> list[Delivery]:
        made = []
        with self.state.lock:
            account = self.state.accounts.get(notice.key)
            if account is None:
                return []
            for hook in account.webhooks.values():
                # A shipment notice reaches SHIP_NOTIFY and ITEM_SHIP_NOTIFY alike; the
                # latter's resource URL asks for the shipment items.
                if not hook["Active"] or hook["HookType"] not in RESOURCE_PATHS:
                    continue
                if notice.event not in RESOURCE_PATHS:
                    continue
                if hook["StoreID"] is not None and hook["StoreID"] != notice.store_id:
                    continue
                body = {
                    "resource_url": resource_url(base_url, hook["HookType"], notice.batch_id),
                    "resource_type": hook["HookType"],
                }
                made.append(
                    Delivery(
                        key=notice.key,
                        webhook_id=hook["WebHookID"],
                        url=hook["Url"],
                        body=json.dumps(body, separators=(",", ":")).encode(),
                    )
                )
        return made
