"""Events POSTed to an account's webhooks, as EasyPost sends them.

Each Event becomes one delivery per enabled webhook: the Event's JSON (``result`` holding
the changed object), its bytes fixed once, with the webhook's custom headers and, when the
webhook has a secret, ``X-Hmac-Signature: hmac-sha256-hex=<hex>``: HMAC-SHA256 over those
exact bytes under the UTF-8 of the NFKD-normalised ``webhook_secret``. User and password
in the webhook's URL are sent as Basic auth. A delivery succeeds on any 2xx; otherwise it
is retried with growing delays over about a day (``RETRY_DELAYS``, divided by
``time_scale``), resending the same bytes. Only hosts in ``allowed_hosts`` are contacted
(loopback by default), so a sandbox never posts to the internet unless told to.

The worker runs in its own thread, so a slow receiver never holds up the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx2

from tradewind.sandbox.easypost.state import Doc, Event, State

SIGNATURE_HEADER = "X-Hmac-Signature"
RETRY_DELAYS: tuple[float, ...] = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
TIMEOUT = httpx2.Timeout(10.0, connect=2.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-Hmac-Signature`` for ``body`` under ``secret``."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None = None


@dataclass
class Delivery:
    event_id: str
    description: str
    key: str
    webhook_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> Doc:
        return {
            "event_id": self.event_id,
            "description": self.description,
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
            self._thread = threading.Thread(target=self._run, name="easypost-webhooks", daemon=True)
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
                        event.doc["id"],
                        event.doc["description"],
                        event.key,
                        hook["id"],
                        hook["url"],
                        body,
                        headers,
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
            response = client.post(delivery.url, content=delivery.body, headers=delivery.headers)
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
        delay = RETRY_DELAYS[retries_used] / self.time_scale
        timer = threading.Timer(delay, self._queue.put, args=(delivery,))
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
