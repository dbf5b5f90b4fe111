"""Shipment rules: a shipment takes units out of on-hand and out of the order's
reservation in one step; it never ships more than a line has left, and never a line
that is not matched to a product (there would be no stock to take)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.shipments.models import Shipment, ShipmentLine
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ShipmentCancelled, ShipmentCreated, record
from tradewind.vocabulary import TrackingStatus


def get_shipment(session: Session, shipment_id: int) -> Shipment:
    shipment = session.get(Shipment, shipment_id, options=[selectinload(Shipment.lines)])
    if shipment is None:
        raise NotFound(f"no shipment with id {shipment_id}")
    return shipment


def list_shipments(
    session: Session, *, order_id: int | None = None, after_id: int = 0, limit: int = 100
) -> list[Shipment]:
    query = select(Shipment).where(Shipment.id > after_id).order_by(Shipment.id).limit(limit)
    if order_id is not None:
        query = query.where(Shipment.order_id == order_id)
    return list(session.scalars(query))


def create_shipment(session: Session, order_id: int, data: ShipmentIn) -> Shipment:
    order = orders.get_order(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        raise Invalid(f"order {order.number} is cancelled; nothing can ship")
    warehouse_id = data.warehouse_id or order.warehouse_id
    if warehouse_id is None:
        raise Invalid(
            f"order {order.number} has no warehouse to ship from",
            fields={"warehouse_id": "required"},
        )
    lines_by_id = {line.id: line for line in order.lines}
    wanted = data.lines or [
        ShipmentLineIn(order_line_id=line.id, quantity=line.unshipped)
        for line in order.lines
        if line.unshipped
    ]
    if not wanted:
        raise Invalid(f"order {order.number} has nothing left to ship")
    totals: dict[int, int] = {}
    for item in wanted:
        totals[item.order_line_id] = totals.get(item.order_line_id, 0) + item.quantity
    for line_id, quantity in totals.items():
        line = lines_by_id.get(line_id)
        if line is None:
            raise Invalid(f"line {line_id} is not a line of order {order.number}")
        if line.product_id is None:
            raise Invalid(
                f"line {line.sku} of order {order.number} is not matched to a product; "
                "map the SKU to a product before shipping it"
            )
        if quantity > line.unshipped:
            raise Invalid(
                f"line {line.sku} of order {order.number} has {line.unshipped} left to ship, "
                f"not {quantity}"
            )
    shipment = Shipment(
        order_id=order.id,
        warehouse_id=warehouse_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        tracking_url=data.tracking_url,
        shipped_at=data.shipped_at or utcnow(),
        notify_customer=data.notify_customer,
        plugin_id=data.plugin_id,
        external_id=data.external_id,
    )
    session.add(shipment)
    session.flush()
    for line_id, quantity in totals.items():
        line = lines_by_id[line_id]
        assert line.product_id is not None
        inventory.ship_reserved(
            session,
            line.holder,
            line.product_id,
            warehouse_id,
            quantity,
            reference=f"shipment:{shipment.id}",
        )
        line.shipped_quantity += quantity
        shipment.lines.append(ShipmentLine(order_line_id=line_id, quantity=quantity))
    session.flush()
    tracking = (
        f" tracking {data.carrier} {data.tracking_number}".rstrip()
        if (data.tracking_number)
        else ""
    )
    orders.add_activity(
        session,
        order,
        "shipped",
        f"Shipment #{shipment.id}: {sum(totals.values())} unit(s) shipped{tracking}.",
    )
    orders.refresh_fulfillment(order)
    orders.sync_reservations(session, order)
    session.flush()
    record(session, ShipmentCreated(shipment_id=shipment.id, order_id=order.id))
    return shipment


def check_shippable(session: Session, order_id: int, warehouse_id: int | None) -> None:
    """Refuse, as ``create_shipment`` would, an order whose unshipped lines cannot all
    leave ``warehouse_id`` now (unmatched, or not enough on hand): asked before a label
    is paid for, so that a carrier never sells one for a shipment Tradewind refuses."""
    order = orders.get_order(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        raise Invalid(f"order {order.number} is cancelled; nothing can ship")
    source = warehouse_id or order.warehouse_id
    wanted = [line for line in order.lines if line.unshipped]
    if not wanted:
        raise Invalid(f"order {order.number} has nothing left to ship")
    for line in wanted:
        if line.product_id is None:
            raise Invalid(
                f"line {line.sku} of order {order.number} is not matched to a product; "
                "map the SKU to a product before shipping it"
            )
        level = inventory.level(session, line.product_id, source) if source else None
        on_hand = level.on_hand if level is not None else 0
        if on_hand < line.unshipped:
            raise Invalid(
                f"line {line.sku} of order {order.number} needs {line.unshipped} on hand "
                f"to ship, and {on_hand} are: receive the stock before buying its label"
            )


def update_tracking(
    session: Session, shipment: Shipment, *, carrier: str, number: str, url: str
) -> bool:
    """Newer tracking for a shipment, from the platform that holds it: an empty value
    keeps ours. Returns whether the carrier or number changed (the order's timeline says
    so)."""
    wanted = (carrier or shipment.carrier, number or shipment.tracking_number)
    if wanted == (shipment.carrier, shipment.tracking_number):
        return False
    shipment.carrier, shipment.tracking_number = wanted
    if url:
        shipment.tracking_url = url
    order = orders.get_order(session, shipment.order_id)
    orders.add_activity(
        session,
        order,
        "tracking",
        f"Shipment #{shipment.id}: tracking now {shipment.carrier} {shipment.tracking_number}"
        " (changed on the platform).",
    )
    session.flush()
    return True


def can_unship(session: Session, shipment_id: int) -> Shipment:
    """The shipment, if it can be undone: refused when it is cancelled already or units
    of it came back (then it did ship)."""
    shipment = get_shipment(session, shipment_id)
    if shipment.tracking_status is TrackingStatus.CANCELLED:
        raise Conflict(f"shipment {shipment.id} is cancelled already")
    lines = {line.id: line for line in orders.get_order(session, shipment.order_id).lines}
    for item in shipment.lines:
        line = lines[item.order_line_id]
        if line.shipped_quantity - item.quantity < line.returned_quantity:
            raise Invalid(f"units of shipment {shipment.id} ({line.sku}) were returned: it shipped")
    return shipment


def unship(session: Session, shipment_id: int, why: str) -> Shipment:
    """The shipment did not leave after all (its label was voided): its units go back on
    hand and into the order's reservation, its lines are unshipped again, and it stays
    on record as cancelled."""
    shipment = can_unship(session, shipment_id)
    order = orders.get_order(session, shipment.order_id)
    lines = {line.id: line for line in order.lines}
    for item in shipment.lines:
        line = lines[item.order_line_id]
        if line.product_id is not None and shipment.warehouse_id is not None:
            inventory.adjust(
                session,
                line.product_id,
                shipment.warehouse_id,
                item.quantity,
                reason=why,
                reference=f"shipment:{shipment.id}",
            )
        line.shipped_quantity = max(0, line.shipped_quantity - item.quantity)
    shipment.tracking_status = TrackingStatus.CANCELLED
    orders.refresh_fulfillment(order)
    orders.sync_reservations(session, order)
    orders.add_activity(
        session,
        order,
        "unshipped",
        f"Shipment #{shipment.id} cancelled ({why}): "
        f"{sum(item.quantity for item in shipment.lines)} unit(s) back on hand.",
    )
    session.flush()
    record(session, ShipmentCancelled(shipment_id=shipment.id, order_id=order.id))
    return shipment
