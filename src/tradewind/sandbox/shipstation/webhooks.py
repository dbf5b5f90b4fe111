"""Webhook deliveries as ShipStation V1 sends them: thin and unsigned.

A notice becomes one delivery per active subscription of its event (and of its store,
when the subscription names one): ``POST`` of ``{"resource_url", "resource_type"}``,
where ``resource_url`` points back at this sandbox
(``<base>/shipments?batchId=N&includeShipmentItems=False``) and is fetched with the
account's Basic credentials. Nothing signs the body: V1 has no signature. A delivery
succeeds on any 2xx; otherwise it is retried with growing delays (``RETRY_DELAYS``,
divided by ``time_scale``). Only hosts in ``allowed_hosts`` are contacted (loopback by
default), so a sandbox never posts to the internet unless told to.

The worker runs in its own thread, so a slow receiver never holds up the API.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx2

from tradewind.sandbox.shipstation.ops import Notice
from tradewind.sandbox.shipstation.state import Doc, State

RETRY_DELAYS: tuple[float, ...] = (60, 120, 300, 900, 1800, 3600)
TIMEOUT = httpx2.Timeout(10.0, connect=2.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RESOURCE_PATHS = {
    "SHIP_NOTIFY": "/shipments?batchId={batch}&includeShipmentItems=False",
    "ITEM_SHIP_NOTIFY": "/shipments?batchId={batch}&includeShipmentItems=True",
}


def resource_url(base_url: str, event: str, batch_id: int) -> str:
    return base_url + RESOURCE_PATHS[event].format(batch=batch_id)


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None = None


@dataclass
class Delivery:
    key: str
    webhook_id: int
    url: str
    body: bytes
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> Doc:
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "state": self.state,
            "attempts": [a.__dict__ for a in self.attempts],
            "body": json.loads(self.body),
        }


class WebhookWorker:
    def __init__(
        self,
        state: State,
        time_scale: float = 1.0,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
    ) -> None:
        self.state = state
        self.time_scale = time_scale
        self.allowed_hosts = allowed_hosts
        self.log: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="shipstation-webhooks", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every delivery has succeeded or given up."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def publish(self, notices: list[Notice], base_url: str) -> None:
        for notice in notices:
            for delivery in self._deliveries(notice, base_url):
                with self._idle:
                    self.log.append(delivery)
                host = urlsplit(delivery.url).hostname or ""
                if self.allowed_hosts is not None and host not in self.allowed_hosts:
                    delivery.state = "skipped"
                    delivery.attempts.append(Attempt(_now(), None, f"host {host} is not allowed"))
                    continue
                with self._idle:
                    self._pending += 1
                self._queue.put(delivery)

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
                        notice.key,
                        hook["WebHookID"],
                        hook["Url"],
                        json.dumps(body, separators=(",", ":")).encode(),
                    )
                )
        return made

    def _run(self) -> None:
        with httpx2.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            while not self._stop.is_set():
                delivery = self._queue.get()
                if delivery is None:
                    return
                self._attempt(client, delivery)

    def _attempt(self, client: httpx2.Client, delivery: Delivery) -> None:
        try:
            response = client.post(
                delivery.url,
                content=delivery.body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            ok = 200 <= response.status_code < 300
            delivery.attempts.append(Attempt(_now(), response.status_code))
        except httpx2.HTTPError as exc:
            ok = False
            delivery.attempts.append(Attempt(_now(), None, type(exc).__name__))
        if ok:
            delivery.state = "delivered"
            self._done()
            return
        retries_used = len(delivery.attempts) - 1
        if retries_used >= len(RETRY_DELAYS):
            delivery.state = "failed"
            self._done()
            return
        timer = threading.Timer(
            RETRY_DELAYS[retries_used] / self.time_scale, self._queue.put, args=(delivery,)
        )
        timer.daemon = True
        timer.start()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def recent(self) -> list[Delivery]:
        with self._idle:
            return list(self.log)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
