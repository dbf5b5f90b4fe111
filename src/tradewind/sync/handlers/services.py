"""Service work of a channel's plugins: a package being prepared is rated; the tax of
an order made in Tradewind is
computed as it is created, committed to the service as a sale once the order has
shipped, and refunded on that sale for the units of a received return. The requests a
service is sent are built here for the actions a person runs too (``app/shipping.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.errors import Rejected
from tradewind.connectors.records import AddressRecord
from tradewind.connectors.services import (
    CalculatesTax,
    CommitsTax,
    ParcelRecord,
    QuotesRates,
    RateRecord,
    RefundsTax,
    ShipmentRequest,
    TaxLine,
    TaxRecord,
    TaxRefundLine,
    TaxRefundRequest,
    TaxRequest,
    TrackingRecord,
    TracksParcels,
)
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Label, LabelState, Package, PackageState
from tradewind.core.shipping.schemas import QuoteIn, TaxIn, TrackingIn
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import TrackingStatus


def address(stored: dict[str, object] | None) -> AddressRecord:
    known = set(AddressRecord.model_fields)
    return AddressRecord.model_validate(
        {key: value for key, value in (stored or {}).items() if key in known}
    )


def shipment_request(package: Package) -> ShipmentRequest:
    return ShipmentRequest(
        reference=str(package.id),
        ship_from=address(package.ship_from),
        ship_to=address(package.ship_to),
        parcels=tuple(
            ParcelRecord.model_validate(
                {
                    "length": p.length,
                    "width": p.width,
                    "height": p.height,
                    "distance_unit": p.distance_unit,
                    "weight": p.weight,
                    "mass_unit": p.mass_unit,
                }
            )
            for p in package.parcels
        ),
    )


def quotes_in(rates: Sequence[RateRecord]) -> list[QuoteIn]:
    """A service's rates as quotes to keep, each with the ids its purchase needs back
    (its shipment's and its own)."""
    return [
        QuoteIn(
            external_id=(
                f"{rate.shipment_ref}|{rate.external_id}" if rate.shipment_ref else rate.external_id
            ),
            carrier=rate.carrier,
            service=rate.service,
            amount=rate.amount,
            currency=rate.currency,
            estimated_days=rate.estimated_days,
        )
        for rate in rates
    ]


class GetRates(Single["list[QuoteIn] | None"]):
    """Key: a package id. The package being prepared, rated by the channel's rating
    plugin, so that its rates are there when a person opens the order. A package that
    has its label by then, or fresh rates from this plugin, is not rated again."""

    def fetch(self, job: Job) -> list[QuoteIn] | None:
        connector = job.capability(QuotesRates)
        with job.hub.db.read() as session:
            package = session.get(Package, int(job.row.key))
            if package is None or not _wants_rates(package, job.plugin.id):
                return None
            request = shipment_request(package)
        return quotes_in(connector.get_rates(request))

    def apply(self, session: Session, job: Job, fetched: list[QuoteIn] | None) -> None:
        package = session.get(Package, int(job.row.key))
        if fetched is None or package is None or not _wants_rates(package, job.plugin.id):
            return
        shipping.record_quotes(session, package.id, job.plugin.id, fetched)


def _wants_rates(package: Package, plugin_id: int) -> bool:
    if package.state not in (PackageState.DRAFT, PackageState.VOIDED):
        return False
    now = utcnow()
    return not any(q.plugin_id == plugin_id and q.expires_at > now for q in package.quotes)


def tax_request(session: Session, order: Order) -> TaxRequest:
    source = session.get(Warehouse, order.warehouse_id) if order.warehouse_id else None
    return TaxRequest(
        reference=order.number,
        ship_from=address(source.address if source else None),
        ship_to=address(order.shipping_address),
        currency=order.currency,
        shipping=order.shipping_total,
        placed_at=order.placed_at,
        lines=tuple(
            TaxLine(
                id=str(line.id), quantity=line.quantity, unit_price=line.unit_price, sku=line.sku
            )
            for line in order.lines
        ),
    )


def tax_in(tax: TaxRecord) -> TaxIn:
    return TaxIn(
        amount=tax.amount,
        shipping_tax=tax.shipping_tax,
        rate=tax.rate,
        lines={int(key): value for key, value in tax.lines.items() if key.isdigit()},
    )


@dataclass(frozen=True)
class TaxRefused:
    reason: str


class CalculateTax(Single["TaxRecord | TaxRefused | None"]):
    """Key: the order id. An order the service refuses to tax (an address it cannot
    place) is told on its timeline and in a notification, with nothing written."""

    def fetch(self, job: Job) -> TaxRecord | TaxRefused | None:
        connector = job.capability(CalculatesTax)
        with job.hub.db.read() as session:
            order = orders.get_order(session, int(job.row.key))
            found = taxes.tax_of(session, order.id)
            if found is not None and found.committed_at is not None:
                return None  # committed: it no longer changes
            request = tax_request(session, order)
        try:
            return connector.calculate_tax(request)
        except Rejected as exc:
            return TaxRefused(str(exc))

    def apply(self, session: Session, job: Job, fetched: TaxRecord | TaxRefused | None) -> None:
        order_id = int(job.row.key)
        if isinstance(fetched, TaxRefused):
            tax_refused(session, order_id, job.plugin.id, fetched.reason)
        elif fetched is not None:
            taxes.record_tax(session, order_id, job.plugin.id, tax_in(fetched))
            tax_computed(session, order_id, job.plugin.id)


def _tax_subject(order: Order) -> str:
    return f"tax of order {order.number}"


def tax_refused(session: Session, order_id: int, plugin_id: int, reason: str) -> None:
    """The tax service refused to tax the order: said on the order and to a person."""
    order = orders.get_order(session, order_id)
    orders.add_activity(
        session,
        order,
        "tax_refused",
        f"Tax not computed: {reason}. Correct the order's shipping address, then Calculate tax.",
    )
    notifications.raise_notification(
        session,
        NotificationKind.RECORD_REJECTED,
        plugin_id=plugin_id,
        subject=_tax_subject(order),
        message=(
            f"The tax of order {order.number} was not computed: {reason}. Correct its "
            "shipping address, then Calculate tax on the order."
        ),
    )


def tax_computed(session: Session, order_id: int, plugin_id: int) -> None:
    """The order is taxed: a refusal told before is over."""
    order = orders.get_order(session, order_id)
    notifications.resolve(
        session, NotificationKind.RECORD_REJECTED, plugin_id=plugin_id, subject=_tax_subject(order)
    )


class CommitTax(Single["str | None"]):
    """Key: the order id. A sale is committed once; an order without computed tax has
    nothing to commit."""

    def fetch(self, job: Job) -> str | None:
        connector = job.capability(CommitsTax)
        with job.hub.db.read() as session:
            order = orders.get_order(session, int(job.row.key))
            found = taxes.tax_of(session, order.id)
            if found is None or found.committed_at is not None:
                return None
            request = tax_request(session, order)
            computed = TaxRecord(
                amount=found.amount,
                shipping_tax=found.shipping_tax,
                rate=found.rate,
                lines={str(line.id): line.tax_amount for line in order.lines},
            )
        return connector.commit_tax(request, computed)

    def apply(self, session: Session, job: Job, fetched: str | None) -> None:
        if fetched is None:
            return
        taxes.commit_tax(session, int(job.row.key), fetched, job.plugin.id)
        # Returns received before the sale was recorded are refunded on it now.
        received = session.scalars(
            select(Return.id).where(
                Return.order_id == int(job.row.key), Return.status != ReturnStatus.REQUESTED
            )
        )
        for return_id in received:
            if taxes.refund_due(session, return_id) is not None:
                ledger.enqueue(session, job.plugin.id, WorkKind.REFUND_TAX, str(return_id))


class RefundTax(Single["tuple[taxes.RefundDue, str] | None"]):
    """Key: a return id. Its units' tax, refunded on the order's committed sale by the
    plugin that committed it (once: a refund recorded is not sent again)."""

    def fetch(self, job: Job) -> tuple[taxes.RefundDue, str] | None:
        connector = job.capability(RefundsTax)
        with job.hub.db.read() as session:
            due = taxes.refund_due(session, int(job.row.key))
            if due is None:
                return None
            order = orders.get_order(session, due.order_id)
            sold = tax_request(session, order)
            found = session.get(Return, due.return_id)
            request = TaxRefundRequest(
                reference=f"{order.number}-R{due.return_id}",
                sale=due.sale,
                ship_from=sold.ship_from,
                ship_to=sold.ship_to,
                currency=order.currency,
                refunded_at=(found.received_at if found else None) or utcnow(),
                tax=due.amount,
                lines=tuple(
                    TaxRefundLine(
                        id=str(line.order_line_id),
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        tax=line.tax,
                        sku=line.sku,
                    )
                    for line in due.lines
                ),
            )
        return due, connector.refund_tax(request)

    def apply(
        self, session: Session, job: Job, fetched: tuple[taxes.RefundDue, str] | None
    ) -> None:
        if fetched is not None:
            due, refund_id = fetched
            taxes.record_tax_refund(session, due, job.plugin.id, refund_id)


class TrackShipment(Single["tuple[list[int], Sequence[TrackingRecord]] | None"]):
    """Key: a tracking number. Its shipments' tracking, read from the carrier (after its
    webhook said something moved, or as the poll's safety net)."""

    def fetch(self, job: Job) -> tuple[list[int], Sequence[TrackingRecord]] | None:
        connector = job.capability(TracksParcels)
        with job.hub.db.read() as session:
            found = session.scalars(
                select(Shipment).where(Shipment.tracking_number == job.row.key)
            ).all()
            if not found:
                return None  # not a parcel of ours
            carrier, ids = found[0].carrier, [shipment.id for shipment in found]
        return ids, connector.track(carrier, job.row.key)

    def apply(
        self,
        session: Session,
        job: Job,
        fetched: tuple[list[int], Sequence[TrackingRecord]] | None,
    ) -> None:
        if fetched is None:
            return
        ids, scans = fetched
        events = [TrackingIn(**scan.model_dump()) for scan in scans]
        for shipment_id in ids:
            shipping.record_tracking(session, shipment_id, events, job.plugin.id)


# How far back, and how many at once, the tracking poll looks.
TRACKING_POLL_DAYS = 30
TRACKING_POLL_BATCH = 50
IN_TRANSIT = (
    TrackingStatus.UNKNOWN,
    TrackingStatus.PRE_TRANSIT,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY,
)


class PollTracking(Single["list[tuple[int, Sequence[TrackingRecord]]]"]):
    """The safety net under the carrier's webhooks: the parcels of the plugin's labels
    still on their way (the oldest read first, up to a batch), re-read."""

    def fetch(self, job: Job) -> list[tuple[int, Sequence[TrackingRecord]]]:
        connector = job.capability(TracksParcels)
        since = utcnow() - dt.timedelta(days=TRACKING_POLL_DAYS)
        with job.hub.db.read() as session:
            rows = session.execute(
                select(Shipment.id, Shipment.carrier, Shipment.tracking_number)
                .join(Package, Package.shipment_id == Shipment.id)
                .join(Label, Label.package_id == Package.id)
                .where(
                    Label.plugin_id == job.plugin.id,
                    Label.state == LabelState.PURCHASED,
                    Shipment.tracking_status.in_(IN_TRANSIT),
                    Shipment.shipped_at >= since,
                )
                .order_by(Shipment.updated_at)
                .limit(TRACKING_POLL_BATCH)
            ).all()
        return [(row.id, connector.track(row.carrier, row.tracking_number)) for row in rows]

    def apply(
        self, session: Session, job: Job, fetched: list[tuple[int, Sequence[TrackingRecord]]]
    ) -> None:
        for shipment_id, scans in fetched:
            shipment = session.get(Shipment, shipment_id)
            if shipment is not None:
                shipment.updated_at = utcnow()  # read now: the others go first next time
            events = [TrackingIn(**scan.model_dump()) for scan in scans]
            shipping.record_tracking(session, shipment_id, events, job.plugin.id)
