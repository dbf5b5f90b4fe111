"""Work of a channel's fulfilment tool (ShipStation-style): an order handed to it, and
the shipments a thin delivery of its points to, read back and recorded as Tradewind
shipments — whose tracking then goes to the storefront as a typed-in one does."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.records import Page
from tradewind.connectors.services import (
    FulfilmentLine,
    FulfilmentOrder,
    ListsShipments,
    PushesForFulfilment,
    ReportsShipments,
    ShippedRecord,
)
from tradewind.core.fulfilment import service as fulfilment
from tradewind.core.fulfilment.models import FulfilmentOrder as HandedOrder
from tradewind.core.fulfilment.schemas import ShippedIn
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.db import utcnow
from tradewind.errors import TradewindError
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.sync.handlers.services import address
from tradewind.vocabulary import FulfillmentStatus, OrderStatus

# How many handed orders one poll asks about (the least recently asked first).
FULFILMENT_POLL_BATCH = 30

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Handed:
    external_id: str
    status: str


def fulfilment_order(order: Order, status: str) -> FulfilmentOrder:
    ship_to = address(order.shipping_address)
    return FulfilmentOrder(
        reference=fulfilment.reference_of(order),
        number=order.number,
        status=status,
        placed_at=order.placed_at,
        currency=order.currency,
        email=order.email,
        bill_to=address(order.billing_address) if order.billing_address else ship_to,
        ship_to=ship_to,
        shipping=order.shipping_total,
        tax=order.tax_total,
        total=order.total,
        note=order.note,
        lines=tuple(
            FulfilmentLine(
                id=str(line.id),
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax=line.tax_amount,
            )
            for line in order.lines
        ),
    )


class PushFulfilment(Single["Handed | None"]):
    """Key: the order id. The order as it is now, sent under its one reference (the
    tool updates its copy); an order with nothing left for the tool is not sent."""

    def fetch(self, job: Job) -> Handed | None:
        connector = job.capability(PushesForFulfilment)
        with job.hub.db.read() as session:
            order = orders.get_order(session, int(job.row.key))
            status = fulfilment.to_send(order, fulfilment.handed(session, job.plugin.id, order.id))
            if status is None:
                return None
            record = fulfilment_order(order, status)
        return Handed(connector.push_order_for_fulfilment(record), status)

    def apply(self, session: Session, job: Job, fetched: Handed | None) -> None:
        if fetched is None:
            return
        order = orders.get_order(session, int(job.row.key))
        fulfilment.record_push(session, job.plugin.id, order, fetched.external_id, fetched.status)


class ImportShipments(Single["Page[ShippedRecord]"]):
    """Key: a digest of the delivery's resource; payload ``{"webhook", "url"}``. What the
    tool shipped, read from where its delivery points (never from elsewhere: the
    connector checks the host), each shipment recorded once. One the core refuses (a
    line not matched to a product) is told on its order and as a notification; the
    others are recorded."""

    def fetch(self, job: Job) -> Page[ShippedRecord]:
        connector = job.capability(ReportsShipments)
        payload = dict(job.row.payload)
        return connector.shipments_at(str(payload["webhook"]), str(payload["url"]))

    def apply(self, session: Session, job: Job, fetched: Page[ShippedRecord]) -> None:
        record_all(session, job, fetched)


class PollFulfilment(Single["tuple[list[int], list[Page[ShippedRecord]]]"]):
    """The safety net under the tool's notices: the orders handed to it that have not
    shipped here (the least recently asked first, up to a batch) are asked about, and
    what it shipped is recorded as a notice would have."""

    def fetch(self, job: Job) -> tuple[list[int], list[Page[ShippedRecord]]]:
        connector = job.capability(ListsShipments)
        with job.hub.db.read() as session:
            rows = session.execute(
                select(HandedOrder.id, HandedOrder.reference, HandedOrder.external_id)
                .join(Order, Order.id == HandedOrder.order_id)
                .where(
                    HandedOrder.plugin_id == job.plugin.id,
                    HandedOrder.status != "cancelled",
                    Order.status == OrderStatus.OPEN,
                    Order.fulfillment_status != FulfillmentStatus.FULFILLED,
                )
                .order_by(
                    HandedOrder.checked_at.is_not(None), HandedOrder.checked_at, HandedOrder.id
                )
                .limit(FULFILMENT_POLL_BATCH)
            ).all()
        pages = [connector.shipments_of(row.reference, row.external_id) for row in rows]
        return [row.id for row in rows], pages

    def apply(
        self, session: Session, job: Job, fetched: tuple[list[int], list[Page[ShippedRecord]]]
    ) -> None:
        ids, pages = fetched
        for page in pages:
            record_all(session, job, page)
        now = utcnow()
        for handed in session.scalars(select(HandedOrder).where(HandedOrder.id.in_(ids))):
            handed.checked_at = now


def record_all(session: Session, job: Job, fetched: Page[ShippedRecord]) -> None:
    """Each shipment recorded once; one the core refuses is told, the others go on."""
    for ident, reason in fetched.skipped:
        notifications.raise_notification(
            session,
            NotificationKind.RECORD_REJECTED,
            plugin_id=job.plugin.id,
            subject=f"shipment {ident}",
            message=f"Shipment {ident} could not be read: {reason}",
        )
    for record in fetched.records:
        try:
            with session.begin_nested():
                said = fulfilment.record_shipped(
                    session, job.plugin.id, ShippedIn.model_validate(record.model_dump())
                )
        except TradewindError as exc:
            notifications.raise_notification(
                session,
                NotificationKind.RECORD_REJECTED,
                plugin_id=job.plugin.id,
                subject=f"shipment {record.external_id}",
                message=f"Shipment {record.external_id} could not be recorded: {exc}",
            )
            continue
        log.info("fulfilment shipment", plugin=job.plugin.id, outcome=said)
