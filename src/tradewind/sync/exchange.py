"""The work kinds of the toggles beyond orders and stock: Export Orders (and cancelling
orders on the platform), Import / Export Customers, Export Products / Listings and Import
Listings.

Each handler follows the engine's rule (see ``jobs.py``): read what to send, talk to the
connector outside any transaction, then write the platform's answer and complete the
work in one unit of work. Failures are the connector's typed errors; the drainer applies
the policy (a rejected record is closed with a notification, the rest retried).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import (
    CancelsOrders,
    ExportsCustomers,
    ExportsOrders,
    ExportsProducts,
    ImportsCustomers,
    ImportsListings,
)
from tradewind.connectors.errors import Rejected
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import CustomerQuery, CustomerRecord, ProductRecord
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderStatus
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.monitoring.executions import record_calls
from tradewind.sync import exports, ledger, triggers
from tradewind.sync.models import SyncSchedule, SyncWork, WorkKind
from tradewind.vocabulary import StockMode

if TYPE_CHECKING:  # the handlers take the engine's Job; jobs.py imports this module
    from tradewind.sync.jobs import Job

CUSTOMERS_STREAM = "customers"
CUSTOMERS_FULL = "customers:full"
CUSTOMERS_POLL_SECONDS = 3600
CUSTOMERS_OVERLAP = dt.timedelta(minutes=15)
LISTINGS_KEY = "listings"
# An earlier try of an order export may have created the order before its answer was
# lost: it is looked for among the platform's orders created since the work was queued,
# less this margin for clocks that disagree.
CLOCK_MARGIN = dt.timedelta(minutes=10)


# ------------------------------------------------------------------------------ orders


def export_order(job: Job) -> None:
    """Create an order made in Tradewind on the platform and link it. A retry after an
    outage first looks for the copy an earlier try may have made, so a lost answer never
    becomes a second order there."""
    connector: ExportsOrders = job.capability(ExportsOrders)
    order_id = int(job.row.key)
    with job.hub.db.read() as session:
        plugin = plugins.get_plugin(session, job.plugin.id)
        export = exports.order_export(session, plugin, order_id)
    if export is None:
        job.results.append(f"order #{order_id}: nothing to send")
        job.finish()
        return
    answer = None
    if job.row.attempts > 0:
        answer = connector.find_exported_order(
            export.origin_ref, since=job.row.created_at - CLOCK_MARGIN
        )
    if answer is None:
        try:
            answer = connector.export_order(export)
        except Rejected as exc:
            raise Rejected(f"order {export.number} could not be created there: {exc}") from None
    job.results.append(f"order {export.number}: created as {answer.number}")

    def write(session: Session) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        order = exports.link_order(session, plugin, order_id, answer)
        if order.status is OrderStatus.CANCELLED:  # cancelled here while it was being sent
            triggers.enqueue_cancellation(session, order)

    job.finish(write)


def cancel_order(job: Job) -> None:
    """Cancel on the platform an order cancelled in Tradewind (see ``triggers``: which ones)."""
    connector: CancelsOrders = job.capability(CancelsOrders)
    order_id = int(job.row.key)
    with job.hub.db.read() as session:
        order = session.get(Order, order_id)
    if (
        order is None
        or order.status is not OrderStatus.CANCELLED
        or order.plugin_id != job.plugin.id
        or order.external_id is None
    ):
        job.results.append(f"order #{order_id}: nothing to cancel there")
        job.finish()
        return
    number, external_id, reason = order.number, order.external_id, order.cancel_reason
    try:
        connector.cancel_order(external_id, reason)
    except Rejected as exc:
        raise Rejected(f"order {number} could not be cancelled there: {exc}") from None
    job.results.append(f"order {number}: cancelled there")

    def write(session: Session) -> None:
        order = orders.get_order(session, order_id)
        orders.add_activity(
            session, order, "cancelled_there", f"Cancelled on {job.plugin.name} as well."
        )
        # The platform released what it held for the order on its own side: its levels
        # are set again from Tradewind's (the push before the cancellation could not know).
        if job.plugin.stock_mode is not StockMode.OFF:
            products = sorted({line.product_id for line in order.lines if line.product_id})
            ledger.enqueue_many(
                session, job.plugin.id, WorkKind.PUSH_STOCK, [str(i) for i in products]
            )

    job.finish(write)


# --------------------------------------------------------------------------- customers


def export_customer(job: Job) -> None:
    """Create or update customers on the platform (matched there by email), and link
    them. A customer the platform already holds as it is here is not sent."""
    connector: ExportsCustomers = job.capability(ExportsCustomers)

    def send(row: SyncWork) -> tuple[CustomerRecord, CustomerRecord] | None:
        with job.hub.db.read() as session:
            wanted = exports.customer_export(session, job.plugin.id, int(row.key))
        if wanted is None:
            return None
        return wanted, connector.export_customer(wanted)

    sent = job.each(send)

    def write(session: Session) -> None:
        for row, result in sent:
            if result is not None:
                exports.link_exported_customer(session, job.plugin.id, int(row.key), *result)
                job.results.append(f"customer #{row.key}: {result[1].external_id}")

    job.finish(write, rows=[row for row, _ in sent])


def import_customers(job: Job) -> None:
    """Customers in, page by page, matched by email: an existing customer keeps what it
    has (blank fields are filled, new addresses added) and is never duplicated. The poll
    (key ``customers``) reads what changed since the last one; ``customers:full`` reads
    everyone. The page cursor is kept on the work row, so a crash resumes mid-way."""
    connector: ImportsCustomers = job.capability(ImportsCustomers)
    full = job.row.key == CUSTOMERS_FULL
    started = utcnow()
    with job.hub.db.read() as session:
        schedule = _schedule(session, job.plugin.id)
        last = schedule.cursor if schedule is not None else None
    payload = dict(job.row.payload)
    if "since" in payload:
        since = dt.datetime.fromisoformat(payload["since"]) if payload["since"] else None
    else:
        since = None if full or last is None else last - CUSTOMERS_OVERLAP
    until = dt.datetime.fromisoformat(payload.get("until", started.isoformat()))
    cursor: str | None = payload.get("cursor")
    query = CustomerQuery(since=since)
    counts = {"linked": 0, "created": 0, "skipped": 0}
    while True:
        page = connector.list_customers(query, cursor, Priority.BACKGROUND)
        cursor = page.next_cursor
        if cursor is None:
            break
        with job.hub.db.unit_of_work() as session:  # checkpoint: page and cursor together
            _apply_customers(session, job.plugin.id, page.records, counts)
            row = session.get(SyncWork, job.row.id)
            if row is not None:
                row.payload = {
                    "since": since.isoformat() if since else "",
                    "until": until.isoformat(),
                    "cursor": cursor,
                }
            ledger.renew(session, job.token, seconds=job.hub.settings.lease_seconds)
            record_calls(session, job.plugin.id, job.calls.take(), job.row.id)

    def finish(session: Session) -> None:
        _apply_customers(session, job.plugin.id, page.records, counts)
        schedule = _schedule(session, job.plugin.id)
        summary = ", ".join(f"{count} {what}" for what, count in counts.items())
        job.results.append(f"customers: {summary}")
        if schedule is not None:
            schedule.cursor = until
            schedule.last_run_at = utcnow()
            schedule.last_result = summary
            schedule.next_run_at = utcnow() + dt.timedelta(seconds=schedule.interval_seconds)

    job.finish(finish)


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


# ---------------------------------------------------------------------------- products


def export_product(job: Job) -> None:
    """Create a product on the platform (or bring its linked copy up to date) with the
    channel's listing over it, and link it; a new link pushes the product's stock."""
    connector: ExportsProducts = job.capability(ExportsProducts)

    def send(row: SyncWork) -> tuple[exports.ProductPlan, ProductRecord] | None:
        with job.hub.db.read() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            plan = exports.product_export(session, plugin, int(row.key))
        if plan is None:
            return None
        return plan, connector.export_product(plan.export)

    sent = job.each(send)

    def write(session: Session) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        for _, result in sent:
            if result is not None:
                plan, answer = result
                exports.link_exported_product(session, plugin, plan, answer)
                job.results.append(f"{plan.export.sku}: product {answer.external_id}")

    job.finish(write, rows=[row for row, _ in sent])


def sync_listings(job: Job) -> None:
    """Import Listings: how the platform shows each linked product (title, description,
    images, price, published) becomes its listing on the plugin's channels, page by page.
    Variants that are not linked to a product are left for Sync products to map."""
    connector: ImportsListings = job.capability(ImportsListings)
    cursor: str | None = dict(job.row.payload).get("cursor")
    page = connector.list_listings(cursor, Priority.BACKGROUND)

    def write(session: Session) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        updated = apply_listings(session, plugin, page.records)
        job.results.append(f"{updated} listing(s) read")
        if page.next_cursor is not None:
            ledger.enqueue(
                session,
                plugin.id,
                WorkKind.SYNC_LISTINGS,
                LISTINGS_KEY,
                payload={"cursor": page.next_cursor},
            )

    job.finish(write)


def apply_listings(session: Session, plugin: Plugin, records: Sequence[ProductRecord]) -> int:
    """Write one page of the platform's products as listings; returns how many linked
    variants were read."""
    read = 0
    for product in records:
        for variant in product.variants:
            product_id = links.product_for_variant(session, plugin.id, variant.external_id)
            if product_id is None:
                continue
            for channel_id in plugin.channel_ids:
                links.upsert_listing(
                    session,
                    channel_id,
                    product_id,
                    title=exports.listing_title(product, variant)[:255],
                    description=product.description,
                    images=list(product.images),
                    price=variant.price,
                    published=product.published,
                )
            exports.remember_platform_view(session, plugin, product_id, product, variant)
            read += 1
    return read


HANDLERS: Mapping[WorkKind, Callable[[Job], None]] = MappingProxyType(
    {
        WorkKind.EXPORT_ORDER: export_order,
        WorkKind.CANCEL_ORDER: cancel_order,
        WorkKind.EXPORT_CUSTOMER: export_customer,
        WorkKind.IMPORT_CUSTOMERS: import_customers,
        WorkKind.EXPORT_PRODUCT: export_product,
        WorkKind.SYNC_LISTINGS: sync_listings,
    }
)
