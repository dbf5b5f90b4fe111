"""Customers: Import Customers (the poll of what changed, or everyone) and Export
Customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import ExportsCustomers, ImportsCustomers, SeedsCustomers
from tradewind.connectors.errors import ConnectorError, Rejected
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import CustomerQuery, CustomerRecord, Page
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.links import service as links
from tradewind.db import utcnow
from tradewind.sync import customer_exports, exports, ledger
from tradewind.sync.batch import Job
from tradewind.sync.customer_exports import Done
from tradewind.sync.handlers.base import Handler, PerRow, Walk
from tradewind.sync.models import (
    CUSTOMERS_FULL,
    CUSTOMERS_STREAM,
    BackfillState,
    CustomerExport,
    SyncSchedule,
    SyncWork,
    WorkKind,
)

CUSTOMERS_OVERLAP = dt.timedelta(minutes=15)


@dataclass
class CustomerWindow:
    since: dt.datetime | None  # None: everyone
    until: dt.datetime
    counts: dict[str, int] = field(
        default_factory=lambda: {"linked": 0, "created": 0, "skipped": 0}
    )


class ImportCustomers(Walk[CustomerWindow, CustomerRecord]):
    """Customers in, page by page, matched by email: an existing customer keeps what it
    has (blank fields are filled, new addresses added) and is never duplicated. The poll
    (key ``customers``) reads what changed since the last one; ``customers:full`` reads
    everyone. The page cursor is kept on the work row, so a crash resumes mid-way."""

    def window(self, job: Job, saved: Mapping[str, Any]) -> CustomerWindow:
        job.capability(ImportsCustomers)
        started = utcnow()
        with job.hub.db.read() as session:
            found = _schedule(session, job.plugin.id)
            last = found.cursor if found is not None else None
        if "since" in saved:
            since = dt.datetime.fromisoformat(saved["since"]) if saved["since"] else None
        elif job.row.key == CUSTOMERS_FULL or last is None:
            since = None
        else:
            since = last - CUSTOMERS_OVERLAP
        until = dt.datetime.fromisoformat(saved.get("until", started.isoformat()))
        return CustomerWindow(since, until)

    def saved(self, window: CustomerWindow) -> dict[str, Any]:
        return {
            "since": window.since.isoformat() if window.since else "",
            "until": window.until.isoformat(),
        }

    def read_page(
        self, job: Job, window: CustomerWindow, cursor: str | None
    ) -> Page[CustomerRecord]:
        connector = job.capability(ImportsCustomers)
        return connector.list_customers(
            CustomerQuery(since=window.since), cursor, Priority.BACKGROUND
        )

    def apply_page(
        self, session: Session, job: Job, window: CustomerWindow, page: Page[CustomerRecord]
    ) -> None:
        _apply_customers(session, job.plugin.id, page.records, window.counts)

    def done(self, session: Session, job: Job, window: CustomerWindow) -> None:
        found = _schedule(session, job.plugin.id)
        summary = ", ".join(f"{count} {what}" for what, count in window.counts.items())
        job.results.append(f"customers: {summary}")
        if found is not None:
            found.cursor = window.until
            found.last_run_at = utcnow()
            found.last_result = summary
            found.next_run_at = utcnow() + dt.timedelta(seconds=found.interval_seconds)


def _schedule(session: Session, plugin_id: int) -> SyncSchedule | None:
    return session.scalar(
        select(SyncSchedule).where(
            SyncSchedule.plugin_id == plugin_id, SyncSchedule.stream == CUSTOMERS_STREAM
        )
    )


def _apply_customers(
    session: Session, plugin_id: int, records: Sequence[CustomerRecord], counts: dict[str, int]
) -> None:
    for found in records:
        if not found.email or not found.external_id:
            counts["skipped"] += 1  # no email: nothing to match it by
            continue
        try:
            data = CustomerIn(
                email=found.email,
                first_name=found.first_name,
                last_name=found.last_name,
                company=found.company,
                phone=found.phone,
                addresses=[Address.model_validate(a.model_dump()) for a in found.addresses],
            )
        except ValidationError:
            counts["skipped"] += 1  # an email or address Tradewind cannot take
            continue
        with session.begin_nested():
            customer, created = customers.match_or_create(session, data)
            # The platform holds this profile now: exporting it back would change nothing.
            links.link_customer(
                session,
                plugin_id,
                customer.id,
                found.external_id,
                synced_hash=exports.customer_digest(found),
            )
        counts["created" if created else "linked"] += 1


Exported = tuple[CustomerRecord, CustomerRecord] | None


class ExportCustomer(PerRow[ExportsCustomers, Exported]):
    """Create or update customers on the platform (matched there by email), and link
    them. A customer the platform already holds as it is here is not sent."""

    def prepare(self, job: Job) -> ExportsCustomers:
        return job.capability(ExportsCustomers)

    def fetch_row(self, job: Job, context: ExportsCustomers, row: SyncWork) -> Exported:
        with job.hub.db.read() as session:
            wanted = exports.customer_export(session, job.plugin.id, int(row.key))
        if wanted is None:
            return None
        return wanted, context.export_customer(wanted)

    def apply(self, session: Session, job: Job, fetched: list[tuple[SyncWork, Exported]]) -> None:
        for row, exported in fetched:
            if exported is not None:
                exports.link_exported_customer(session, job.plugin.id, int(row.key), *exported)
                job.results.append(f"customer #{row.key}: {exported[1].external_id}")


class ExportAllCustomers(Handler):
    """One page of Export all customers: the page's emails looked for in the store at
    once, those found linked, the rest created; the next page queued, so live work runs
    between. When the platform fails mid-page, what was done is written first: the
    retry starts after it."""

    def run(self, job: Job) -> None:
        run_id = int(job.row.key)
        with job.hub.db.read() as session:
            run = session.get(CustomerExport, run_id)
            if run is None or run.state is not BackfillState.RUNNING:
                job.finish()
                return
            pending = customer_exports.next_page(session, job.plugin.id, int(run.cursor or 0))
        connector = job.capability(SeedsCustomers)
        done: list[Done] = []
        try:
            unknown = [each for each in pending if not each.linked]
            found = connector.find_customers([each.record.email for each in unknown])
            for each in pending:
                there = found.get(each.email_key)
                if each.linked:
                    done.append(Done(each, "already_linked"))
                elif there is not None:
                    done.append(Done(each, "matched", there))
                else:
                    try:
                        done.append(Done(each, "created", connector.create_customer(each.record)))
                    except Rejected as exc:
                        done.append(Done(each, "failed", reason=str(exc)))
        except ConnectorError:
            if done:
                job.record(
                    lambda session: customer_exports.apply(session, run_id, done, finished=False)
                )
            raise
        last = len(pending) < customer_exports.PAGE

        def write(session: Session) -> None:
            run = customer_exports.apply(session, run_id, done, finished=last)
            if run is None:
                return
            if last:
                job.results.append(
                    f"customers exported: {run.created} created, {run.matched} matched, "
                    f"{run.already_linked} already linked, {run.failed} failed"
                )
            else:
                ledger.enqueue(session, job.plugin.id, WorkKind.EXPORT_ALL_CUSTOMERS, str(run_id))

        job.finish(write)
