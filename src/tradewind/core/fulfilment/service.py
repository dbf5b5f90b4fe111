"""Fulfilment rules: an order is handed to the channel's fulfilment tool under one
reference for good (sent again, the tool updates it); a shipment the tool reports is
recorded once, as a Tradewind shipment like a typed-in one — stock leaves the warehouse,
the order's fulfilment moves, and its tracking goes back to the storefront."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.catalog.models import sku_key
from tradewind.core.fulfilment.models import FulfilmentOrder, FulfilmentShipment
from tradewind.core.fulfilment.schemas import ShippedIn
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.db import utcnow
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, OrderStatus

UNPAID = frozenset({FinancialStatus.PENDING})


def reference_of(order: Order) -> str:
    """The key the tool knows the order by (ShipStation's ``orderKey``)."""
    return f"tradewind-{order.id}"


def status_for(order: Order) -> str | None:
    """What the tool should make of the order now; ``None``: nothing to send (shipped
    or closed here, the tool has no more to do)."""
    if order.status is OrderStatus.CANCELLED:
        return "cancelled"
    if order.status is OrderStatus.CLOSED:
        return None
    if order.fulfillment_status is FulfillmentStatus.FULFILLED:
        return None
    if order.financial_status in UNPAID:
        return "awaiting_payment"
    return "awaiting_shipment"


def to_send(order: Order, handed: FulfilmentOrder | None) -> str | None:
    """The status to send the tool now, or ``None`` when there is nothing to send: the
    order has no more for the tool, a cancellation of an order it never had, or one
    it has cancelled already (never brought back to life)."""
    status = status_for(order)
    if status is None or (handed is None and status == "cancelled"):
        return None
    if handed is not None and handed.status == "cancelled":
        return None
    return status


def handed(session: Session, plugin_id: int, order_id: int) -> FulfilmentOrder | None:
    return session.scalar(
        select(FulfilmentOrder).where(
            FulfilmentOrder.plugin_id == plugin_id, FulfilmentOrder.order_id == order_id
        )
    )


def of_order(
    session: Session, order_id: int
) -> list[tuple[FulfilmentOrder, list[FulfilmentShipment]]]:
    """Each tool the order was handed to, with the shipments it reported for it."""
    handed = session.scalars(
        select(FulfilmentOrder)
        .where(FulfilmentOrder.order_id == order_id)
        .order_by(FulfilmentOrder.id)
    ).all()
    reported = session.scalars(
        select(FulfilmentShipment)
        .where(FulfilmentShipment.order_id == order_id)
        .order_by(FulfilmentShipment.id)
    ).all()
    return [(h, [r for r in reported if r.plugin_id == h.plugin_id]) for h in handed]


def record_push(
    session: Session, plugin_id: int, order: Order, external_id: str, status: str
) -> FulfilmentOrder:
    found = handed(session, plugin_id, order.id)
    first = found is None
    if found is None:
        found = FulfilmentOrder(
            plugin_id=plugin_id, order_id=order.id, reference=reference_of(order)
        )
        session.add(found)
    found.external_id, found.status, found.pushed_at = external_id, status, utcnow()
    if first:
        orders.add_activity(
            session, order, "fulfilment", f"Sent for fulfilment (the tool's order {external_id})."
        )
    session.flush()
    return found


def record_shipped(session: Session, plugin_id: int, data: ShippedIn) -> str:
    """Record one shipment the tool reports; returns what was done, in a sentence (kept
    as the delivery's outcome). A shipment is recorded once, and only for an order this
    plugin was handed."""
    handed_order = session.scalar(
        select(FulfilmentOrder).where(
            FulfilmentOrder.plugin_id == plugin_id, FulfilmentOrder.reference == data.order_ref
        )
    )
    said = f"shipment {data.external_id}"
    if handed_order is None:
        return f"{said}: order {data.order_ref} was not sent from Tradewind, ignored"
    order = orders.get_order(session, handed_order.order_id)
    known = session.scalar(
        select(FulfilmentShipment).where(
            FulfilmentShipment.plugin_id == plugin_id,
            FulfilmentShipment.external_id == data.external_id,
        )
    )
    if known is not None:
        if data.voided and known.voided_at is None:
            known.voided_at = utcnow()
            orders.add_activity(
                session,
                order,
                "fulfilment",
                f"The fulfilment tool voided its shipment {data.external_id}"
                + (f" (shipment #{known.shipment_id})" if known.shipment_id else "")
                + "; its tracking no longer holds.",
            )
            return f"{said}: voided, noted on order {order.number}"
        return f"{said}: already recorded"
    row = FulfilmentShipment(
        plugin_id=plugin_id,
        external_id=data.external_id,
        order_id=order.id,
        cost=data.cost,
        currency=data.currency,
        recorded_at=utcnow(),
    )
    session.add(row)
    if data.voided:
        row.voided_at, row.note = utcnow(), "voided before Tradewind read it"
        session.flush()
        return f"{said}: voided before it was read, nothing shipped"
    lines = _lines(order, data)
    if not lines:
        row.note = "nothing left to ship"
        session.flush()
        return f"{said}: order {order.number} has nothing left to ship"
    shipment = shipments.create_shipment(
        session,
        order.id,
        ShipmentIn(
            lines=lines,
            carrier=data.carrier,
            tracking_number=data.tracking_number,
            tracking_url=data.tracking_url,
            shipped_at=data.shipped_at,
        ),
    )
    row.shipment_id = shipment.id
    session.flush()
    tracking = f" {data.carrier} {data.tracking_number}".rstrip()
    return f"{said}: shipment #{shipment.id} of order {order.number}{tracking}"


def _lines(order: Order, data: ShippedIn) -> list[ShipmentLineIn]:
    """The lines the shipment takes: its items by SKU, as many as each line has left
    (a line the item names twice, or an item on several lines, is shared out in order);
    without items, everything left."""
    if not data.items:
        return [
            ShipmentLineIn(order_line_id=line.id, quantity=line.unshipped)
            for line in order.lines
            if line.unshipped
        ]
    left = {line.id: line.unshipped for line in order.lines}
    taken: dict[int, int] = {}
    for item in data.items:
        wanted = item.quantity
        for line in order.lines:
            if wanted == 0:
                break
            if sku_key(line.sku) != sku_key(item.sku) or not left[line.id]:
                continue
            share = min(wanted, left[line.id])
            left[line.id] -= share
            taken[line.id] = taken.get(line.id, 0) + share
            wanted -= share
    return [ShipmentLineIn(order_line_id=line_id, quantity=n) for line_id, n in taken.items()]
