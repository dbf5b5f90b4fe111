"""Shipments out: a shipment made in Tradewind becomes a fulfillment on the platform."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import CancelsShipments, ClosesOrders, PushesShipments
from tradewind.connectors.errors import ConnectorError
from tradewind.connectors.records import ShipmentLineRecord, ShipmentRecord
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderLine
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments.models import Shipment
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.vocabulary import FulfillmentStatus, TrackingStatus

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Pushed:
    record: ShipmentRecord
    order_id: int
    remote_id: str


class PushShipment(Single["Pushed | None"]):
    """Send the shipment once (one already on the platform, or gone, is not sent); when
    it fulfils the order and the plugin closes orders, close it there afterwards."""

    def fetch(self, job: Job) -> Pushed | None:
        connector = job.capability(PushesShipments)
        with job.hub.db.read() as session:
            record = self._record(session, job, int(job.row.key))
            if record is None:
                return None
            order_id = record[1]
        return Pushed(record[0], order_id, connector.push_shipment(record[0]))

    def apply(self, session: Session, job: Job, fetched: Pushed | None) -> None:
        if fetched is None:
            return
        found = session.get(Shipment, fetched.record.shipment_id)
        if found is not None:
            found.plugin_id = job.plugin.id
            found.external_id = fetched.remote_id

    def after(self, job: Job, fetched: Pushed | None) -> None:
        connector = job.connector
        if (
            fetched is None
            or not plugins.import_rules(job.plugin).close_orders
            or not isinstance(connector, ClosesOrders)
        ):
            return
        with job.hub.db.read() as session:
            order = session.get(Order, fetched.order_id)
            done = order is not None and order.fulfillment_status is FulfillmentStatus.FULFILLED
        if not done:
            return
        # After the shipment is recorded: closing is a courtesy; if it fails, the shipment
        # is not sent twice, and the failure is kept in the executions.
        try:
            connector.close_order(fetched.record.order_external_id)
        except ConnectorError as exc:
            log.warning(
                "closing the order on the platform failed",
                plugin=job.plugin.id,
                order=fetched.record.order_external_id,
                error=str(exc),
            )
        job.record(lambda _: None)  # the close call, kept with the executions

    @staticmethod
    def _record(session: Session, job: Job, shipment_id: int) -> tuple[ShipmentRecord, int] | None:
        shipment = session.get(Shipment, shipment_id)
        if (
            shipment is None
            or shipment.external_id
            or shipment.tracking_status is TrackingStatus.CANCELLED
        ):
            return None  # gone, already on the platform, or its label voided before
        order = session.get(Order, shipment.order_id)
        assert order is not None
        assert order.external_id is not None
        lines = {
            line.id: line
            for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        }
        rules = plugins.import_rules(job.plugin)
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
        return record, shipment.order_id


class CancelShipment(Single[str | None]):
    """A shipment sent to the platform whose label was then voided: cancelled there too,
    so the store does not show a parcel that never left (its lines unfulfilled again)."""

    def fetch(self, job: Job) -> str | None:
        with job.hub.db.read() as session:
            shipment = session.get(Shipment, int(job.row.key))
            if (
                shipment is None
                or shipment.plugin_id != job.plugin.id
                or not shipment.external_id
                or shipment.tracking_status is not TrackingStatus.CANCELLED
            ):
                return None  # gone, never sent, or shipping after all
            external_id = shipment.external_id
        if not isinstance(job.connector, CancelsShipments):
            return f"not cancelled on {job.plugin.name}: its connector cannot; do it there"
        job.connector.cancel_shipment(external_id)
        return f"its fulfillment {external_id} cancelled on {job.plugin.name} too"

    def apply(self, session: Session, job: Job, fetched: str | None) -> None:
        shipment = session.get(Shipment, int(job.row.key))
        if fetched is None or shipment is None:
            return
        order = session.get(Order, shipment.order_id)
        if order is not None:
            orders.add_activity(
                session, order, "shipment_cancelled_there", f"Shipment #{shipment.id}: {fetched}."
            )
