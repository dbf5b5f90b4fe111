"""Return rules: only shipped units can come back, each at most once; a return moves
requested → received → closed, and on receipt puts units back on the shelf when it is
marked for restock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.returns.models import NEXT_STATUS, Return, ReturnLine, ReturnStatus
from tradewind.core.returns.schemas import ReturnIn
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound
from tradewind.events import ReturnUpdated, record


def get_return(session: Session, return_id: int) -> Return:
    found = session.get(Return, return_id, options=[selectinload(Return.lines)])
    if found is None:
        raise NotFound(f"no return with id {return_id}")
    return found


def list_returns(
    session: Session,
    *,
    order_id: int | None = None,
    status: ReturnStatus | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Return]:
    query = select(Return).where(Return.id > after_id).order_by(Return.id).limit(limit)
    if order_id is not None:
        query = query.where(Return.order_id == order_id)
    if status is not None:
        query = query.where(Return.status == status)
    return list(session.scalars(query))


def request_return(session: Session, order_id: int, data: ReturnIn) -> Return:
    order = orders.get_order(session, order_id)
    lines = {line.id: line for line in order.lines}
    wanted: dict[int, int] = {}
    for item in data.lines:
        wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise Invalid(f"line {line_id} is not a line of order {order.number}")
        returnable = line.shipped_quantity - line.returned_quantity
        if quantity > returnable:
            raise Invalid(
                f"line {line.sku} of order {order.number}: {returnable} unit(s) can be "
                f"returned (shipped and not yet returned), not {quantity}"
            )
    created = Return(
        order_id=order.id,
        reason=data.reason,
        restock=data.restock,
        warehouse_id=data.warehouse_id or order.warehouse_id,
        plugin_id=data.plugin_id,
        external_id=data.external_id,
    )
    for line_id, quantity in wanted.items():
        lines[line_id].returned_quantity += quantity
        created.lines.append(ReturnLine(order_line_id=line_id, quantity=quantity))
    session.add(created)
    session.flush()
    orders.add_activity(
        session,
        order,
        "return_requested",
        f"Return #{created.id} requested for {sum(wanted.values())} unit(s)"
        f"{f': {data.reason}' if data.reason else ''}.",
    )
    record(session, ReturnUpdated(return_id=created.id, order_id=order.id, status=created.status))
    return created


def advance_return(session: Session, return_id: int, to: ReturnStatus) -> Return:
    """Move a return one step: requested → received (restocks) → closed."""
    found = get_return(session, return_id)
    expected = NEXT_STATUS.get(found.status)
    if expected is not to:
        allowed = f"only to {expected.value}" if expected else "no further"
        raise Invalid(
            f"return #{found.id} is {found.status.value}; it can move {allowed}, not to {to.value}"
        )
    order = orders.get_order(session, found.order_id)
    found.status = to
    if to is ReturnStatus.RECEIVED:
        found.received_at = utcnow()
        restocked = 0
        if found.restock:
            if found.warehouse_id is None:
                raise Invalid(f"return #{found.id} has no warehouse to restock into")
            lines = {line.id: line for line in order.lines}
            for item in found.lines:
                product_id = lines[item.order_line_id].product_id
                if product_id is None:
                    continue  # an unmatched line has no stock to put back
                inventory.restock_return(
                    session,
                    product_id,
                    found.warehouse_id,
                    item.quantity,
                    reason=found.reason or "customer return",
                    reference=f"return:{found.id}",
                )
                restocked += item.quantity
        orders.add_activity(
            session,
            order,
            "return_received",
            f"Return #{found.id} received; {restocked} unit(s) restocked.",
        )
    else:
        found.closed_at = utcnow()
        orders.add_activity(session, order, "return_closed", f"Return #{found.id} closed.")
    session.flush()
    record(session, ReturnUpdated(return_id=found.id, order_id=order.id, status=found.status))
    return found
