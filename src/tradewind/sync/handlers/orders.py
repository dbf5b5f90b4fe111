"""Orders in: re-reads of what webhooks named, the probe for dropped webhooks, the
reconciliation poll and backfills."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind import events
from tradewind.connectors.base import (
    Capability,
    ExportsOrdersInBulk,
    ImportsOrders,
    ReadsOrdersInBatches,
)
from tradewind.connectors.errors import Rejected
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import BulkExport, ExportChunk, OrderQuery, OrderRecord, Page
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.plugins.service import ImportConflict
from tradewind.db import conflict, utcnow
from tradewind.errors import TradewindError
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import decisions, gaps, ledger, schedule, shadow, silence
from tradewind.sync import orders as orders_in
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Paged, PerRow, Single, Walk
from tradewind.sync.inbox import INBOX
from tradewind.sync.models import (
    ORDERS_STREAM,
    Backfill,
    BackfillState,
    InboxDelivery,
    SyncSchedule,
    SyncWork,
    WorkKind,
)
from tradewind.sync.orders import ImportOutcome, import_record, lock_for_import

log = structlog.get_logger(__name__)

# A webhook arrives within seconds; an order changed longer ago than this that is not
# here had its webhook dropped.
PROBE_GRACE_SECONDS = 30.0
# An absolute stock push probes first unless a probe ran this recently.
PUSH_PROBE_SECONDS = 5.0
# Held orders re-read by each reconciliation poll (the longest waiting first).
HELD_PER_POLL = 100
WAITING_CODES = ("held_for_review", "")


def _import(
    session: Session,
    job: Job,
    plugin: Plugin,
    record: OrderRecord,
    noted: list[decisions.Seen],
    *,
    backfill: bool = False,
) -> ImportOutcome:
    """Import one record; its decision is added to ``noted`` (written with the page)."""
    if plugin.in_shadow:
        outcome = shadow.observe(session, plugin, record, backfill=backfill)
    else:
        outcome = import_record(session, plugin, record, backfill=backfill)
    _report(job, record, outcome, noted)
    return outcome


def _report(
    job: Job, record: OrderRecord, outcome: ImportOutcome, noted: list[decisions.Seen]
) -> None:
    job.results.append(f"{record.number}: {outcome.outcome} {outcome.reason}".strip())
    noted.append(
        decisions.Seen(
            external_id=record.external_id,
            number=record.number,
            path=seen_by(job),
            decision=decisions.Decision(outcome.outcome),
            code=outcome.code,
            reason=outcome.reason,
            order_id=outcome.order_id,
        )
    )


One = Callable[[OrderRecord], "ImportOutcome | None"]
Each = Callable[[OrderRecord, ImportOutcome], None]


def _import_page(
    session: Session,
    job: Job,
    plugin: Plugin,
    records: Sequence[OrderRecord],
    noted: list[decisions.Seen],
    *,
    backfill: bool,
    one: One,
    each: Each | None = None,
) -> None:
    """Import a page in the records' order: each run of records new to the plugin
    together (``orders_in.import_new``: a few statements for the run, not a round trip
    per order), the others — orders held, made in Tradewind, repeated in the page, or a
    plugin in shadow — one by one with ``one`` (in its savepoint; ``None``: refused).
    ``each`` is told every outcome, in order."""
    held = lock_for_import(session, plugin, records)
    seen = set(held)
    run: list[OrderRecord] = []

    def flush() -> None:
        for record, outcome in _together(session, job, plugin, run, noted, backfill, one):
            if outcome is not None and each is not None:
                each(record, outcome)
        run.clear()

    for record in records:
        if plugin.in_shadow or record.origin_ref or record.external_id in seen:
            flush()
            outcome = one(record)
            if outcome is not None and each is not None:
                each(record, outcome)
        else:
            run.append(record)
        seen.add(record.external_id)
    flush()


def _together(
    session: Session,
    job: Job,
    plugin: Plugin,
    run: Sequence[OrderRecord],
    noted: list[decisions.Seen],
    backfill: bool,
    one: One,
) -> list[tuple[OrderRecord, ImportOutcome | None]]:
    """A run of new records in one savepoint; when the core refuses one of them (or the
    run meets an order another worker created meanwhile) the savepoint is rolled back
    with the events it recorded, and the run is imported one by one, so the refused
    record is reported and the others go on exactly as before."""
    if len(run) < 2:
        return [(record, one(record)) for record in run]
    mark = events.recorded_count(session)
    try:
        with session.begin_nested():
            outcomes = orders_in.import_new(session, plugin, run, backfill=backfill)
    except Exception as exc:
        if conflict(exc):
            raise  # not a record's fault: the page's transaction runs again
        events.forget_after(session, mark)
        log.debug("page import falls back to one by one", plugin=plugin.id, error=repr(exc))
        return [(record, one(record)) for record in run]
    for record, outcome in zip(run, outcomes, strict=True):
        _report(job, record, outcome, noted)
    return list(zip(run, outcomes, strict=True))


def seen_by(job: Job) -> decisions.SeenBy:
    """The path of the job's orders (the probe's, for one run ahead of a stock push)."""
    return decisions.PATHS.get(job.row.kind, decisions.SeenBy.PROBE)


def refused(job: Job, record: OrderRecord, reason: str) -> decisions.Seen:
    """An order that could not be imported, as its decision."""
    return decisions.Seen(
        external_id=record.external_id,
        number=record.number,
        path=seen_by(job),
        decision=decisions.Decision.FAILED,
        code="rejected",
        reason=reason,
    )


def import_all(session: Session, job: Job, records: Sequence[OrderRecord]) -> None:
    """Import a page; a record the core refuses is reported and the rest go on."""
    # Held for the whole page: the session's identity map keeps only weak references.
    plugin = plugins.get_plugin(session, job.plugin.id)
    noted: list[decisions.Seen] = []

    def one(record: OrderRecord) -> ImportOutcome | None:
        try:
            with session.begin_nested():
                return _import(session, job, plugin, record, noted)
        except ImportConflict:
            raise  # the whole plugin waits for its channels to be fixed
        except TradewindError as exc:
            noted.append(refused(job, record, str(exc)))
            notifications.raise_notification(
                session,
                NotificationKind.RECORD_REJECTED,
                plugin_id=job.plugin.id,
                subject=f"order {record.number}",
                message=f"Order {record.number} could not be imported: {exc}",
            )
            return None

    _import_page(session, job, plugin, records, noted, backfill=False, one=one)
    decisions.record_many(session, job.plugin.id, noted)


@dataclass(frozen=True)
class Gathered:
    """What a batch of order imports found before its rows are fetched one by one: by
    row key, the order to import (``None``: nothing to import)."""

    connector: ImportsOrders
    ready: Mapping[str, OrderRecord | None]


class ImportOrder(PerRow[Gathered, "OrderRecord | None"]):
    """Import the orders webhooks named. Deliveries arrive late, twice and out of order,
    so a delivered body is trusted only as the version it is stamped with (the
    platform's ``updated_at``): a whole body newer than what Tradewind holds is imported
    as it is, one older is dropped (Tradewind holds newer), and the rest — a body cut
    short, a version equal to the one held (two states can share a second), a delivery
    that only names the order — are read again, together (``ReadsOrdersInBatches``),
    or one by one from a connector that cannot. A batch is committed together; when the
    platform fails mid-batch the orders already read are imported first and only the
    rest wait."""

    def prepare(self, job: Job) -> Gathered:
        connector = job.capability(ImportsOrders)
        if not isinstance(connector, ReadsOrdersInBatches):
            return Gathered(connector, {})
        return Gathered(connector, _gather(job, connector))

    def fetch_row(self, job: Job, context: Gathered, row: SyncWork) -> OrderRecord | None:
        if row.key in context.ready:
            return context.ready[row.key]
        return context.connector.get_order(row.key)

    def apply(
        self, session: Session, job: Job, fetched: list[tuple[SyncWork, OrderRecord | None]]
    ) -> None:
        import_all(session, job, [record for _, record in fetched if record is not None])


def _gather(job: Job, connector: ReadsOrdersInBatches) -> dict[str, OrderRecord | None]:
    """The batch's orders from their delivered bodies where those will do, and the others
    read in as few calls as the platform allows."""
    carried = {
        row.key: row.payload[INBOX] for row in job.rows if isinstance(row.payload.get(INBOX), int)
    }
    with job.hub.db.read() as session:
        bodies = {
            delivery.id: (delivery.topic, dict(delivery.headers), delivery.body)
            for delivery in session.scalars(
                select(InboxDelivery).where(InboxDelivery.id.in_(sorted(set(carried.values()))))
            )
        }
        held = dict(
            session.execute(
                select(Order.external_id, Order.remote_updated_at).where(
                    Order.plugin_id == job.plugin.id,
                    Order.external_id.in_(sorted(row.key for row in job.rows)),
                )
            ).all()
        )
    keys = [key for key, inbox_id in carried.items() if inbox_id in bodies]
    ready: dict[str, OrderRecord | None] = {}
    delivered = connector.delivered_orders([bodies[carried[key]] for key in keys])
    for key, record in zip(keys, delivered, strict=True):
        if record is None or record.external_id != key:
            continue  # not whole: read below
        at = held.get(key)
        if at is None or record.updated_at > at:
            ready[key] = record
        elif record.updated_at < at:
            ready[key] = None
            job.results.append(f"{record.number}: a late delivery, older than held: dropped")
    reread = [row.key for row in job.rows if row.key not in ready and row.key.isdigit()]
    if reread:
        found = {record.external_id: record for record in connector.get_orders(reread)}
        ready.update({key: found.get(key) for key in reread})
    return ready


# ------------------------------------------------------------------- dropped webhooks


@dataclass(frozen=True)
class ProbeRead:
    """What a probe read: the orders changed in (``since``, ``until``], or nothing when
    this is the first probe (it only sets the cursor: what came before is the poll's)."""

    until: dt.datetime
    page: Page[OrderRecord] | None


def _probe_schedule(session: Session, plugin_id: int) -> SyncSchedule | None:
    return session.scalar(
        select(SyncSchedule).where(
            SyncSchedule.plugin_id == plugin_id, SyncSchedule.stream == schedule.PROBE_STREAM
        )
    )


class ProbeOrders(Single[ProbeRead]):
    """The probe for dropped webhooks, every minute for a plugin importing orders by
    webhook: one list of the orders changed on the platform since the last probe (to
    ``PROBE_GRACE_SECONDS`` ago: newer webhooks may still be on their way). What is
    missing is imported at once and *webhooks missing* says so; the notice is resolved
    once a probe sees orders that did arrive by webhook and none missing. More changes
    than one page: the reconciliation poll is queued now to read them all."""

    def fetch(self, job: Job) -> ProbeRead:
        return self.read(job, until=utcnow() - dt.timedelta(seconds=PROBE_GRACE_SECONDS))

    def read(self, job: Job, *, until: dt.datetime) -> ProbeRead:
        connector = job.capability(ImportsOrders)
        with job.hub.db.read() as session:
            probe = _probe_schedule(session, job.plugin.id)
            since = probe.cursor if probe is not None else None
        if since is None or since >= until:
            return ProbeRead(until, None)
        query = OrderQuery(field="updated_at", since=since, until=until)
        return ProbeRead(until, connector.list_orders(query, None, Priority.LIVE))

    def apply(self, session: Session, job: Job, fetched: ProbeRead) -> None:
        until, page = fetched.until, fetched.page
        if page is None:
            found = _probe_schedule(session, job.plugin.id)
            if found is not None and found.cursor is None:
                found.cursor = until
            return
        late = utcnow() - dt.timedelta(seconds=PROBE_GRACE_SECONDS)  # older: webhook lost
        plugin = plugins.get_plugin(session, job.plugin.id)
        if plugin.in_shadow:  # nothing is held to compare with: every order is read again
            import_all(session, job, page.records)
            _probed(session, plugin.id, until, f"{len(page.records)} changed (shadow)")
            return
        gaps = orders_in.missing(session, plugin, page.records)
        missed = {record.external_id for record in gaps}
        arrived = [  # changes that reached Tradewind by webhook
            external_id
            for external_id in session.scalars(
                select(Order.external_id).where(
                    Order.plugin_id == plugin.id,
                    Order.external_id.in_([record.external_id for record in page.records]),
                )
            )
            if external_id not in missed
        ]
        import_all(session, job, gaps)
        dropped = [record for record in gaps if record.updated_at < late]
        if dropped:
            numbers = ", ".join(record.number for record in dropped[:10])
            more = f" and {len(dropped) - 10} more" if len(dropped) > 10 else ""
            notifications.raise_notification(
                session,
                NotificationKind.WEBHOOKS_MISSING,
                plugin_id=plugin.id,
                subject="order webhooks",
                message=(
                    f"{len(dropped)} order change(s) on {plugin.name} ({numbers}{more}) "
                    "never arrived by webhook; Tradewind found them by asking the platform "
                    "and imported them. If this goes on, check the plugin's webhook "
                    f"subscriptions and that {job.hub.settings.base_url} is reachable from "
                    "the platform. Orders keep coming meanwhile (checked every minute)."
                ),
                occurrences=len(dropped),
            )
        elif arrived:  # webhooks do arrive again, and none is missing
            notifications.resolve(
                session,
                NotificationKind.WEBHOOKS_MISSING,
                plugin_id=plugin.id,
                subject="order webhooks",
            )
        if page.next_cursor is not None:  # more than a page: the full poll reads them now
            ledger.enqueue(session, plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
        _probed(session, plugin.id, until, f"{len(page.records)} changed, {len(gaps)} missing")


def _probed(session: Session, plugin_id: int, until: dt.datetime, result: str) -> None:
    found = _probe_schedule(session, plugin_id)
    if found is not None:
        found.cursor = max(found.cursor or until, until)
        found.last_run_at = utcnow()
        found.last_result = result


PROBE = ProbeOrders()


def close_gap(job: Job) -> None:
    """Before an absolute stock push of a plugin importing orders by webhook: probe up to
    now, and import any order not here yet, so the levels sent count its reservation (a
    dropped webhook otherwise let the push put its units on sale again; the platform's
    compare-and-set only makes the push re-read and send the same number)."""
    capabilities = job.hub.info_for(job.plugin).capabilities
    if not schedule.probes_orders(capabilities, job.plugin):
        return
    with job.hub.db.read() as session:
        probe = _probe_schedule(session, job.plugin.id)
        last = probe.cursor if probe is not None else None
    if (
        last is None  # no probe yet: the reconciler starts them
        or utcnow() - last < dt.timedelta(seconds=PUSH_PROBE_SECONDS)
        or not isinstance(job.connector, ImportsOrders)
    ):
        return
    fetched = PROBE.read(job, until=utcnow())
    try:
        job.record(lambda session: PROBE.apply(session, job, fetched))
    except ImportConflict:
        return  # orders cannot import until the channels are fixed (its own notice); stock can


# ------------------------------------------------------------------ reconciliation


@dataclass(frozen=True)
class Window:
    since: dt.datetime
    until: dt.datetime


class PollOrders(Walk[Window, OrderRecord]):
    """Reconciliation poll: orders updated since the last window's end minus an overlap,
    page by page; the page cursor is kept on the work row so a crash resumes mid-window."""

    def window(self, job: Job, saved: Mapping[str, Any]) -> Window:
        job.capability(ImportsOrders)
        with job.hub.db.read() as session:
            found = self._schedule(session, job)
            rules = plugins.import_rules(job.plugin)
            now = utcnow()
            since = (
                found.cursor if found and found.cursor else job.plugin.enabled_at or now
            ) - dt.timedelta(minutes=rules.poll_overlap_minutes)
        return Window(
            since=dt.datetime.fromisoformat(saved.get("since", since.isoformat())),
            until=dt.datetime.fromisoformat(saved.get("until", now.isoformat())),
        )

    def saved(self, window: Window) -> dict[str, Any]:
        return {"since": window.since.isoformat(), "until": window.until.isoformat()}

    def read_page(self, job: Job, window: Window, cursor: str | None) -> Page[OrderRecord]:
        query = OrderQuery(field="updated_at", since=window.since, until=window.until)
        return job.capability(ImportsOrders).list_orders(query, cursor, Priority.LIVE)

    def apply_page(
        self, session: Session, job: Job, window: Window, page: Page[OrderRecord]
    ) -> None:
        import_all(session, job, page.records)

    def done(self, session: Session, job: Job, window: Window) -> None:
        # Orders held for review wait as deferred; a release moves only their fulfilment
        # orders (not updated_at), so they are re-read by id: a lost release webhook
        # strands none — nor one the doctor found released and importable ("").
        held = decisions.waiting(session, job.plugin.id, WAITING_CODES, HELD_PER_POLL)
        ledger.enqueue_many(session, job.plugin.id, WorkKind.IMPORT_ORDER, held)
        found = self._schedule(session, job)
        if found is not None:
            found.cursor = window.until
            found.last_run_at = utcnow()
            found.last_result = f"{len(job.results)} order(s) seen"
            found.next_run_at = utcnow() + dt.timedelta(seconds=found.interval_seconds)

    @staticmethod
    def _schedule(session: Session, job: Job) -> SyncSchedule | None:
        return session.scalar(
            select(SyncSchedule).where(
                SyncSchedule.plugin_id == job.plugin.id, SyncSchedule.stream == job.row.key
            )
        )


# ------------------------------------------------------------------------ backfills


class BackfillOrders(Paged[Backfill, tuple[OrderQuery, str | None], OrderRecord]):
    """One page of a historical import; the next page is queued as new low-priority
    work, so live work runs in between. A record that cannot be imported is skipped with
    its reason; the backfill never stops on it.

    The first claim counts the range when the connector can export in bulk
    (``ExportsOrdersInBulk``): more orders than its ``bulk_threshold`` and the range is
    read by one export instead (``BulkBackfill``), pages otherwise."""

    kind = WorkKind.BACKFILL
    run_model = Backfill

    def run(self, job: Job) -> None:
        run_id = int(job.row.key)
        with job.hub.db.read() as session:
            run = self._running(session, run_id)
            route = run.route if run is not None else ""
            query = self.query(run)[0] if run is not None else None
        if run is None or query is None:
            job.finish()
            return
        if not route:
            route = self._route(job, run_id, query)
        if route == BULK_ROUTE:
            BULK.run(job, run_id, query)
        else:
            super().run(job)

    def _route(self, job: Job, run_id: int, query: OrderQuery) -> str:
        """Pages or bulk, once for the run (kept on it: a restart reads the same way)."""
        connector = job.capability(ImportsOrders)
        route, total = PAGES_ROUTE, None
        if isinstance(connector, ExportsOrdersInBulk):
            try:
                total = connector.count_orders(query)
            except Rejected:
                self._stop(job, run_id)
                raise
            if total > connector.bulk_threshold:
                route = BULK_ROUTE

        def decide(session: Session) -> None:
            found = self._running(session, run_id)
            if found is not None:
                found.route, found.total_estimate = route, total

        job.record(decide)
        return route

    @staticmethod
    def _stop(job: Job, run_id: int) -> None:
        """The platform refuses the range itself, not one record: the run stops as
        failed, and the engine closes its work with the reason, in a notification."""
        with job.hub.db.unit_of_work() as session:
            stopped = session.get(Backfill, run_id)
            if stopped is not None and stopped.state is BackfillState.RUNNING:
                stopped.state = BackfillState.FAILED
                stopped.finished_at = utcnow()

    def query(self, run: Backfill) -> tuple[OrderQuery, str | None]:
        return OrderQuery(field="created_at", since=run.start, until=run.end), run.cursor

    def read_page(
        self, job: Job, run_id: int, query: tuple[OrderQuery, str | None]
    ) -> Page[OrderRecord]:
        connector = job.capability(ImportsOrders)
        try:
            return connector.list_orders(*query, Priority.BACKGROUND)
        except Rejected:
            self._stop(job, run_id)
            raise

    def apply_page(
        self, session: Session, job: Job, run: Backfill, page: Page[OrderRecord]
    ) -> None:
        for external_id, reason in page.skipped:
            _skip(run, external_id, reason)
        plugin = plugins.get_plugin(session, job.plugin.id)
        noted: list[decisions.Seen] = []

        def one(record: OrderRecord) -> ImportOutcome | None:
            try:
                with session.begin_nested():
                    return _import(session, job, plugin, record, noted, backfill=True)
            except Exception as exc:  # one poison record must not stop the backfill
                if conflict(exc):
                    raise  # not the record's fault: the page's transaction runs again
                log.warning(
                    "backfill record skipped",
                    plugin=job.plugin.id,
                    order=record.external_id,
                    error=str(exc),
                )
                _skip(run, record.external_id, f"{type(exc).__name__}: {exc}")
                noted.append(refused(job, record, f"{type(exc).__name__}: {exc}"))
                return None

        def each(record: OrderRecord, outcome: ImportOutcome) -> None:
            if outcome.outcome == "imported":
                run.imported += 1
            elif outcome.outcome in ("skipped", "deferred"):
                _skip(run, record.external_id, outcome.reason)
            else:
                run.unchanged += 1

        _import_page(session, job, plugin, page.records, noted, backfill=True, one=one, each=each)
        decisions.record_many(session, job.plugin.id, noted)


def _skip(run: Backfill, external_id: str, reason: str) -> None:
    run.skipped += 1
    if len(run.skips) < 1000:
        run.skips = [*run.skips, {"id": external_id, "reason": reason[:300]}]


PAGES_ROUTE = "pages"
BULK_ROUTE = "bulk"
# A claim reads for this long, then queues the rest: the plugin's live work (held back by
# its lease meanwhile) runs between two claims.
EXPORT_CLAIM_SECONDS = 10.0
# The export is polled after 1 s, then twice as long each time, up to every 5 s: a poll
# costs one GraphQL point (of 50 restored a second), and a file ready is read at most 5 s
# late. The bulk_operations/finish webhook is not subscribed: it would save those seconds
# only, at the price of a subscription on every store for a rare event.
EXPORT_POLL_FIRST = 1.0
EXPORT_POLL_MAX = 5.0


class BulkBackfill:
    """A backfill read by one export the platform prepares. Each claim takes the next
    step and keeps it on the run: start the export (its id saved), poll it by that id
    (never a second export: a restart polls the saved one, which may have finished
    meanwhile), then stream its result from the saved byte position in chunks of
    ``Settings.export_chunk`` orders (500), one transaction each, written with the
    position after it. A kill mid-file resumes after the last chunk committed; an order
    read twice imports once anyway (the import is idempotent by external id)."""

    def run(self, job: Job, run_id: int, query: OrderQuery) -> None:
        connector = job.capability(ImportsOrders)
        if not isinstance(connector, ExportsOrdersInBulk):
            raise Rejected(f"the {job.plugin.connector} connector cannot export orders in bulk")
        with job.hub.db.read() as session:
            run = session.get(Backfill, run_id)
            assert run is not None
            export_id, status = run.export_id, run.export_status
            url, offset = run.export_url, run.export_offset
        if export_id is None:
            try:
                export = connector.start_order_export(query)
            except Rejected:
                BackfillOrders._stop(job, run_id)
                raise
            self._wait(job, run_id, export, polls=0)
            return
        if status != "completed":
            export = connector.order_export(export_id)
            if export.status == "running":
                self._wait(job, run_id, export, polls=int(job.row.payload.get("polls", 0)) + 1)
                return
            if export.status == "expired":  # the result is gone: export again, from the start
                self._restart(job, run_id)
                return
            if export.status == "failed":
                BackfillOrders._stop(job, run_id)
                raise Rejected(f"the platform's export of the orders failed ({export.error})")
            url = export.url
            job.record(lambda session: self._completed(session, run_id, export))
        if url is None:  # complete and empty: no order in the range
            job.finish(lambda session: self._done(session, job, run_id))
            return
        self._read(job, connector, run_id, url, offset)

    def _read(
        self, job: Job, connector: ExportsOrdersInBulk, run_id: int, url: str, offset: int
    ) -> None:
        began = time.monotonic()
        with contextlib.closing(
            connector.read_order_export(url, offset, job.hub.settings.export_chunk)
        ) as chunks:
            for chunk in chunks:
                running: list[bool] = []
                job.checkpoint(self._writer(job, run_id, chunk, running), {})
                if not all(running):  # cancelled meanwhile
                    job.finish()
                    return
                if time.monotonic() - began > EXPORT_CLAIM_SECONDS:
                    job.finish(
                        lambda session: ledger.enqueue(
                            session, job.plugin.id, WorkKind.BACKFILL, str(run_id)
                        )
                    )
                    return
        job.finish(lambda session: self._done(session, job, run_id))

    def _writer(
        self, job: Job, run_id: int, chunk: ExportChunk, running: list[bool]
    ) -> Callable[[Session], None]:
        """The chunk's write (``job.checkpoint`` renews the claim with it); ``running``
        says whether the run was still running."""
        return lambda session: running.append(self._apply(session, job, run_id, chunk))

    @staticmethod
    def _apply(session: Session, job: Job, run_id: int, chunk: ExportChunk) -> bool:
        run = session.get(Backfill, run_id)
        if run is None or run.state is not BackfillState.RUNNING:
            return False
        BACKFILL.apply_page(session, job, run, Page(records=chunk.records, skipped=chunk.skipped))
        run.pages += 1
        run.export_offset = chunk.end
        return True

    @staticmethod
    def _done(session: Session, job: Job, run_id: int) -> None:
        run = session.get(Backfill, run_id)
        if run is None or run.state is not BackfillState.RUNNING:
            return
        if run.export_size is not None:
            run.export_offset = run.export_size
        run.state = BackfillState.DONE
        run.finished_at = utcnow()
        BACKFILL.done(session, job, run)

    @staticmethod
    def _completed(session: Session, run_id: int, export: BulkExport) -> None:
        run = session.get(Backfill, run_id)
        if run is not None:
            run.export_status, run.export_url = export.status, export.url
            run.export_size, run.export_objects = export.size, export.objects

    @staticmethod
    def _wait(job: Job, run_id: int, export: BulkExport, polls: int) -> None:
        """Keep what the platform said and poll again later (sooner at first)."""
        delay = min(EXPORT_POLL_MAX, EXPORT_POLL_FIRST * 2**polls)

        def write(session: Session) -> None:
            run = session.get(Backfill, run_id)
            if run is None or run.state is not BackfillState.RUNNING:
                return
            run.export_id, run.export_status = export.id, export.status
            run.export_objects = export.objects
            ledger.enqueue(
                session,
                job.plugin.id,
                WorkKind.BACKFILL,
                str(run_id),
                delay=delay,
                payload={"polls": polls},
            )

        job.finish(write)

    @staticmethod
    def _restart(job: Job, run_id: int) -> None:
        def write(session: Session) -> None:
            run = session.get(Backfill, run_id)
            if run is None or run.state is not BackfillState.RUNNING:
                return
            log.warning("backfill export expired: exporting again", backfill=run_id)
            run.export_id, run.export_status, run.export_url = None, "", None
            run.export_offset, run.export_size, run.export_objects = 0, None, 0
            ledger.enqueue(session, job.plugin.id, WorkKind.BACKFILL, str(run_id))

        job.finish(write)


BULK = BulkBackfill()
BACKFILL = BackfillOrders()


# ----------------------------------------------------------------------- gap report

GAP_DAILY = "daily"  # the scheduled run's key: the day before
GAP_MAX_PAGES = 200


@dataclass(frozen=True)
class DayRead:
    day: dt.date
    records: list[OrderRecord]


class GapReportWork(Single[DayRead]):
    """Key: a day (ISO), or ``daily`` for the day before. The platform's orders placed
    that day, every page, set against what Tradewind holds and decided."""

    def fetch(self, job: Job) -> DayRead:
        connector = job.capability(ImportsOrders)
        day = (
            (utcnow() - dt.timedelta(days=1)).date()
            if job.row.key == GAP_DAILY
            else dt.date.fromisoformat(job.row.key)
        )
        since, until = gaps.window(day)
        query = OrderQuery(field="created_at", since=since, until=until)
        records: list[OrderRecord] = []
        cursor: str | None = None
        for _ in range(GAP_MAX_PAGES):
            page = connector.list_orders(query, cursor, Priority.BACKGROUND)
            records.extend(page.records)
            cursor = page.next_cursor
            if cursor is None:
                break
        else:
            raise Rejected(f"more than {GAP_MAX_PAGES} pages of orders on {day}: not judged")
        return DayRead(day, records)

    def apply(self, session: Session, job: Job, fetched: DayRead) -> None:
        report = gaps.record_report(session, job.plugin.id, fetched.day, fetched.records)
        job.results.append(
            f"{fetched.day}: {report.on_platform} on the platform, {report.missing} missing"
        )


# ------------------------------------------------------------------- silent webhooks


@dataclass(frozen=True)
class SilenceRead:
    found: silence.Silence | None
    changed: list[OrderRecord]  # orders the platform changed during the silence


class CheckSilence(Single[SilenceRead]):
    """Key: ``silence``. Webhooks quiet against the plugin's usual rate, while the
    platform shows orders changed meanwhile: told, subscriptions repaired, poll run."""

    def fetch(self, job: Job) -> SilenceRead:
        with job.hub.db.read() as session:
            found = silence.silent(session, job.plugin.id, utcnow())
        if found is None:
            return SilenceRead(None, [])
        connector = job.capability(ImportsOrders)
        query = OrderQuery(field="updated_at", since=found.since, until=utcnow())
        page = connector.list_orders(query, None, Priority.BACKGROUND)
        return SilenceRead(found, list(page.records))

    def apply(self, session: Session, job: Job, fetched: SilenceRead) -> None:
        subject = "webhooks"
        if fetched.found is None or not fetched.changed:
            if fetched.found is None:  # deliveries arrive: a silence is over
                notifications.resolve(
                    session,
                    NotificationKind.WEBHOOKS_SILENT,
                    plugin_id=job.plugin.id,
                    subject=subject,
                )
            return
        quiet, usual = fetched.found.since, fetched.found.usual_per_hour
        numbers = ", ".join(record.number for record in fetched.changed[:5])
        notifications.raise_notification(
            session,
            NotificationKind.WEBHOOKS_SILENT,
            plugin_id=job.plugin.id,
            subject=subject,
            message=(
                f"No webhook from {job.plugin.name} since {quiet:%Y-%m-%d %H:%M} UTC (usually "
                f"{usual:.1f} an hour), while orders changed there meanwhile ({numbers}). "
                "Tradewind is checking the plugin's webhook subscriptions and reading the "
                "orders it missed; if webhooks stay silent, check that "
                f"{job.hub.settings.base_url} is reachable from the platform."
            ),
        )
        ledger.enqueue(session, job.plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
        if Capability.MANAGE_WEBHOOKS in job.hub.info_for(job.plugin).capabilities:
            ledger.enqueue(session, job.plugin.id, WorkKind.ENSURE_WEBHOOKS, "")
        job.results.append(f"silent since {quiet:%H:%M}: {len(fetched.changed)} changed")
