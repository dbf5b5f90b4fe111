"""The single-flight drainer: one drain at a time works through one plugin's due work,
in priority order, and applies the failure policy.

* ``RateLimited`` → back to pending at retry-after; not an attempt. Persistent throttling
  becomes a notification.
* ``Unavailable`` (and unexpected errors) → exponential backoff with jitter, capped; after
  repeated failures the plugin is *failing* and a notification says so. Never disabled.
* ``AuthFailed`` → the plugin needs reauthorization; its work is kept, paused, and a probe
  resumes it by itself once the credentials work again.
* ``Rejected`` → that record is closed with its reason and a notification; the rest goes on.
* Success clears *platform unavailable* and *rate limited* and brings a failing plugin back
  to active only when the platform answered a call of the job (a webhook batch that never
  called it proves nothing).

A drainer that finds the plugin's lease taken simply returns: the holder is already
draining and will see the new work, and after releasing the lease every drainer checks for
work that arrived meanwhile, so no wake-up is lost.

Single flight holds between the threads of one worker as between workers: the lease holder
is one drain, not a process. A live drain's lease (and its claimed work) is kept short and
renewed by the process's heartbeat, so a worker killed mid-batch loses its plugins within
a lease and the reconciler hands them to another worker at its next sweep.

A deadlock or serialization failure is not an outage: its transaction is run again
(``Database.transaction``), and if it still conflicts the batch goes back to pending at
once, without counting a try or telling anyone.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tradewind.connectors.errors import AuthFailed, RateLimited, Rejected, Unavailable
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.plugins.service import ImportConflict
from tradewind.db import conflict, utcnow
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import decisions, ledger
from tradewind.sync.batch import Job, unreadable
from tradewind.sync.decisions import Decision
from tradewind.sync.handlers import handler_for
from tradewind.sync.models import RUNS_IN_SHADOW, WorkKind
from tradewind.sync.runtime import CallBuffer, open_connector

log = structlog.get_logger(__name__)

Kick = Callable[[int, dt.datetime | None], None]

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 15 * 60.0
FAILING_AFTER_ATTEMPTS = 3
THROTTLE_NOTICE_AFTER = 5
AUTH_PROBE_SECONDS = 300.0
CONFLICT_RETRY_SECONDS = 60.0
RUNNING_STATES = (PluginState.ACTIVE, PluginState.FAILING)


def backoff(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: exponential, capped, with ±25 % jitter."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.75, 1.25))


class Heartbeat:
    """Keeps the leases of the drains running in this process alive: every third of a
    lease, one transaction extends each running drain's plugin lease and the lease of the
    work it has claimed. The thread runs only while a drain does. A process that dies stops
    beating; its leases end within ``lease_seconds``."""

    def __init__(self, hub: Hub, lease_seconds: float) -> None:
        self.hub = hub
        self.lease_seconds = lease_seconds
        self._held: dict[str, str | None] = {}  # drain holder → token of its claimed batch
        self._lost: set[str] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def hold(self, holder: str) -> None:
        with self._changed:
            self._held[holder] = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._beat, name="tradewind-heartbeat", daemon=True
                )
                self._thread.start()

    def claimed(self, holder: str, token: str | None) -> None:
        with self._changed:
            if holder in self._held:
                self._held[holder] = token

    def drop(self, holder: str) -> None:
        with self._changed:
            self._held.pop(holder, None)
            self._lost.discard(holder)
            self._changed.notify_all()

    def lost(self, holder: str) -> bool:
        """Whether a beat found ``holder``'s lease taken by another drain."""
        with self._changed:
            return holder in self._lost

    def _beat(self) -> None:
        interval = self.lease_seconds / 3
        while True:
            with self._changed:
                if not self._held:
                    self._thread = None
                    return
                self._changed.wait(interval)
                held = dict(self._held)
            if not held:
                continue
            try:
                with self.hub.db.unit_of_work() as session:
                    alive = ledger.renew_leases(
                        session,
                        list(held),
                        [token for token in held.values() if token],
                        seconds=self.lease_seconds,
                    )
            except Exception:  # the next beat tries again; a lease outlives two misses
                log.warning("lease heartbeat failed", exc_info=True)
                continue
            with self._changed:
                self._lost.update(holder for holder in held if holder not in alive)


class Drainer:
    def __init__(
        self,
        hub: Hub,
        *,
        holder: str,
        kick: Kick,
        stock_batch_limit: int = 5000,
    ) -> None:
        self.hub = hub
        self.holder = holder  # this process; each drain holds the lease as holder:drain
        self.kick = kick
        self.max_seconds = hub.settings.drain_seconds
        self.lease_seconds = hub.settings.lease_seconds
        self.stock_batch_limit = stock_batch_limit
        self.heartbeat = Heartbeat(hub, self.lease_seconds)

    def drain(self, plugin_id: int) -> int:
        """Work through the plugin's due work; returns how many units were processed."""
        holder = f"{self.holder}:{uuid.uuid4().hex[:8]}"
        with self.hub.db.unit_of_work() as session:
            if not ledger.acquire_lease(session, plugin_id, holder, seconds=self.lease_seconds):
                return 0
        self.heartbeat.hold(holder)
        processed = 0
        kinds: frozenset[WorkKind] | None = None
        try:
            processed, kinds = self._drain_leased(plugin_id, holder)
        finally:
            self.heartbeat.drop(holder)
            with self.hub.db.unit_of_work() as session:
                ledger.release_lease(session, plugin_id, holder)
            with self.hub.db.read() as session:
                due = ledger.next_due(session, plugin_id, kinds)
            if due is not None:
                self.kick(plugin_id, due)
        return processed

    def _drain_leased(self, plugin_id: int, holder: str) -> tuple[int, frozenset[WorkKind] | None]:
        deadline = time.monotonic() + self.max_seconds
        processed = 0
        plugin = self._plugin(plugin_id)
        if plugin is None or plugin.state is PluginState.INACTIVE:
            return 0, frozenset()  # its work stays pending until it is activated
        kinds = self._allowed(plugin)
        calls = CallBuffer()
        try:
            connector = open_connector(self.hub, plugin, calls)
        except Exception as exc:
            self._unusable(plugin, exc)
            return 0, frozenset()
        try:
            while time.monotonic() < deadline and not self.heartbeat.lost(holder):
                with self.hub.db.unit_of_work() as session:
                    # Still ours? A drain whose beats failed for a whole lease may have
                    # been taken over: it stops rather than run beside its successor.
                    if not ledger.acquire_lease(
                        session, plugin_id, holder, seconds=self.lease_seconds
                    ):
                        break
                    token, rows = ledger.claim(
                        session,
                        plugin_id,
                        kinds=kinds,
                        limit=self.stock_batch_limit,
                        lease_seconds=self.lease_seconds,
                    )
                if not rows:
                    break
                job = Job(self.hub, plugin, connector, calls, token, rows)
                self.heartbeat.claimed(holder, token)
                started = time.time()
                try:
                    self._run(job)
                finally:
                    self.heartbeat.claimed(holder, None)
                # One line per batch (debug): proof of single flight for tests and drills.
                log.debug(
                    "batch ran",
                    plugin=plugin_id,
                    kind=job.kind.value,
                    rows=len(rows),
                    holder=holder,
                    started=started,
                    finished=time.time(),
                )
                processed += len(rows)
                refreshed = self._plugin(plugin_id)
                if refreshed is None or refreshed.state is PluginState.INACTIVE:
                    break
                if (refreshed.state, refreshed.in_shadow) != (plugin.state, plugin.in_shadow):
                    kinds = self._allowed(refreshed)
                plugin = job.plugin = refreshed
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()
        return processed, kinds

    @staticmethod
    def _allowed(plugin: Plugin) -> frozenset[WorkKind] | None:
        if plugin.state in RUNNING_STATES:
            # In shadow, what writes waits, kept, until the plugin goes live.
            return RUNS_IN_SHADOW if plugin.in_shadow else None
        return frozenset({WorkKind.CHECK_AUTH})  # everything else waits, kept

    def _plugin(self, plugin_id: int) -> Plugin | None:
        with self.hub.db.read() as session:
            try:
                return plugins.get_plugin(session, plugin_id)
            except TradewindError:
                return None

    # ------------------------------------------------------------------- failure policy

    def _run(self, job: Job) -> None:
        handler = handler_for(job.kind, in_shadow=job.plugin.in_shadow)
        answered = job.calls.answered
        try:
            handler.run(job)
            if job.rows:  # a handler that did not finish everything: a bug, not a loss
                raise RuntimeError(f"{job.kind.value} left {len(job.rows)} row(s) open")
        except RateLimited as exc:
            self._orders_wait(job, Decision.DEFERRED, "rate_limited", str(exc))
            self._rate_limited(job, exc)
        except Unavailable as exc:
            self._orders_wait(job, Decision.DEFERRED, "platform_error", str(exc))
            self._unavailable(job, str(exc))
        except AuthFailed as exc:
            self._orders_wait(job, Decision.DEFERRED, "auth_failed", str(exc))
            self._auth_failed(job, str(exc))
        except ImportConflict as exc:
            self._orders_wait(job, Decision.DEFERRED, "import_conflict", exc.message)
            job.settle(delay=CONFLICT_RETRY_SECONDS, error=exc.message, count=False)
        except (Rejected, TradewindError) as exc:
            self._orders_wait(job, Decision.FAILED, "rejected", str(exc))
            self._rejected(job, str(exc))
        except ValidationError as exc:  # the platform sent a record that cannot be read
            self._rejected(job, unreadable(exc))
        except Exception as exc:
            if conflict(exc):  # lost a deadlock more than once: again at once, no harm done
                log.info("batch retried after a database conflict", plugin=job.plugin.id)
                job.settle(
                    delay=0.0, error="database conflict; retried", count=False, throttled=False
                )
                return
            # A bug or an unmapped failure: retried like an outage.
            log.exception(
                "work failed unexpectedly",
                plugin=job.plugin.id,
                kind=job.row.kind.value,
                key=job.row.key,
            )
            self._unavailable(job, f"{type(exc).__name__}: {exc}")
        else:
            if job.calls.answered > answered:
                self._succeeded(job)

    def _orders_wait(self, job: Job, decision: Decision, code: str, reason: str) -> None:
        """Orders named for a re-read that could not be read or imported now: their
        decision says why they wait (or failed)."""
        if job.kind is not WorkKind.IMPORT_ORDER or not job.rows:
            return
        waiting = [
            decisions.Seen(
                external_id=row.key,
                number="",
                path=decisions.SeenBy.WEBHOOK,
                decision=decision,
                code=code,
                reason=reason,
            )
            for row in job.rows
        ]
        with self.hub.db.unit_of_work() as session:
            decisions.record_many(session, job.plugin.id, waiting)

    def _succeeded(self, job: Job) -> None:
        """The platform answered this job: a platform problem is over. Only then — a
        batch that never called the platform (a webhook turned into work, say) proves
        nothing, and resolving on it made outage notices flap open and shut."""
        if (
            job.plugin.state is PluginState.ACTIVE
            and job.plugin.last_success_at is not None
            and utcnow() - job.plugin.last_success_at < dt.timedelta(seconds=30)
            and not (job.row.throttled or job.row.attempts)  # this work was held back
        ):
            return  # nothing to recover from; keep the hot path to one transaction
        with self.hub.db.unit_of_work() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            plugin.last_success_at = utcnow()
            if plugin.state is PluginState.FAILING:
                plugins.set_state(session, plugin, PluginState.ACTIVE)
                log.info("plugin recovered", plugin=plugin.id)
            for kind in (NotificationKind.PLATFORM_UNAVAILABLE, NotificationKind.RATE_LIMITED):
                notifications.resolve(session, kind, plugin_id=plugin.id)

    def _rate_limited(self, job: Job, exc: RateLimited) -> None:
        job.settle(delay=exc.retry_after, error=str(exc), count=False)
        if job.row.throttled + 1 >= THROTTLE_NOTICE_AFTER:
            with self.hub.db.unit_of_work() as session:
                notifications.raise_notification(
                    session,
                    NotificationKind.RATE_LIMITED,
                    plugin_id=job.plugin.id,
                    subject=job.plugin.name,
                    message=(
                        f"{job.plugin.name} keeps being throttled by the platform "
                        f"({job.row.throttled + 1} times in a row for {job.row.kind.value}). "
                        "Nothing is lost: work resumes as the platform allows."
                    ),
                )

    def _unavailable(self, job: Job, error: str) -> None:
        attempts = job.row.attempts + 1
        job.settle(delay=backoff(attempts), error=error, count=True)
        if attempts < FAILING_AFTER_ATTEMPTS:
            return
        with self.hub.db.unit_of_work() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            if plugins.set_state(session, plugin, PluginState.FAILING, error):
                log.warning("plugin failing", plugin=plugin.id, error=error)
            notifications.raise_notification(
                session,
                NotificationKind.PLATFORM_UNAVAILABLE,
                plugin_id=plugin.id,
                subject=plugin.name,
                message=(
                    f"{plugin.name} has failed {attempts} times in a row ({error}). "
                    "Its work is kept and retried with growing pauses; nothing is lost."
                ),
            )

    def _auth_failed(self, job: Job, error: str) -> None:
        probing = job.kind is WorkKind.CHECK_AUTH
        job.settle(delay=AUTH_PROBE_SECONDS if probing else 0.0, error=error, count=False)
        with self.hub.db.unit_of_work() as session:
            authorization_lost(session, job.plugin.id, error)

    def _rejected(self, job: Job, error: str) -> None:
        job.fail(error)

    def _unusable(self, plugin: Plugin, exc: Exception) -> None:
        """The plugin cannot even be set up (connector missing, settings invalid)."""
        log.error("plugin cannot start", plugin=plugin.id, error=str(exc))
        if isinstance(exc, plugins.CredentialsUnreadable):
            return  # the plugin is paused for it, with its own notification (runtime.py)
        with self.hub.db.unit_of_work() as session:
            notifications.raise_notification(
                session,
                NotificationKind.CONFIGURATION,
                plugin_id=plugin.id,
                subject=plugin.name,
                message=f"{plugin.name} cannot run: {exc}. Its work is kept until this is fixed.",
            )


def authorization_lost(session: Session, plugin_id: int, error: str) -> None:
    """The platform refused the plugin's credentials (in its work, or in a call a person
    made): the plugin waits for reauthorization, a person is told, and a probe resumes it
    by itself once the credentials work again."""
    plugin = plugins.get_plugin(session, plugin_id)
    if plugins.set_state(session, plugin, PluginState.NEEDS_REAUTHORIZATION, error):
        log.warning("plugin needs reauthorization", plugin=plugin.id, error=error)
    notifications.raise_notification(
        session,
        NotificationKind.AUTHORIZATION_LOST,
        plugin_id=plugin.id,
        subject=plugin.name,
        message=(
            f"{plugin.name} lost its authorization ({error}). Its work is paused, not "
            "dropped. Click Reauthorize on the plugin page; work resumes by itself "
            "as soon as the credentials work again."
        ),
    )
    ledger.enqueue(session, plugin.id, WorkKind.CHECK_AUTH, delay=AUTH_PROBE_SECONDS)
