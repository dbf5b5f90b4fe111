"""Stored webhook deliveries that are not about one order (those become order re-reads
at intake): what each says is turned into work."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import ReceivesWebhooks
from tradewind.connectors.errors import AuthFailed
from tradewind.connectors.records import WebhookEvent
from tradewind.core.links.models import ProductLink
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.sync import ledger, privacy, stock
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import PerRow
from tradewind.sync.inbox import order_work, read_event
from tradewind.sync.models import CUSTOMERS_STREAM, InboxDelivery, SyncWork, WorkKind
from tradewind.vocabulary import StockMode, Toggle

# A burst of customer deliveries waits this long and becomes one read of what changed.
CUSTOMER_WEBHOOK_DELAY_SECONDS = 2.0


Delivery = tuple[str, dict[str, str], bytes]


class Webhook(PerRow[tuple[ReceivesWebhooks, dict[int, Delivery]], "WebhookEvent | None"]):
    """Each delivery read by the connector (one it cannot read is closed on its own);
    the batch's work is queued in one commit. An uninstalled app is an authorization
    lost, said once the deliveries are done."""

    def prepare(self, job: Job) -> tuple[ReceivesWebhooks, dict[int, Delivery]]:
        connector = job.capability(ReceivesWebhooks)
        with job.hub.db.read() as session:
            deliveries = {
                delivery.id: (delivery.topic, dict(delivery.headers), delivery.body)
                for delivery in session.scalars(
                    select(InboxDelivery).where(
                        InboxDelivery.id.in_([int(row.key) for row in job.rows])
                    )
                )
            }
        return connector, deliveries

    def fetch_row(
        self, job: Job, context: tuple[ReceivesWebhooks, dict[int, Delivery]], row: SyncWork
    ) -> WebhookEvent | None:
        connector, deliveries = context
        found = deliveries.get(int(row.key))
        return None if found is None else read_event(connector, *found)

    def apply(
        self, session: Session, job: Job, fetched: list[tuple[SyncWork, WebhookEvent | None]]
    ) -> None:
        for row, event in fetched:
            if event is None:
                continue
            outcome = f"{event.subject} {event.subject_id}".strip()
            found = session.get(InboxDelivery, int(row.key))
            if event.subject == "order" and event.subject_id and found is not None:
                order_work(session, job.plugin.id, event, found.id, found.body)
            elif event.subject == "inventory":
                outcome = _inventory_changed(session, job.plugin, event)
            elif event.subject == "customer":
                outcome = _customer_changed(session, job.plugin.id)
            elif event.subject == "privacy":
                outcome = privacy.act(session, job.plugin, event)
            elif event.subject == "tracking" and event.subject_id:
                # The carrier's news is re-read, not trusted: its tracking is fetched.
                ledger.enqueue(session, job.plugin.id, WorkKind.TRACK_SHIPMENT, event.subject_id)
            elif event.subject == "shipment" and event.subject_id:
                # A thin delivery: it names where the shipments are; they are read there.
                ledger.enqueue(
                    session,
                    job.plugin.id,
                    WorkKind.IMPORT_SHIPMENTS,
                    hashlib.sha256(event.subject_id.encode()).hexdigest()[:40],
                    payload={"webhook": event.topic, "url": event.subject_id},
                )
                outcome = "shipment: its shipments will be read"
            if found is not None:
                found.processed_at = utcnow()
                found.outcome = outcome

    def after(self, job: Job, fetched: list[tuple[SyncWork, WebhookEvent | None]]) -> None:
        if any(
            event and event.subject == "app" and event.topic.startswith("app/uninstalled")
            for _, event in fetched
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
        CUSTOMERS_STREAM,
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
