"""Inbound platform webhooks: ``POST /hooks/{plugin_id}/{topic…}``.

Order of checks: size cap (before anything else reads the body), the plugin, the
connector's signature check over the raw bytes, parsing. The delivery is then stored —
de-duplicated by the platform's delivery id — together with its work, in one transaction,
before the 200 goes back. A webhook for an order becomes that order's import, coalesced
with any other pending one: from the delivered body when it carries the order whole and
new enough, else a re-read by id (``order_work``).

Unauthenticated traffic costs no write and no I/O on the event loop: a refused signature
is counted in memory and told (one notification per plugin, counting occurrences) at
most once a minute, from a thread of its own (``SignatureAlarm``). Whatever a signed body
holds, reading it is ``read_event``: anything unreadable is a 400, never a 500.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from tradewind.connectors.base import ReceivesWebhooks, WebhookHeaders
from tradewind.connectors.errors import ConnectorError, Rejected
from tradewind.connectors.records import WebhookEvent
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.db import dialect_insert, unavailable, utcnow
from tradewind.errors import NotFound
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.models import InboxDelivery, SyncWork, WorkKind
from tradewind.sync.runtime import CallBuffer, open_connector

log = structlog.get_logger(__name__)

_KEPT_HEADERS = ("content-type", "user-agent")
VERIFIER_TTL = 1.0  # seconds a plugin's verifier is trusted before its version is re-read
ALARM_SECONDS = 60.0  # a plugin's bad-signature notification is written at most this often
# The widest id Tradewind stores: the inbox's delivery id and the ledger's work key.
MAX_ID_LENGTH = min(
    cast(Any, InboxDelivery.__table__.c.delivery_id.type).length,
    cast(Any, SyncWork.__table__.c.key.type).length,
)
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


def read_event(
    connector: ReceivesWebhooks, topic: str, headers: Mapping[str, str], body: bytes
) -> WebhookEvent:
    """What a signed delivery says, or ``Rejected``: the one reading of a webhook body, at
    intake and again when stored work reads it later. A signature proves who sent the
    bytes, not that they can be read: whatever a connector raises on them (nesting deeper
    than the parser recurses, ``1e400``, a list where an object belongs) is the body's
    fault, never a 500. Ids longer than Tradewind stores are refused here, before an
    insert can fail on them."""
    try:
        found = connector.parse_webhook(topic, headers, body)
    except Rejected:
        raise
    except Exception as exc:  # the body is untrusted input; a connector may trip on it
        raise Rejected(f"the body cannot be read ({type(exc).__name__}: {exc})"[:300]) from exc
    for name, value in (("delivery", found.delivery_id), (found.subject, found.subject_id)):
        if len(value) > MAX_ID_LENGTH:
            raise Rejected(f"the {name} id is longer than {MAX_ID_LENGTH} characters")
    return found


def order_work(
    session: Session, plugin_id: int, event: WebhookEvent, inbox_id: int, body: bytes
) -> None:
    """A delivery about an order becomes its import (coalesced with any pending one). A
    body stamped with the order's version is imported as it is when it is whole and no
    older than what Tradewind holds (the handler judges); pending work keeps the newest
    version delivered (``ledger.fresher``). A body that only names the order (a refund,
    a fulfilment, a hold's release) asks for a re-read, which no body displaces."""
    if event.updated_at is None:
        payload: dict[str, Any] = {ledger.REREAD: "1"}
    else:
        payload = {
            ledger.VERSION: event.updated_at.astimezone(dt.UTC).isoformat(),
            ledger.DIGEST: hashlib.sha256(body).hexdigest()[:32],
            INBOX: inbox_id,
        }
    ledger.enqueue(session, plugin_id, WorkKind.IMPORT_ORDER, event.subject_id, payload=payload)


INBOX = "inbox"  # an order import's payload: the stored delivery that carries the order


class Inbox:
    """Accepts webhooks for every plugin. Verifiers are cached per plugin version (checked
    at most once a second), so a burst of deliveries neither rebuilds a connector nor
    decrypts its secret each time."""

    def __init__(self, hub: Hub, *, alarm: SignatureAlarm | None = None) -> None:
        self.hub = hub
        self.alarm = alarm or SignatureAlarm(hub)
        self._verifiers: dict[int, tuple[Any, Any, float]] = {}  # version, verifier, seen
        self._lock = threading.Lock()
        self._insert: Any = None

    def accept(
        self,
        plugin_id: int,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        query: Mapping[str, str] | None = None,
    ) -> Answer:
        """Check and store one delivery (a transaction of its own)."""
        checked = self.check(plugin_id, topic, headers, body, query=query)
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
        *,
        query: Mapping[str, str] | None = None,
    ) -> Checked | Answer:
        """Size, plugin, signature and shape; an ``Answer`` when the delivery is refused.
        ``query`` is the delivery URL's, for a verifier that reads a token there."""
        if len(body) > self.hub.settings.webhook_max_bytes:
            log.warning("webhook refused: too large", plugin=plugin_id, size=len(body))
            return Answer(413, f"body larger than {self.hub.settings.webhook_max_bytes} bytes")
        try:
            verifier = verifier or self.verifier(plugin_id)
        except plugins.CredentialsUnreadable:  # the plugin is paused for it, and says so
            return Answer(503, "this plugin's stored credentials cannot be decrypted now")
        if verifier is None:
            return Answer(404, "no such plugin, or it does not receive webhooks")
        if not verifier.verify_webhook(WebhookHeaders(headers, query=query), body):
            self.alarm.refused(plugin_id, topic[:128])  # memory only: no I/O, no write
            return Answer(401, "signature does not match")
        try:
            event = read_event(verifier, topic, headers, body)
        except ConnectorError as exc:
            log.warning("webhook refused: malformed", plugin=plugin_id, topic=topic, error=str(exc))
            return Answer(400, f"malformed webhook: {exc}")
        kept = {
            name: value
            for name, value in headers.items()
            if name.lower().startswith(("x-", "shopify-")) or name.lower() in _KEPT_HEADERS
        }
        return Checked(plugin_id, topic[:128], kept, body, event)

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
                        "delivery_id": event.delivery_id,
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
                    order_work(session, item.plugin_id, event, inbox_id, item.body)
                else:
                    ledger.enqueue(session, item.plugin_id, WorkKind.WEBHOOK, str(inbox_id))
                answers.append(Answer(200, "accepted"))
        return answers

    def store_each(self, deliveries: list[Checked]) -> list[Answer | Exception]:
        """``store`` for a shared batch, where one delivery that cannot be stored must
        never fail the others: if the batch's transaction fails for any reason but the
        database being unavailable, each delivery is stored on its own and only the one
        at fault gets its error."""
        try:
            return list(self.store(deliveries))
        except Exception as exc:
            if unavailable(exc) or len(deliveries) == 1:
                return [exc] * len(deliveries)
            log.warning("a webhook batch failed; storing its deliveries one by one", error=str(exc))
        answers: list[Answer | Exception] = []
        for item in deliveries:
            try:
                answers.extend(self.store([item]))
            except Exception as exc:
                answers.append(exc)
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
                plugin = plugins.get_plugin(session, plugin_id)
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
        self.alarm.close()
        with self._lock:
            for _, connector, _ in self._verifiers.values():
                if hasattr(connector, "close"):
                    connector.close()
            self._verifiers.clear()


@dataclass(slots=True)
class _Refusals:
    topic: str
    count: int = 0


class SignatureAlarm:
    """Refused signatures are silent loss unless someone hears of them (a wrong webhook
    secret shows up at once), yet anyone can send them: they must cost neither a write
    each nor any I/O on the event loop. ``refused`` only counts, in memory; a thread of
    the alarm's own raises the plugin's notification — or counts the occurrences on the
    open one — at most once per ``interval`` per plugin. Only plugins that exist reach
    here (an unknown one is a 404 before any signature check), so memory is bounded."""

    def __init__(
        self,
        hub: Hub,
        *,
        interval: float = ALARM_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.hub = hub
        self.interval = interval
        self.clock = clock
        self.background = background
        self._pending: dict[int, _Refusals] = {}
        self._written: dict[int, float] = {}  # plugin → when its notification was written
        self._wake = threading.Condition()
        self._dirty = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def refused(self, plugin_id: int, topic: str) -> None:
        with self._wake:
            tally = self._pending.setdefault(plugin_id, _Refusals(topic))
            tally.topic = topic
            tally.count += 1
            self._dirty = True
            self._wake.notify()
            if self.background and self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="tradewind-signature-alarm", daemon=True
                )
                self._thread.start()

    def flush(self, *, everything: bool = False) -> float | None:
        """Write what is due (``everything``: all that is counted); the seconds until the
        next is due, or ``None`` when nothing waits."""
        now = self.clock()
        with self._wake:
            due = {
                plugin: tally
                for plugin, tally in self._pending.items()
                if everything or now - self._written.get(plugin, -self.interval) >= self.interval
            }
            for plugin in due:
                del self._pending[plugin]
                self._written[plugin] = now
        for plugin, tally in due.items():
            self._write(plugin, tally)
        with self._wake:
            waiting = [self._written[plugin] + self.interval - now for plugin in self._pending]
        return max(0.0, min(waiting)) if waiting else None

    def _write(self, plugin_id: int, tally: _Refusals) -> None:
        log.warning(
            "webhooks refused: bad signature",
            plugin=plugin_id,
            topic=tally.topic,
            refused=tally.count,
        )
        try:
            with self.hub.db.unit_of_work() as session:
                notifications.raise_notification(
                    session,
                    NotificationKind.CONFIGURATION,
                    plugin_id=plugin_id,
                    subject="webhook signatures",
                    occurrences=tally.count,
                    message=(
                        f"Webhooks (latest: {tally.topic}) arrived with a signature that does "
                        "not match the plugin's webhook secret and were refused. Check the "
                        "webhook secret (or the app's client secret) in the plugin settings; "
                        "the reconciliation poll keeps orders coming meanwhile."
                    ),
                )
        except Exception as exc:  # the database is down or the plugin was deleted
            log.warning("bad-signature notification not written", plugin=plugin_id, error=str(exc))
            with self._wake:  # told with the next ones, a minute on
                again = self._pending.setdefault(plugin_id, _Refusals(tally.topic))
                again.count += tally.count

    def _run(self) -> None:
        while True:
            wait = self.flush()
            with self._wake:
                if not self._dirty and not self._closed:
                    self._wake.wait(wait)
                self._dirty = False
                if self._closed:
                    break
        self.flush(everything=True)

    def close(self) -> None:
        """Stop the thread after it has told everything counted so far."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        else:
            self.flush(everything=True)


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
            answers = self.inbox.store_each([checked for checked, _ in batch])
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
