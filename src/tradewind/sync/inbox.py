"""Inbound platform webhooks: ``POST /hooks/{plugin_id}/{topic…}``.

Order of checks: size cap (before anything else reads the body), the plugin, the
connector's signature check over the raw bytes, parsing. The delivery is then stored —
de-duplicated by the platform's delivery id — together with its work, in one transaction,
before the 200 goes back. A webhook for an order only names the order: the work is a
re-read of that order by id, coalesced with any other pending re-read of it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from tradewind.connectors.base import ReceivesWebhooks
from tradewind.connectors.errors import ConnectorError
from tradewind.connectors.records import WebhookEvent
from tradewind.core.channels import service as channels
from tradewind.core.channels.models import Plugin, PluginState
from tradewind.db import dialect_insert, utcnow
from tradewind.errors import NotFound
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.models import InboxDelivery, WorkKind
from tradewind.sync.runtime import CallBuffer, open_connector

log = structlog.get_logger(__name__)

_KEPT_HEADERS = ("content-type", "user-agent")
VERIFIER_TTL = 1.0  # seconds a plugin's verifier is trusted before its version is re-read
_PLUGINS = cast(Table, Plugin.__table__)
_VERSION = select(_PLUGINS.c.updated_at).where(_PLUGINS.c.id == bindparam("plugin"))


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    detail: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Checked:
    """A delivery that passed the signature and parsing checks, ready to be stored."""

    plugin_id: int
    topic: str
    headers: dict[str, str]
    body: bytes
    event: WebhookEvent


class Inbox:
    """Accepts webhooks for every plugin. Verifiers are cached per plugin version (checked
    at most once a second), so a burst of deliveries neither rebuilds a connector nor
    decrypts its secret each time."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._verifiers: dict[int, tuple[Any, Any, float]] = {}  # version, verifier, seen
        self._lock = threading.Lock()
        self._insert: Any = None

    def accept(self, plugin_id: int, topic: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Check and store one delivery (a transaction of its own)."""
        checked = self.check(plugin_id, topic, headers, body)
        if isinstance(checked, Answer):
            return checked
        return self.store([checked])[0]

    def check(
        self,
        plugin_id: int,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        verifier: Any = None,
    ) -> Checked | Answer:
        """Size, plugin, signature and shape; an ``Answer`` when the delivery is refused."""
        if len(body) > self.hub.settings.webhook_max_bytes:
            log.warning("webhook refused: too large", plugin=plugin_id, size=len(body))
            return Answer(413, f"body larger than {self.hub.settings.webhook_max_bytes} bytes")
        verifier = verifier or self.verifier(plugin_id)
        if verifier is None:
            return Answer(404, "no such plugin, or it does not receive webhooks")
        if not verifier.verify_webhook(headers, body):
            log.warning("webhook refused: bad signature", plugin=plugin_id, topic=topic)
            self._signature_problem(plugin_id, topic)
            return Answer(401, "signature does not match")
        try:
            event = verifier.parse_webhook(topic, headers, body)
        except (ConnectorError, ValueError) as exc:
            log.warning("webhook refused: malformed", plugin=plugin_id, topic=topic, error=str(exc))
            return Answer(400, f"malformed webhook: {exc}")
        kept = {
            name: value
            for name, value in headers.items()
            if name.lower().startswith(("x-", "shopify-")) or name.lower() in _KEPT_HEADERS
        }
        return Checked(plugin_id, topic[:128], kept, body, event)

    def _signature_problem(self, plugin_id: int, topic: str) -> None:
        """Refused deliveries are silent loss unless someone hears of them: one notification
        per plugin, counting occurrences (a wrong webhook secret shows up at once)."""
        with self.hub.db.unit_of_work() as session:
            notifications.raise_notification(
                session,
                NotificationKind.CONFIGURATION,
                plugin_id=plugin_id,
                subject="webhook signatures",
                message=(
                    f"Webhooks (latest: {topic}) arrived with a signature that does not match "
                    "the plugin's webhook secret and were refused. Check the webhook secret "
                    "(or the app's client secret) in the plugin settings; the reconciliation "
                    "poll keeps orders coming meanwhile."
                ),
            )

    def store(self, deliveries: list[Checked]) -> list[Answer]:
        """Store deliveries and their work in one transaction; a delivery already stored
        (the platform sent it again) adds nothing."""
        answers = []
        with self.hub.db.unit_of_work() as session:
            statement = self._statement(session)
            for item in deliveries:
                event = item.event
                inbox_id = session.execute(
                    statement,
                    {
                        "plugin_id": item.plugin_id,
                        "delivery_id": event.delivery_id[:128],
                        "topic": item.topic,
                        "headers": item.headers,
                        "body": item.body,
                        "received_at": utcnow(),
                        "outcome": "",
                    },
                ).scalar()
                if inbox_id is None:
                    answers.append(Answer(200, "already received", duplicate=True))
                    continue
                if event.subject == "order" and event.subject_id:
                    ledger.enqueue(session, item.plugin_id, WorkKind.IMPORT_ORDER, event.subject_id)
                else:
                    ledger.enqueue(session, item.plugin_id, WorkKind.WEBHOOK, str(inbox_id))
                answers.append(Answer(200, "accepted"))
        return answers

    def _statement(self, session: Session) -> Any:
        """``INSERT … ON CONFLICT DO NOTHING RETURNING id``, built once."""
        if self._insert is None:
            self._insert = (
                dialect_insert(session)(InboxDelivery.__table__)
                .on_conflict_do_nothing(index_elements=["plugin_id", "delivery_id"])
                .returning(InboxDelivery.__table__.c.id)
            )
        return self._insert

    def cached_verifier(self, plugin_id: int) -> Any:
        """The verifier if it was confirmed current within the last second, else None
        (the caller then takes the slower ``verifier`` path, off the event loop)."""
        with self._lock:
            cached = self._verifiers.get(plugin_id)
        if cached is not None and time.monotonic() - cached[2] < VERIFIER_TTL:
            return cached[1]
        return None

    def verifier(self, plugin_id: int) -> Any:
        with self.hub.db.read() as session:  # one indexed look-up
            version = session.execute(_VERSION, {"plugin": plugin_id}).scalar()
        if version is None:
            return None
        with self._lock:
            cached = self._verifiers.get(plugin_id)
            if cached is not None and cached[0] == version:
                self._verifiers[plugin_id] = (version, cached[1], time.monotonic())
                return cached[1]
        with self.hub.db.read() as session:
            try:
                plugin = channels.get_plugin(session, plugin_id)
            except NotFound:
                return None
        if plugin.state is PluginState.INACTIVE and plugin.enabled_at is None:
            return None
        if plugin.connector not in self.hub.registry.connectors:
            return None
        connector = open_connector(self.hub, plugin, CallBuffer())
        if not isinstance(connector, ReceivesWebhooks):
            return None
        with self._lock:
            old = self._verifiers.get(plugin_id)
            self._verifiers[plugin_id] = (version, connector, time.monotonic())
        if old is not None and hasattr(old[1], "close"):
            old[1].close()
        return connector

    def close(self) -> None:
        with self._lock:
            for _, connector, _ in self._verifiers.values():
                if hasattr(connector, "close"):
                    connector.close()
            self._verifiers.clear()


class GroupCommit:
    """Stores deliveries from many concurrent requests in shared transactions.

    Requests hand their checked delivery to one writer thread and wait; the writer takes
    everything queued so far (up to ``batch``), stores it in one transaction and answers
    each request once that transaction is committed. Nothing is acknowledged before it is
    durable, and a burst costs one commit per batch instead of one per delivery.
    """

    def __init__(self, inbox: Inbox, *, batch: int = 256) -> None:
        self.inbox = inbox
        self.batch = batch
        self._queue: queue.SimpleQueue[tuple[Checked, Callable[[Any], None]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def submit(self, checked: Checked) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()

        def resolve(result: Any) -> None:
            loop.call_soon_threadsafe(_settle, future, result)

        self._ensure_started()
        self._queue.put((checked, resolve))
        return await future

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tradewind-intake", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                answers: list[Any] = list(self.inbox.store([checked for checked, _ in batch]))
            except Exception as exc:  # nothing was stored: every request hears so
                log.exception("storing webhooks failed")
                answers = [exc] * len(batch)
            for (_, resolve), answer in zip(batch, answers, strict=True):
                resolve(answer)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None


def _settle(future: asyncio.Future[Answer], result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
