"""What each kind of work does. A handler talks to the connector outside any transaction,
then writes its results and completes its rows in one unit of work. It raises the
connector's typed errors; the drainer applies the failure policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import (
    ClosesOrders,
    Connector,
    ImportsOrders,
    ImportsProducts,
    ListsLocations,
    ManagesWebhooks,
    PushesShipments,
    PushesStock,
    ReceivesWebhooks,
    TestsConnection,
)
from tradewind.connectors.errors import AuthFailed, ConnectorError, Rejected
from tradewind.connectors.http import Call
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import (
    OrderQuery,
    OrderRecord,
    Page,
    ShipmentLineRecord,
    ShipmentRecord,
    StockPush,
    StockPushResult,
    WebhookEvent,
)
from tradewind.core.links import service as links
from tradewind.core.links.models import ProductLink
from tradewind.core.orders.models import Order, OrderLine
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.plugins.service import ImportConflict
from tradewind.core.shipments.models import Shipment
from tradewind.db import conflict, utcnow
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.executions import record_calls
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import exchange, ledger, products, schedule, stock
from tradewind.sync import orders as orders_in
from tradewind.sync.inbox import read_event
from tradewind.sync.models import (
    ORDERS_STREAM,
    Backfill,
    BackfillState,
    InboxDelivery,
    ProductSync,
    SyncSchedule,
    SyncWork,
    WorkKind,
)
from tradewind.sync.orders import ImportOutcome, import_record, lock_for_import
from tradewind.sync.runtime import CallBuffer, uses
from tradewind.vocabulary import FulfillmentStatus, StockMode, Toggle

log = structlog.get_logger(__name__)

T = TypeVar("T")
P = TypeVar("P")

# A burst of customer deliveries waits this long and becomes one read of what changed.
CUSTOMER_WEBHOOK_DELAY_SECONDS = 2.0


@dataclass
class Job:
    """One claimed batch of work for one plugin, with a live connector."""

    hub: Hub
    plugin: Plugin
    connector: Connector
    calls: CallBuffer
    token: str
    rows: list[SyncWork]
    results: list[str] = field(default_factory=list)
    fetched: Sequence[tuple[SyncWork, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The first row as claimed: a batch is one kind, and the policy reads its counters.
        self.first = self.rows[0]
        self.kind = self.first.kind

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]

    @property
    def row(self) -> SyncWork:
        return self.rows[0] if self.rows else self.first

    def capability(self, protocol: type[P]) -> P:
        if not isinstance(self.connector, protocol):
            raise Rejected(
                f"the {self.plugin.connector} connector cannot {protocol.__name__} "
                f"(work {self.row.kind.value})"
            )
        return self.connector

    def finish(
        self, write: Callable[[Session], None] | None = None, rows: list[SyncWork] | None = None
    ) -> None:
        """Write results and complete ``rows`` (default: all still held) atomically, with
        the calls made. Completed rows leave the job: if a later row fails, the failure
        policy applies to what is left only. A transaction that loses a deadlock is run
        again (``write`` must only touch the database)."""
        done = list(self.rows if rows is None else rows)
        if not done:
            return
        calls = self.calls.take()
        reported = len(self.results)

        def commit(session: Session) -> None:
            del self.results[reported:]  # a run that was rolled back reported nothing
            if write is not None:
                write(session)
            record_calls(session, self.plugin.id, calls, done[0].id)
            ledger.complete(session, [row.id for row in done], self.token)

        self.hub.db.transaction(commit)
        self.rows = [row for row in self.rows if row not in done]

    def reject(self, row: SyncWork, reason: str) -> None:
        """Close one row for good with its reason and a notification; the rest go on."""
        with self.hub.db.unit_of_work() as session:
            record_calls(session, self.plugin.id, self.calls.take(), row.id)
            ledger.fail(session, [row.id], self.token, error=reason)
            subject = f"{row.kind.value} {row.key}".strip()
            notifications.raise_notification(
                session,
                NotificationKind.RECORD_REJECTED,
                plugin_id=self.plugin.id,
                subject=subject,
                message=f"{self.plugin.name} refused {subject}: {reason}",
            )
        self.rows = [held for held in self.rows if held is not row]

    def each(self, fetch: Callable[[SyncWork], T]) -> list[tuple[SyncWork, T]]:
        """Call the platform once per row. A row the platform rejects (or answers with
        something unreadable) is closed on its own; any other failure finishes nothing,
        keeps the rows fetched so far in ``fetched`` and re-raises for the policy."""
        fetched: list[tuple[SyncWork, T]] = []
        for row in list(self.rows):
            try:
                fetched.append((row, fetch(row)))
            except Rejected as exc:
                self.reject(row, str(exc))
            except ValidationError as exc:
                self.reject(row, unreadable(exc))
            except ConnectorError:
                self.fetched = fetched
                raise
        return fetched


def unreadable(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
    )
    return f"the platform sent a record Tradewind cannot read: {problems}"


# ------------------------------------------------------------------------------ orders


def import_order(job: Job) -> None:
    """Re-read orders by id and import them (webhooks only say *which* order changed: they
    arrive late, twice and out of order, so their payload is not trusted). A batch is
    committed together; when the platform fails mid-batch the orders already read are
    imported first and only the rest wait."""
    connector: ImportsOrders = job.capability(ImportsOrders)
    try:
        fetched = job.each(lambda row: connector.get_order(row.key))
    except ConnectorError:
        _import_fetched(job, job.fetched)
        raise
    _import_fetched(job, fetched)


def _import_fetched(job: Job, fetched: Sequence[tuple[SyncWork, object]]) -> None:
    records = [record for _, record in fetched if isinstance(record, OrderRecord)]
    job.finish(lambda session: _import_all(session, job, records), rows=[r for r, _ in fetched])


def _import(
    session: Session, job: Job, plugin: Plugin, record: OrderRecord, *, backfill: bool = False
) -> ImportOutcome:
    outcome = import_record(session, plugin, record, backfill=backfill)
    job.results.append(f"{record.number}: {outcome.outcome} {outcome.reason}".strip())
    return outcome


def _import_all(session: Session, job: Job, records: Sequence[OrderRecord]) -> None:
    """Import a page; a record the core refuses is reported and the rest go on."""
    # Held for the whole page: the session's identity map keeps only weak references.
    plugin = plugins.get_plugin(session, job.plugin.id)
    lock_for_import(session, plugin, records)
    for record in records:
        try:
            with session.begin_nested():
                _import(session, job, plugin, record)
        except ImportConflict:
            raise  # the whole plugin waits for its channels to be fixed
        except TradewindError as exc:
            notifications.raise_notification(
                session,
                NotificationKind.RECORD_REJECTED,
                plugin_id=job.plugin.id,
                subject=f"order {record.number}",
                message=f"Order {record.number} could not be imported: {exc}",
            )


# ------------------------------------------------------------------- dropped webhooks

# A webhook arrives within seconds; an order changed longer ago than this that is not
# here had its webhook dropped.
PROBE_GRACE_SECONDS = 30.0
# An absolute stock push probes first unless a probe ran this recently.
PUSH_PROBE_SECONDS = 5.0


def probe_orders(job: Job) -> None:
    """The probe for dropped webhooks, every minute for a plugin importing orders by
    webhook: one list of the orders changed on the platform since the last probe (to
    ``PROBE_GRACE_SECONDS`` ago: newer webhooks may still be on their way). What is
    missing is imported at once and *webhooks missing* says so; the notice is resolved
    once a probe sees orders that did arrive by webhook and none missing. More changes
    than one page: the reconciliation poll is queued now to read them all."""
    connector: ImportsOrders = job.capability(ImportsOrders)
    job.finish(_probe(job, connector, until=utcnow() - dt.timedelta(seconds=PROBE_GRACE_SECONDS)))


def _close_gap(job: Job) -> None:
    """Before an absolute stock push of a plugin importing orders by webhook: probe up to
    now, and import any order not here yet, so the levels sent count its reservation (a
    dropped webhook otherwise let the push put its units on sale again; the platform's
    compare-and-set only makes the push re-read and send the same number)."""
    capabilities = job.hub.registry.info(job.plugin.connector).capabilities
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
    write = _probe(job, job.connector, until=utcnow())
    calls = job.calls.take()

    def commit(session: Session) -> None:
        write(session)
        record_calls(session, job.plugin.id, calls, job.row.id)

    try:
        job.hub.db.transaction(commit)
    except ImportConflict:
        return  # orders cannot import until the channels are fixed (its own notice); stock can


def _probe_schedule(session: Session, plugin_id: int) -> SyncSchedule | None:
    return session.scalar(
        select(SyncSchedule).where(
            SyncSchedule.plugin_id == plugin_id, SyncSchedule.stream == schedule.PROBE_STREAM
        )
    )


def _probe(job: Job, connector: ImportsOrders, *, until: dt.datetime) -> Callable[[Session], None]:
    """Read what changed since the probe's cursor; returns the write that imports what
    is missing, says so, and moves the cursor (a first probe only sets it: what came
    before is the reconciliation poll's)."""
    with job.hub.db.read() as session:
        probe = _probe_schedule(session, job.plugin.id)
        since = probe.cursor if probe is not None else None
    if since is None or since >= until:

        def start(session: Session) -> None:
            found = _probe_schedule(session, job.plugin.id)
            if found is not None and found.cursor is None:
                found.cursor = until

        return start
    query = OrderQuery(field="updated_at", since=since, until=until)
    page = connector.list_orders(query, None, Priority.LIVE)
    late = utcnow() - dt.timedelta(seconds=PROBE_GRACE_SECONDS)  # older: its webhook was lost

    def write(session: Session) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
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
        _import_all(session, job, gaps)
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
        found = _probe_schedule(session, plugin.id)
        if found is not None:
            found.cursor = max(found.cursor or until, until)
            found.last_run_at = utcnow()
            found.last_result = f"{len(page.records)} changed, {len(gaps)} missing"

    return write


def poll_orders(job: Job) -> None:
    """Reconciliation poll: orders updated since the last window's end minus an overlap,
    page by page; the page cursor is kept on the work row so a crash resumes mid-window."""
    connector: ImportsOrders = job.capability(ImportsOrders)
    with job.hub.db.read() as session:
        schedule = session.scalar(
            select(SyncSchedule).where(
                SyncSchedule.plugin_id == job.plugin.id, SyncSchedule.stream == job.row.key
            )
        )
        rules = plugins.import_rules(job.plugin)
        now = utcnow()
        since = (
            schedule.cursor if schedule and schedule.cursor else job.plugin.enabled_at or now
        ) - dt.timedelta(minutes=rules.poll_overlap_minutes)
    payload = dict(job.row.payload)
    until = dt.datetime.fromisoformat(payload.get("until", now.isoformat()))
    since = dt.datetime.fromisoformat(payload.get("since", since.isoformat()))
    cursor: str | None = payload.get("cursor")
    query = OrderQuery(field="updated_at", since=since, until=until)
    while True:
        page = connector.list_orders(query, cursor, Priority.LIVE)

        def write(session: Session, page: Page[OrderRecord] = page) -> None:
            _import_all(session, job, page.records)

        cursor = page.next_cursor
        if cursor is None:
            break
        # Checkpoint: the page is imported and the next page's cursor is saved together.
        with job.hub.db.unit_of_work() as session:
            write(session)
            row = session.get(SyncWork, job.row.id)
            if row is not None:
                row.payload = {
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "cursor": cursor,
                }
            ledger.renew(session, job.token, seconds=job.hub.settings.lease_seconds)
            record_calls(session, job.plugin.id, job.calls.take(), job.row.id)

    def finish(session: Session) -> None:
        write(session)
        schedule = session.scalar(
            select(SyncSchedule).where(
                SyncSchedule.plugin_id == job.plugin.id, SyncSchedule.stream == job.row.key
            )
        )
        if schedule is not None:
            schedule.cursor = until
            schedule.last_run_at = utcnow()
            schedule.last_result = f"{len(job.results)} order(s) seen"
            schedule.next_run_at = utcnow() + dt.timedelta(seconds=schedule.interval_seconds)

    job.finish(finish)


def backfill(job: Job) -> None:
    """One page of a historical import; the next page is queued as new low-priority work,
    so live work runs in between. A record that cannot be imported is skipped with its
    reason; the backfill never stops on it."""
    connector: ImportsOrders = job.capability(ImportsOrders)
    backfill_id = int(job.row.key)
    with job.hub.db.read() as session:
        run = session.get(Backfill, backfill_id)
        if run is None or run.state is not BackfillState.RUNNING:
            job.finish()
            return
        query = OrderQuery(field="created_at", since=run.start, until=run.end)
        cursor = run.cursor
    try:
        page = connector.list_orders(query, cursor, Priority.BACKGROUND)
    except Rejected:
        # The platform refuses the range itself, not one record: the run stops as failed,
        # and the engine closes its work with the reason, in a notification.
        with job.hub.db.unit_of_work() as session:
            stopped = session.get(Backfill, backfill_id)
            if stopped is not None and stopped.state is BackfillState.RUNNING:
                stopped.state = BackfillState.FAILED
                stopped.finished_at = utcnow()
        raise

    def write(session: Session) -> None:
        run = session.get(Backfill, backfill_id)
        if run is None or run.state is not BackfillState.RUNNING:
            return
        for external_id, reason in page.skipped:
            _skip(run, external_id, reason)
        plugin = plugins.get_plugin(session, job.plugin.id)
        lock_for_import(session, plugin, page.records)
        for record in page.records:
            try:
                with session.begin_nested():
                    outcome = _import(session, job, plugin, record, backfill=True)
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
                continue
            if outcome.outcome == "imported":
                run.imported += 1
            elif outcome.outcome == "skipped":
                _skip(run, record.external_id, outcome.reason)
            else:
                run.unchanged += 1
        run.pages += 1
        run.cursor = page.next_cursor
        if page.next_cursor is None:
            run.state = BackfillState.DONE
            run.finished_at = utcnow()
        else:
            ledger.enqueue(session, job.plugin.id, WorkKind.BACKFILL, str(backfill_id))

    job.finish(write)


def _skip(run: Backfill, external_id: str, reason: str) -> None:
    run.skipped += 1
    if len(run.skips) < 1000:
        run.skips = [*run.skips, {"id": external_id, "reason": reason[:300]}]


# ------------------------------------------------------------------------------- stock


UNMAPPED_STOCK = "stock of unmapped products"


def push_stock(job: Job) -> None:
    """Push the claimed products' available stock in batches. Each batch's result is
    remembered as soon as it is back, so a batch that fails later never resends an
    earlier one (which in delta mode would apply a change twice)."""
    connector: PushesStock = job.capability(PushesStock)
    product_ids = [int(row.key) for row in job.rows]
    if job.plugin.stock_mode is StockMode.ABSOLUTE:
        _close_gap(job)
    with job.hub.db.unit_of_work() as session:  # delta baselines are written here
        plugin = plugins.get_plugin(session, job.plugin.id)
        if not stock.mapped_locations(session, plugin.id):
            notifications.raise_notification(
                session,
                NotificationKind.CONFIGURATION,
                plugin_id=plugin.id,
                subject="stock locations",
                message=(
                    f"Stock is not synced to {plugin.name}: none of its locations is mapped "
                    "to a warehouse. Map at least one location on the plugin page."
                ),
            )
        unlinked: list[int] = []
        needs_link = job.hub.registry.info(plugin.connector).stock_needs_link
        pushes = stock.build_pushes(
            session, plugin, product_ids, needs_link=needs_link, unlinked=unlinked
        )
        if unlinked:
            notifications.raise_notification(
                session,
                NotificationKind.MISSING_PRODUCT,
                plugin_id=plugin.id,
                subject=UNMAPPED_STOCK,
                message=(
                    f"{len(unlinked)} product(s) changed stock but are not mapped to an item of "
                    f"{plugin.name}, so their stock cannot be sent. Run Sync products, or map "
                    "them on the plugin's product mapping."
                ),
            )
        elif needs_link and not stock.stocked_without_link(session, plugin.id):
            # Every stocked product is mapped now: the notice has nothing left to say.
            notifications.resolve(
                session,
                NotificationKind.MISSING_PRODUCT,
                plugin_id=plugin.id,
                subject=UNMAPPED_STOCK,
            )
    size = max(1, connector.stock_batch_size)
    refused = 0

    def remember(batch: list[StockPush], results: list[StockPushResult], calls: list[Call]) -> int:
        def write(session: Session) -> int:
            failed = stock.record_results(session, job.plugin.id, batch, results)
            for result in failed:
                notifications.raise_notification(
                    session,
                    NotificationKind.RECORD_REJECTED,
                    plugin_id=job.plugin.id,
                    subject=f"stock of product #{result.product_id} at {result.location_ref}",
                    message=f"The platform refused the stock level: {result.error}",
                )
            record_calls(session, job.plugin.id, calls, job.row.id)
            return len(failed)

        # Retried on a deadlock: what went out must be remembered (a delta sent twice
        # would apply twice).
        return job.hub.db.transaction(write)

    # A batch's results are written by one recorder thread while the next batch is on the
    # wire, in order; leaving the block waits for the last write even when a later batch
    # failed, so what went out is always remembered.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stock-recorder") as recorder:
        writing: Future[int] | None = None
        for start in range(0, len(pushes), size):
            batch = pushes[start : start + size]
            results = list(connector.push_stock(batch, job.plugin.stock_mode))
            if writing is not None:
                refused += writing.result()
            writing = recorder.submit(remember, batch, results, job.calls.take())
        if writing is not None:
            refused += writing.result()
    job.results.append(f"{len(pushes)} level(s) pushed, {refused} refused")
    job.finish()


# --------------------------------------------------------------------------- shipments


def push_shipment(job: Job) -> None:
    connector: PushesShipments = job.capability(PushesShipments)
    shipment_id = int(job.row.key)
    rules = plugins.import_rules(job.plugin)
    with job.hub.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None or shipment.external_id:
            job.finish()  # gone, or already on the platform
            return
        order = session.get(Order, shipment.order_id)
        shipment_order_id = shipment.order_id
        assert order is not None
        assert order.external_id is not None
        lines = {
            line.id: line
            for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        }
        record = ShipmentRecord(
            shipment_id=shipment.id,
            order_external_id=order.external_id,
            lines=tuple(
                ShipmentLineRecord(
                    line_external_id=lines[item.order_line_id].external_id or "",
                    quantity=item.quantity,
                )
                for item in shipment.lines
            ),
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
            # The plugin's Send Shipping Notification decides; a shipment made with its
            # own flag off (never e-mail this one) is the only exception.
            notify_customer=rules.notify_customer and shipment.notify_customer,
            location_ref=order.location_ref,
        )
    remote_id = connector.push_shipment(record)

    def write(session: Session) -> None:
        found = session.get(Shipment, shipment_id)
        if found is not None:
            found.plugin_id = job.plugin.id
            found.external_id = remote_id

    job.finish(write)
    if rules.close_orders and isinstance(connector, ClosesOrders):
        with job.hub.db.read() as session:
            order = session.get(Order, shipment_order_id)
            done = order is not None and order.fulfillment_status is FulfillmentStatus.FULFILLED
        if done:
            # After the shipment is recorded: closing is a courtesy; if it fails, the
            # shipment is not sent twice, and the failure is kept in the executions.
            try:
                connector.close_order(record.order_external_id)
            except ConnectorError as exc:
                log.warning(
                    "closing the order on the platform failed",
                    plugin=job.plugin.id,
                    order=record.order_external_id,
                    error=str(exc),
                )
            with job.hub.db.unit_of_work() as session:
                record_calls(session, job.plugin.id, job.calls.take())


# ----------------------------------------------------------------------------- webhooks


def webhook(job: Job) -> None:
    """Stored deliveries that are not about one order (those become order re-reads at
    intake): what each says is turned into work, in one commit for the batch."""
    connector: ReceivesWebhooks = job.capability(ReceivesWebhooks)
    with job.hub.db.read() as session:
        deliveries = {
            delivery.id: (delivery.topic, dict(delivery.headers), delivery.body)
            for delivery in session.scalars(
                select(InboxDelivery).where(
                    InboxDelivery.id.in_([int(row.key) for row in job.rows])
                )
            )
        }

    def parse(row: SyncWork) -> WebhookEvent | None:
        found = deliveries.get(int(row.key))
        return None if found is None else read_event(connector, *found)

    events = job.each(parse)

    def write(session: Session) -> None:
        for row, event in events:
            if event is None:
                continue
            outcome = f"{event.subject} {event.subject_id}".strip()
            if event.subject == "order" and event.subject_id:
                ledger.enqueue(session, job.plugin.id, WorkKind.IMPORT_ORDER, event.subject_id)
            elif event.subject == "inventory":
                outcome = _inventory_changed(session, job.plugin, event)
            elif event.subject == "customer":
                outcome = _customer_changed(session, job.plugin.id)
            found = session.get(InboxDelivery, int(row.key))
            if found is not None:
                found.processed_at = utcnow()
                found.outcome = outcome

    job.finish(write, rows=[row for row, _ in events])
    if any(
        event and event.subject == "app" and event.topic.startswith("app/uninstalled")
        for _, event in events
    ):
        raise AuthFailed("the app was uninstalled from the store")


def _customer_changed(session: Session, plugin_id: int) -> str:
    """A customer changed on the platform → the customers that changed are read soon (one
    read for a burst of deliveries; it also finds those whose delivery was lost)."""
    if Toggle.IMPORT_CUSTOMERS not in plugins.get_plugin(session, plugin_id).toggles:
        return "customer: Import Customers is off, ignored"
    ledger.enqueue(
        session,
        plugin_id,
        WorkKind.IMPORT_CUSTOMERS,
        exchange.CUSTOMERS_STREAM,
        delay=CUSTOMER_WEBHOOK_DELAY_SECONDS,
    )
    return "customer: changed customers will be read"


def _inventory_changed(session: Session, plugin: Plugin, event: WebhookEvent) -> str:
    """The platform says a level changed. Our own push coming back is ignored; any other
    change means the platform drifted from Tradewind, the stock master: in absolute mode
    Tradewind's number is sent again (within the plugin's window)."""
    item_ref, _, location_ref = event.subject_id.partition(":")
    product_id = session.scalar(
        select(ProductLink.product_id).where(
            ProductLink.plugin_id == plugin.id, ProductLink.item_ref == item_ref
        )
    )
    if product_id is None or location_ref not in stock.mapped_locations(session, plugin.id):
        return f"inventory {event.subject_id}: not a mapped item and location"
    if event.quantity is not None and stock.is_echo(
        session, plugin.id, product_id, location_ref, event.quantity
    ):
        return f"inventory {event.subject_id}: our own push, ignored"
    if plugin.stock_mode is StockMode.ABSOLUTE:
        ledger.enqueue(
            session,
            plugin.id,
            WorkKind.PUSH_STOCK,
            str(product_id),
            delay=plugin.stock_window_seconds,
        )
        return f"inventory {event.subject_id}: changed on the platform, Tradewind's value resent"
    return f"inventory {event.subject_id}: changed on the platform"


# --------------------------------------------------------------------------------- auth


def check_auth(job: Job) -> None:
    """Probe whether the plugin's credentials work again; if they do, resume its work."""
    connector: TestsConnection = job.capability(TestsConnection)
    report = connector.test_connection(job.plugin.toggles, uses(job.plugin))
    if not report.ok:
        raise AuthFailed(report.detail or "the credentials still do not work")

    def write(session: Session) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        if plugin.state is PluginState.NEEDS_REAUTHORIZATION:
            plugins.set_state(session, plugin, PluginState.ACTIVE)
        notifications.resolve(session, NotificationKind.AUTHORIZATION_LOST, plugin_id=plugin.id)
        ledger.enqueue(session, plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)

    job.finish(write)


# ---------------------------------------------------------------------------- catalog


def sync_products(job: Job) -> None:
    """One page of Sync products; the next page is queued, so live work runs between."""
    connector: ImportsProducts = job.capability(ImportsProducts)
    run_id = int(job.row.key)
    with job.hub.db.read() as session:
        run = session.get(ProductSync, run_id)
        if run is None or run.state is not BackfillState.RUNNING:
            job.finish()
            return
        cursor = run.cursor
    page = connector.list_products(cursor, Priority.BACKGROUND)

    def write(session: Session) -> None:
        run = session.get(ProductSync, run_id)
        if run is None or run.state is not BackfillState.RUNNING:
            return
        plugin = plugins.get_plugin(session, job.plugin.id)
        products.apply_page(session, plugin, run, page.records)
        run.pages += 1
        run.cursor = page.next_cursor
        if page.next_cursor is None:
            run.state = BackfillState.DONE
            run.finished_at = utcnow()
            _report_unmatched(session, plugin, run)
        else:
            ledger.enqueue(session, job.plugin.id, WorkKind.SYNC_PRODUCTS, str(run_id))

    job.finish(write)


def _report_unmatched(session: Session, plugin: Plugin, run: ProductSync) -> None:
    problems = len(run.unmatched) + len(run.duplicates) + len(run.conflicts)
    if problems:
        notifications.raise_notification(
            session,
            NotificationKind.MISSING_PRODUCT,
            plugin_id=plugin.id,
            subject="product mapping",
            message=(
                f"Sync products mapped {run.linked + run.already_linked} of {run.variants} "
                f"variant(s) of {plugin.name}: {len(run.unmatched)} match no product, "
                f"{len(run.duplicates)} share a SKU, {len(run.conflicts)} disagree with their "
                "mapping. See the plugin's product mapping for the list."
            ),
        )
    else:
        notifications.resolve(
            session,
            NotificationKind.MISSING_PRODUCT,
            plugin_id=plugin.id,
            subject="product mapping",
        )


def refresh_locations(job: Job) -> None:
    connector: ListsLocations = job.capability(ListsLocations)
    found = connector.list_locations()

    def write(session: Session) -> None:
        links.sync_locations(
            session,
            job.plugin.id,
            [(location.external_id, location.name) for location in found if location.active],
        )

    job.finish(write)


def ensure_webhooks(job: Job) -> None:
    """Register the plugin's webhook subscriptions, re-creating any the platform removed
    (Shopify deletes one after repeated failed deliveries)."""
    connector: ManagesWebhooks = job.capability(ManagesWebhooks)
    with job.hub.db.read() as session:
        toggles = plugins.get_plugin(session, job.plugin.id).toggles
    topics = job.hub.registry.info(job.plugin.connector).topics_for(toggles)
    repaired = connector.ensure_webhooks(topics)
    if repaired:
        log.info("webhooks registered", plugin=job.plugin.id, topics=repaired)
    job.finish()


HANDLERS: Mapping[WorkKind, Callable[[Job], None]] = MappingProxyType(
    {
        WorkKind.WEBHOOK: webhook,
        WorkKind.IMPORT_ORDER: import_order,
        WorkKind.PUSH_STOCK: push_stock,
        WorkKind.PUSH_SHIPMENT: push_shipment,
        WorkKind.POLL_ORDERS: poll_orders,
        WorkKind.PROBE_ORDERS: probe_orders,
        WorkKind.BACKFILL: backfill,
        WorkKind.CHECK_AUTH: check_auth,
        WorkKind.SYNC_PRODUCTS: sync_products,
        WorkKind.REFRESH_LOCATIONS: refresh_locations,
        WorkKind.ENSURE_WEBHOOKS: ensure_webhooks,
        **exchange.HANDLERS,  # customers, listings, and what is made in Tradewind
    }
)
