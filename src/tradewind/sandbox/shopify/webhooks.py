"""Outgoing webhooks, delivered as Shopify delivers them.

A change in a shop becomes one delivery per matching subscription: a POST of the topic's
REST document (trimmed to the subscription's ``fields``), with every ``X-Shopify-*``
header and a base64 HMAC-SHA256 of the exact body bytes under the app's client secret.
A delivery succeeds on any 2xx within 5 s (1 s to connect); otherwise it is retried 8
times with exponential backoff over about 4 hours, resending the same bytes and the same
``X-Shopify-Webhook-Id``. When the 8th retry fails, a subscription created through the
API is deleted. ``time_scale`` divides every delay so tests can run the schedule in
seconds.

The worker runs its own event loop in a background thread so that a slow receiver never
delays the API.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx2

from tradewind.sandbox.shopify import webhook_filter
from tradewind.sandbox.shopify.faults import FaultKind, Faults
from tradewind.sandbox.shopify.ops.base import Event
from tradewind.sandbox.shopify.state import Doc, SandboxState, Subscription

TOPICS: frozenset[str] = frozenset(
    {
        "app/uninstalled",
        "app/scopes_update",
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/delete",
        "orders/edited",
        "products/create",
        "products/update",
        "products/delete",
        "inventory_levels/update",
        "inventory_levels/connect",
        "inventory_levels/disconnect",
        "inventory_items/create",
        "inventory_items/update",
        "inventory_items/delete",
        "refunds/create",
        "fulfillments/create",
        "fulfillments/update",
        "fulfillment_events/create",
        "fulfillment_orders/placed_on_hold",
        "fulfillment_orders/hold_released",
        "customers/create",
        "customers/update",
        "customers/delete",
        "shop/update",
        "bulk_operations/finish",
    }
)

# Read scope a subscription's owner needs for each topic family (as Shopify checks).
TOPIC_SCOPES: dict[str, str | None] = {
    "app": None,
    "shop": None,
    "bulk_operations": None,
    "orders": "read_orders",
    "refunds": "read_orders",
    "products": "read_products",
    "inventory_levels": "read_inventory",
    "inventory_items": "read_inventory",
    "fulfillments": "read_fulfillments",
    "fulfillment_events": "read_fulfillments",
    "fulfillment_orders": "read_merchant_managed_fulfillment_orders",
    "customers": "read_customers",
}


def topic_enum(topic: str) -> str:
    """``orders/paid`` -> ``ORDERS_PAID`` (GraphQL's WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


ENUM_TOPICS: dict[str, str] = {topic_enum(t): t for t in TOPICS}

RETRIES = 8
FIRST_RETRY_SECONDS = 56.25  # doubling: 56 s … 2 h; the 8 retries span about 4 hours
RETRY_DELAYS: tuple[float, ...] = tuple(FIRST_RETRY_SECONDS * 2**n for n in range(RETRIES))
TIMEOUT = httpx2.Timeout(5.0, connect=1.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def sign(secret: str, body: bytes) -> str:
    """Shopify's webhook signature: base64 of HMAC-SHA256 over the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def triggered_at(moment: datetime) -> str:
    """ISO 8601 in UTC with nanoseconds, as in Shopify's delivery example."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None = None


@dataclass
class Delivery:
    webhook_id: str
    event_id: str
    shop: str
    topic: str
    subscription_id: int
    address: str
    body: bytes
    headers: dict[str, str]
    state: str = "pending"  # pending | delivered | failed | dropped | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> Doc:
        return {
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "shop": self.shop,
            "topic": self.topic,
            "subscription_id": self.subscription_id,
            "address": self.address,
            "state": self.state,
            "attempts": [a.__dict__ for a in self.attempts],
            "body": json.loads(self.body),
        }


def select(payload: Doc, fields: list[str]) -> Doc:
    if not fields:
        return payload
    return {k: v for k, v in payload.items() if k in fields}


def direct_delivery(
    shop: str,
    topic: str,
    payload: Doc,
    address: str,
    secret: str,
    domain: str,
    version: str,
    event_id: str | None = None,
) -> Delivery:
    """A delivery with Shopify's headers and signature (``subscription_id`` 0: none)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    webhook_id = str(uuid.uuid4())
    event_id = event_id or str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-API-Version": version,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": triggered_at(datetime.now(UTC)),
        "X-Shopify-Event-Id": event_id,
    }
    return Delivery(webhook_id, event_id, shop, topic, 0, address, body, headers)


class WebhookWorker:
    def __init__(
        self,
        state: SandboxState,
        faults: Faults,
        time_scale: float = 1.0,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
    ) -> None:
        self.state = state
        self.faults = faults
        self.time_scale = time_scale
        self.allowed_hosts = allowed_hosts
        self.timeout = TIMEOUT
        self.log: collections.deque[Delivery] = collections.deque(maxlen=10_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._backlog: list[Delivery] = []
        self._held: dict[str, list[Delivery]] = {}
        self._inflight = 0
        self._idle = threading.Condition()
        self._client: httpx2.AsyncClient | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._client = httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._client.aclose())
            loop.close()

        self._thread = threading.Thread(target=run, name="sandbox-webhooks", daemon=True)
        self._thread.start()
        ready.wait()
        with self._idle:
            backlog, self._backlog = self._backlog, []
        for delivery in backlog:
            self._schedule(delivery, 0.0)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = None
        self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is pending or retrying (for tests and the demo)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    # --- publishing ---------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        for event in events:
            for delivery in self._deliveries(event):
                self.log.append(delivery)
                self._enqueue(delivery)

    def _deliveries(self, event: Event) -> list[Delivery]:
        with self.state.lock:
            shop = self.state.shop(event.shop)
            if shop is None:
                return []
            subs = [
                s
                for s in shop.subscriptions.values()
                if s.topic == event.topic and webhook_filter.matches(s.filter, event.payload)
            ]
            if (
                event.topic == "inventory_levels/update"
                and not shop.settings.echo_own_inventory_updates
            ):
                subs = [s for s in subs if s.app_key != event.actor]
            if event.topic == "bulk_operations/finish":  # only the app that ran it hears
                subs = [s for s in subs if s.app_key == event.actor]
            event_id = str(uuid.uuid4())
            made = []
            for sub in subs:
                app = self.state.apps.get(sub.app_key)
                if app is None:
                    continue
                made.append(self._build(sub, app.api_secret, event, event_id, shop.settings.domain))
            return made

    def _build(
        self, sub: Subscription, secret: str, event: Event, event_id: str, domain: str
    ) -> Delivery:
        delivery = direct_delivery(
            event.shop,
            sub.topic,
            select(event.payload, sub.fields),
            sub.address,
            secret,
            domain,
            sub.api_version,
            event_id,
        )
        delivery.subscription_id = sub.id
        if sub.name:
            delivery.headers["X-Shopify-Name"] = sub.name
        return delivery

    def send(self, delivery: Delivery, delay: float = 0.0) -> None:
        """A delivery no subscription asked for (the compliance topics), ``delay``
        seconds of sandbox time from now."""
        self.log.append(delivery)
        self._enqueue(delivery, delay / self.time_scale)

    def _enqueue(self, delivery: Delivery, delay: float = 0.0) -> None:
        if not delivery.address.startswith(("http://", "https://")):
            delivery.state = "skipped"  # pubsub:// and EventBridge ARNs leave no trace here
            return
        host = urlsplit(delivery.address).hostname or ""
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            delivery.state = "skipped"
            delivery.attempts.append(Attempt(_now(), None, f"host {host} is not allowed"))
            return
        if self.faults.take(delivery.shop, (FaultKind.drop_webhooks,)) is not None:
            delivery.state = "dropped"
            return
        copies = 2 if self.faults.take(delivery.shop, (FaultKind.duplicate_webhooks,)) else 1
        reorder = self.faults.take(delivery.shop, (FaultKind.reorder_webhooks,))
        with self._idle:
            self._inflight += copies
        if reorder is not None:
            held = self._held.setdefault(delivery.shop, [])
            held.append(delivery)
            if reorder.count:  # more of the window to come
                return
            self._held[delivery.shop] = []
            self._start_in_order(list(reversed(held)))
            return
        self._start(delivery, copies, delay)

    def _start(self, delivery: Delivery, copies: int, delay: float = 0.0) -> None:
        for _ in range(copies):
            if self._loop is None:
                with self._idle:
                    self._backlog.append(delivery)
            else:
                self._schedule(delivery, delay)

    def _start_in_order(self, deliveries: list[Delivery]) -> None:
        """Send one after another (each finished, retries included, before the next)."""
        loop = self._loop
        if loop is None:
            with self._idle:
                self._backlog.extend(deliveries)
            return

        async def in_order() -> None:
            for delivery in deliveries:
                await self._attempt(delivery, 0.0)

        def go() -> None:
            task = asyncio.ensure_future(in_order())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        loop.call_soon_threadsafe(go)

    def _schedule(self, delivery: Delivery, delay: float) -> None:
        loop = self._loop
        assert loop is not None

        def go() -> None:
            task = asyncio.ensure_future(self._attempt(delivery, delay))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)

        loop.call_soon_threadsafe(go)

    # --- sending ------------------------------------------------------------------------

    async def _attempt(self, delivery: Delivery, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        assert self._client is not None
        try:
            response = await self._client.post(
                delivery.address,
                content=delivery.body,
                headers=delivery.headers,
                timeout=self.timeout,
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
        if retries_used < RETRIES:
            await self._attempt(delivery, RETRY_DELAYS[retries_used] / self.time_scale)
            return
        delivery.state = "failed"
        self._give_up(delivery)
        self._done()

    def _give_up(self, delivery: Delivery) -> None:
        with self.state.lock:
            shop = self.state.shop(delivery.shop)
            if shop is None:
                return
            sub = shop.subscriptions.get(delivery.subscription_id)
            if sub is not None and sub.created_by_api:
                shop.subscriptions.delete(sub.id)

    def _done(self) -> None:
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def flush_held(self) -> None:
        """Release deliveries held for reordering (when a fault is cleared early)."""
        held, self._held = self._held, {}
        for items in held.values():
            self._start_in_order(list(reversed(items)))

    def recent(self, shop: str | None = None, limit: int = 200) -> list[Delivery]:
        found = [d for d in self.log if shop is None or d.shop == shop]
        return found[-limit:]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
