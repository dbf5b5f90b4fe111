"""Sending a service sandbox's webhook deliveries, the way the EasyPost, Shippo and
ShipStation sandboxes all do: each delivery is POSTed from a worker thread of its own (so
a slow receiver never holds up the API), succeeds on any 2xx, and is otherwise retried
after the service's ``retry_delays`` (divided by ``time_scale``), resending the same bytes
with the same headers, until it gives up as ``failed``. Only hosts in ``allowed_hosts``
are contacted (loopback by default; None: any), so a sandbox never posts to the internet
unless told to; another host's delivery is logged as ``skipped``.

What a delivery says, where it goes and how it is signed is each service's own: it
builds its ``Delivery`` subclass (with the fields its control API lists) and hands the
deliveries to ``Outbox.send``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx2

TIMEOUT = httpx2.Timeout(10.0, connect=2.0)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Attempt:
    at: str
    status: int | None
    error: str | None = None


@dataclass(kw_only=True)
class Delivery:
    """One webhook delivery: its bytes fixed once, and every attempt to send them."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)

    def attempts_shown(self) -> list[dict[str, Any]]:
        return [attempt.__dict__ for attempt in self.attempts]


D = TypeVar("D", bound=Delivery)


class Outbox(Generic[D]):
    """The deliveries of one sandbox: ``send`` them, ``wait_idle`` until each has
    succeeded or given up, ``recent`` lists them oldest first."""

    def __init__(
        self,
        *,
        name: str,
        retry_delays: tuple[float, ...],
        time_scale: float = 1.0,
        allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
    ) -> None:
        self.name = name
        self.retry_delays = retry_delays
        self.time_scale = time_scale
        self.allowed_hosts = allowed_hosts
        self.log: list[D] = []
        self._queue: queue.Queue[D | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
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

    def send(self, deliveries: Iterable[D]) -> None:
        for delivery in deliveries:
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

    def recent(self) -> list[D]:
        with self._idle:
            return list(self.log)

    def _run(self) -> None:
        with httpx2.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            while not self._stop.is_set():
                delivery = self._queue.get()
                if delivery is None:
                    return
                self._attempt(client, delivery)

    def _attempt(self, client: httpx2.Client, delivery: D) -> None:
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
        if retries_used >= len(self.retry_delays):
            delivery.state = "failed"
            self._done()
            return
        delay = self.retry_delays[retries_used] / self.time_scale
        timer = threading.Timer(delay, self._queue.put, args=(delivery,))
        timer.daemon = True
        timer.start()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
