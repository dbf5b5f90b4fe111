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
``time_scale``). Only ``allowed_hosts`` (loopback by default) are contacted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx2

from tradewind.sandbox.shippo.state import Doc, Event, State

SIGNATURE_HEADER = "Shippo-Auth-Signature"
RETRY_DELAYS: tuple[float, ...] = (30, 120, 600, 3600, 4 * 3600)
TIMEOUT = httpx2.Timeout(10.0, connect=2.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The opt-in ``Shippo-Auth-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None = None


@dataclass
class Delivery:
    event: str
    webhook_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> Doc:
        return {
            "event": self.event,
            "webhook_id": self.webhook_id,
            "url": self.url,
            "state": self.state,
            "attempts": [a.__dict__ for a in self.attempts],
            "headers": self.headers,
            "body": json.loads(self.body),
        }


class WebhookWorker:
    def __init__(
        self,
        state: State,
        time_scale: float = 1.0,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        secret: str | None = None,
    ) -> None:
        self.state = state
        self.time_scale = time_scale
        self.allowed_hosts = allowed_hosts
        self.secret = secret
        self.log: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shippo-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def publish(self, events: list[Event]) -> None:
        for event in events:
            for delivery in self._deliveries(event):
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
            made.append(Delivery(event.event, hook["object_id"], hook["url"], body, headers))
        return made

    def _run(self) -> None:
        with httpx2.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            while True:
                delivery = self._queue.get()
                if delivery is None:
                    return
                self._attempt(client, delivery)

    def _attempt(self, client: httpx2.Client, delivery: Delivery) -> None:
        try:
            response = client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            ok = 200 <= response.status_code < 300
            delivery.attempts.append(Attempt(_now(), response.status_code))
        except httpx2.HTTPError as exc:
            ok = False
            delivery.attempts.append(Attempt(_now(), None, type(exc).__name__))
        retries = len(delivery.attempts) - 1
        if ok or retries >= len(RETRY_DELAYS):
            delivery.state = "delivered" if ok else "failed"
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            return
        timer = threading.Timer(
            RETRY_DELAYS[retries] / self.time_scale, self._queue.put, args=(delivery,)
        )
        timer.daemon = True
        timer.start()

    def recent(self) -> list[Delivery]:
        with self._idle:
            return list(self.log)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
