"""Running the engine: the Huey queue (SQLite embedded, Redis at scale), the drain task,
the in-process consumer and the reconciler thread.

Queue messages carry only a plugin id; the ledger holds the work. Task names are fixed
(``tradewind.drain``) so every process — web, worker, CLI — speaks the same queue.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import structlog
from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer

from tradewind.db import private_file, utcnow
from tradewind.hub import Hub
from tradewind.monitoring import executions
from tradewind.sync import schedule
from tradewind.sync.drain import Drainer
from tradewind.webhooks import service as webhooks
from tradewind.webhooks.dispatch import Dispatcher

log = structlog.get_logger(__name__)

PURGE_EVERY_SECONDS = 3600.0
# An idle worker looks at the SQLite queue at least this often (Redis blocks instead):
# a kick waits at most this long, for a few cheap reads a second.
IDLE_POLL_SECONDS = 0.1
# Announcements of one endpoint's deliveries closer than this are sent once.
DELIVER_WINDOW = 0.05


def make_huey(url: str) -> Huey:
    """SqliteHuey for ``sqlite:///path``, RedisHuey for ``redis://host:port/db``; a
    ``?name=`` query names the queue (several Tradewinds on one Redis database)."""
    parsed = urlparse(url)
    name = parse_qs(parsed.query).get("name", ["tradewind"])[0]
    if parsed.scheme == "sqlite":
        path = Path(parsed.path)
        private_file(path)  # before SQLite creates it (and its -wal, -shm) 0644
        return SqliteHuey(name, filename=str(path), results=False, utc=True, timeout=30)
    if parsed.scheme in ("redis", "rediss"):
        return RedisHuey(name, url=parsed._replace(query="").geturl(), results=False, utc=True)
    raise ValueError(f"unsupported queue URL {url!r}: use sqlite:///path or redis://host/db")


def announce_through_queue(hub: Hub) -> None:
    """For processes that run no engine (the CLI): work they commit is announced on the
    shared queue, so a running worker drains it at once instead of at its next sweep.
    The queue is opened on the first announcement only."""
    engine: Engine | None = None

    def opened() -> Engine:
        nonlocal engine
        if engine is None:
            engine = Engine(hub)
        return engine

    def kick(plugin_id: int, due: dt.datetime | None) -> None:
        opened().kick(plugin_id, due)

    def deliver(subscription_id: int, due: dt.datetime | None) -> None:
        opened().deliver(subscription_id, due)

    hub.kick = kick
    hub.deliver = deliver


class QuietConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host (uvicorn keeps Ctrl-C).
    ``_set_signal_handlers`` is private Huey API: Huey is pinned and a test covers it."""

    def _set_signal_handlers(self) -> None:
        return None


class Engine:
    """The sync engine of one process."""

    def __init__(self, hub: Hub, *, huey: Huey | None = None, holder: str | None = None) -> None:
        self.hub = hub
        self.huey = huey or make_huey(hub.settings.resolved_queue_url)
        # This process (each drain holds a plugin as holder:drain, within 64 characters).
        self.holder = holder or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.drainer = Drainer(hub, holder=self.holder, kick=self.kick)
        self._drain_task = self.huey.task(name="tradewind.drain", retries=0)(self._drain)
        # Outgoing webhooks: one task per endpoint ("deliver subscription 3"), the
        # deliveries themselves in the database.
        self.dispatcher = Dispatcher(hub, holder=self.holder, kick=self._deliver_again)
        self._deliver_task = self.huey.task(name="tradewind.webhooks.deliver", retries=0)(
            self._deliver
        )
        self._delivering: dict[tuple[int, int], float] = {}
        self._kicked: dict[tuple[int, int], float] = {}
        self._kick_lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._stop = threading.Event()
        self._reconciler: threading.Thread | None = None
        self._last_purge: float | None = None  # never yet: the first sweep purges
        hub.kick = self.kick  # work this process commits is announced on the queue
        hub.deliver = self.deliver

    # ----------------------------------------------------------------------- kicking

    def kick(self, plugin_id: int, at: dt.datetime | None = None) -> None:
        """Ask for the plugin to be drained now, or at ``at``. Repeated kicks for the same
        plugin and second are sent once (10,000 stock changes are not 10,000 messages)."""
        self._announce(self._drain_task, self._kicked, plugin_id, at, "a drain")

    def _announce(
        self,
        task: TaskWrapper,
        sent: dict[tuple[int, int], float],
        ident: int,
        at: dt.datetime | None,
        what: str,
        *,
        window: float = 1.0,
    ) -> None:
        """Put ``task(ident)`` on the queue now, or at ``at`` — once per ``ident`` and
        ``window`` seconds (``sent`` remembers the last window's)."""
        now = utcnow()
        due = at if at is not None and at > now else None
        bucket = int((due or now).timestamp() / window)
        with self._kick_lock:
            if sent.get((ident, bucket), 0.0) > time.monotonic() - window:
                return
            sent[(ident, bucket)] = time.monotonic()
            if len(sent) > 10_000:
                horizon = time.monotonic() - window
                for key in [k for k, v in sent.items() if v <= horizon]:
                    del sent[key]
        try:
            if due is None:
                task(ident)
            else:
                task.schedule(args=(ident,), eta=due.replace(tzinfo=None))
        except Exception:  # the queue being down delays work; the reconciler re-kicks it
            log.exception(f"could not enqueue {what}", ident=ident)

    def _drain(self, plugin_id: int) -> int:
        return self.drainer.drain(plugin_id)

    def deliver(self, subscription_id: int, at: dt.datetime | None = None) -> None:
        """Ask for the endpoint's due deliveries to be sent now, or at ``at``: once per
        endpoint and ``DELIVER_WINDOW`` (an announcement is made per commit, not per
        change, and one dropped as a repeat after a drain ended would wait for the
        reconciler: the window is short so a commit's deliveries go at once)."""
        self._announce(
            self._deliver_task,
            self._delivering,
            subscription_id,
            at,
            "a delivery",
            window=DELIVER_WINDOW,
        )

    def _deliver(self, subscription_id: int) -> int:
        return self.dispatcher.drain(subscription_id)

    def _deliver_again(self, subscription_id: int, at: dt.datetime | None = None) -> None:
        """A drain that ended with deliveries due asks for the next one, past ``deliver``'s
        once-a-second filter: a kick made while it held the endpoint found it busy, so
        this one must not be dropped as a repeat."""
        due = at if at is not None and at > utcnow() else None
        try:
            if due is None:
                self._deliver_task(subscription_id)
            else:
                self._deliver_task.schedule(args=(subscription_id,), eta=due.replace(tzinfo=None))
        except Exception:  # the queue being down delays deliveries; the sweep re-kicks them
            log.exception("could not enqueue a delivery", subscription=subscription_id)

    # --------------------------------------------------------------------- reconciling

    def sweep(self) -> schedule.SweepReport:
        report = schedule.sweep(self.hub, self.kick)
        with self.hub.db.read() as session:
            due = webhooks.due_subscriptions(session, utcnow())
        for subscription_id in due:
            self.deliver(subscription_id)
        last = self._last_purge
        if last is None or time.monotonic() - last > PURGE_EVERY_SECONDS:
            if last is None:  # the first sweep: no plain header value stays
                with self.hub.db.unit_of_work() as session:
                    webhooks.seal_plain_headers(session, self.hub.vault)
            self._last_purge = time.monotonic()
            with self.hub.db.unit_of_work() as session:
                executions.purge(
                    session,
                    success_days=self.hub.settings.execution_success_days,
                    failure_days=self.hub.settings.execution_failure_days,
                )
            more = True
            while more:  # in batches, each its own transaction
                with self.hub.db.unit_of_work() as session:
                    more = webhooks.purge(session, utcnow())
        return report

    def _reconcile_forever(self) -> None:
        """Sweep at once (work queued while no engine ran is due now, not a round later),
        then every ``reconcile_seconds``."""
        while True:
            try:
                self.sweep()
            except Exception:
                log.exception("reconcile sweep failed; retrying next round")
            if self._stop.wait(self.hub.settings.reconcile_seconds):
                return

    # ----------------------------------------------------------------------- running

    def start(self, *, workers: int | None = None, consume: bool = True) -> None:
        """Start the reconciler and (unless ``consume`` is off) an in-process consumer."""
        if consume:
            self._consumer = QuietConsumer(
                self.huey,
                workers=workers or self.hub.settings.workers,
                worker_type="thread",
                periodic=False,
                initial_delay=0.05,
                max_delay=IDLE_POLL_SECONDS,
                backoff=1.2,
                check_worker_health=True,
            )
            self._consumer.start()
        self._stop.clear()
        self._reconciler = threading.Thread(
            target=self._reconcile_forever, name="tradewind-reconciler", daemon=True
        )
        self._reconciler.start()
        log.info("engine started", holder=self.holder, consumer=consume)

    def stop(self, *, graceful: bool = True) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=graceful)
            self._consumer = None
        if self._reconciler is not None:
            self._reconciler.join(timeout=10)
            self._reconciler = None
        self.dispatcher.close()  # the endpoints' kept connections

    def run_worker(self, *, workers: int | None = None) -> None:
        """``tradewind worker``: a consumer that owns the process and its signals
        (SIGTERM/SIGINT stop it gracefully), plus the reconciler."""
        consumer = Consumer(
            self.huey,
            workers=workers or self.hub.settings.workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=IDLE_POLL_SECONDS,
            backoff=1.2,
            graceful_signal="TERM",
        )
        self._stop.clear()
        self._reconciler = threading.Thread(
            target=self._reconcile_forever, name="tradewind-reconciler", daemon=True
        )
        self._reconciler.start()
        try:
            consumer.run()
        finally:
            self._stop.set()
