"""Orders (imported and manual), their timeline, shipments and returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import Depends, Query, Request, status
from pydantic import BaseModel, Field

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import Principal, api_principal, hub_of
from tradewind.core.orders import payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.orders.payments import PaymentIn
from tradewind.core.orders.schemas import MAX_LINES, OrderIn, OrderLineIn
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.returns.schemas import ReturnIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.errors import Invalid

router = resource_router("orders")


class ManualOrderIn(OrderIn):
    """The order wizard: an order made in Tradewind for one channel."""

    channel_id: int = Field(description="The channel the order belongs to.")
    lines: list[OrderLineIn] = Field(
        min_length=1,
        max_length=MAX_LINES,
        description=f"At most {MAX_LINES:,} lines (README, Limits).",
    )


@router.get("/orders", response_model=Page[schemas.OrderOut])
def list_orders(
    request: Request,
    page: PageParams = Depends(page_params),
    channel_id: int | None = None,
    plugin_id: int | None = None,
    status_: OrderStatus | None = Query(default=None, alias="status"),
    missing_product: bool | None = None,
    search: str | None = Query(default=None, max_length=128, description="Number or email."),
) -> Page[schemas.OrderOut]:
    """Newest first: by when the order was placed, then by id."""
    if page.after_id and page.after_at is None:
        raise Invalid("cursor is not one this list gave out", fields={"cursor": "invalid"})
    after = orders.Position(page.after_at, page.after_id) if page.after_at is not None else None
    with hub_of(request).db.read() as session:
        rows = orders.list_orders(
            session,
            channel_id=channel_id,
            plugin_id=plugin_id,
            status=status_,
            missing_product=missing_product,
            search=search,
            after=after,
            limit=page.limit + 1,
        )
        return paginate(
            rows,
            page.limit,
            schemas.OrderOut.model_validate,
            lambda o: o.id,
            at=lambda o: o.placed_at,
        )


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrderOut,
    responses=responses(404),
)
def create_order(request: Request, body: ManualOrderIn) -> schemas.OrderOut:
    """A manual order (customer, lines, addresses) for a channel."""
    data = OrderIn.model_validate(body.model_dump(exclude={"channel_id"}))
    with hub_of(request).db.unit_of_work() as session:
        order = orders.create_manual_order(session, body.channel_id, data)
        return schemas.OrderOut.model_validate(orders.get_order(session, order.id))


@router.post(
    "/orders/assign-product",
    response_model=schemas.AssignProductOut,
    responses=responses(404),
)
def assign_product(request: Request, body: schemas.AssignProductIn) -> schemas.AssignProductOut:
    """Fix a *missing product*: match the open lines carrying `sku` to `product_id`."""
    with hub_of(request).db.unit_of_work() as session:
        changed = orders.assign_product(
            session, body.sku, body.product_id, plugin_id=body.plugin_id
        )
        count = sum(
            1 for order in changed for line in order.lines if line.product_id == body.product_id
        )
        return schemas.AssignProductOut(lines=count)


@router.get("/orders/{order_id}", response_model=schemas.OrderOut, responses=responses(404))
def get_order(request: Request, order_id: int) -> schemas.OrderOut:
    with hub_of(request).db.read() as session:
        return schemas.OrderOut.model_validate(orders.get_order(session, order_id))


@router.get(
    "/orders/{order_id}/activities",
    response_model=list[schemas.ActivityOut],
    responses=responses(404),
)
def get_timeline(request: Request, order_id: int) -> list[schemas.ActivityOut]:
    """What happened to the order and its lines, oldest first."""
    with hub_of(request).db.read() as session:
        orders.get_order(session, order_id)
        return [schemas.ActivityOut.model_validate(a) for a in orders.activities(session, order_id)]


@router.post("/orders/{order_id}/cancel", response_model=schemas.OrderOut, responses=responses(404))
def cancel_order(request: Request, order_id: int, body: schemas.CancelIn) -> schemas.OrderOut:
    with hub_of(request).db.unit_of_work() as session:
        orders.cancel_order(session, order_id, body.reason)
        return schemas.OrderOut.model_validate(orders.get_order(session, order_id))


class PaymentOut(BaseModel):
    id: int
    order_id: int
    amount: Decimal
    currency: str
    method: str
    reference: str
    recorded_by: str
    recorded_at: dt.datetime


@router.post(
    "/orders/{order_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses=responses(404, 409),
)
def record_payment(
    request: Request,
    order_id: int,
    body: PaymentIn,
    principal: Principal = Depends(api_principal),
) -> PaymentOut:
    """Record a payment made outside the platform (an order imported unpaid under *Ignore
    financial status*, or made here): the order becomes partially paid, then paid once
    the payments reach its total."""
    with hub_of(request).db.unit_of_work() as session:
        made = payments.record_payment(session, order_id, body, by=f"token {principal.name}")
        return PaymentOut.model_validate(made, from_attributes=True)


@router.get(
    "/orders/{order_id}/payments", response_model=list[PaymentOut], responses=responses(404)
)
def list_payments(request: Request, order_id: int) -> list[PaymentOut]:
    with hub_of(request).db.read() as session:
        orders.get_order(session, order_id)
        return [
            PaymentOut.model_validate(p, from_attributes=True)
            for p in payments.payments_of(session, order_id)
        ]


@router.post(
    "/orders/{order_id}/shipments",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ShipmentOut,
    responses=responses(404),
    tags=["shipments"],
)
def ship_order(request: Request, order_id: int, body: ShipmentIn) -> schemas.ShipmentOut:
    """Ship lines (empty: everything not yet shipped) from the order's warehouse."""
    with hub_of(request).db.unit_of_work() as session:
        shipment = shipments.create_shipment(session, order_id, body)
        return schemas.ShipmentOut.model_validate(shipment)


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ReturnOut,
    responses=responses(404),
    tags=["returns"],
)
def request_return(request: Request, order_id: int, body: ReturnIn) -> schemas.ReturnOut:
    with hub_of(request).db.unit_of_work() as session:
        return schemas.ReturnOut.model_validate(returns.request_return(session, order_id, body))


@router.get("/shipments", response_model=Page[schemas.ShipmentOut], tags=["shipments"])
def list_shipments(
    request: Request, page: PageParams = Depends(page_params), order_id: int | None = None
) -> Page[schemas.ShipmentOut]:
    with hub_of(request).db.read() as session:
        rows = shipments.list_shipments(
            session, order_id=order_id, after_id=page.after_id, limit=page.limit + 1
        )
        return paginate(rows, page.limit, schemas.ShipmentOut.model_validate, lambda s: s.id)


@router.get(
    "/shipments/{shipment_id}",
    response_model=schemas.ShipmentOut,
    responses=responses(404),
    tags=["shipments"],
)
def get_shipment(request: Request, shipment_id: int) -> schemas.ShipmentOut:
    with hub_of(request).db.read() as session:
        return schemas.ShipmentOut.model_validate(shipments.get_shipment(session, shipment_id))


@router.get("/returns", response_model=Page[schemas.ReturnOut], tags=["returns"])
def list_returns(
    request: Request,
    page: PageParams = Depends(page_params),
    order_id: int | None = None,
    status_: ReturnStatus | None = Query(default=None, alias="status"),
) -> Page[schemas.ReturnOut]:
    with hub_of(request).db.read() as session:
        rows = returns.list_returns(
            session, order_id=order_id, status=status_, after_id=page.after_id, limit=page.limit + 1
        )
        return paginate(rows, page.limit, schemas.ReturnOut.model_validate, lambda r: r.id)


@router.get(
    "/returns/{return_id}",
    response_model=schemas.ReturnOut,
    responses=responses(404),
    tags=["returns"],
)
def get_return(request: Request, return_id: int) -> schemas.ReturnOut:
    with hub_of(request).db.read() as session:
        return schemas.ReturnOut.model_validate(returns.get_return(session, return_id))


@router.post(
    "/returns/{return_id}/advance",
    response_model=schemas.ReturnOut,
    responses=responses(404),
    tags=["returns"],
)
def advance_return(request: Request, return_id: int, body: schemas.AdvanceIn) -> schemas.ReturnOut:
    """requested → received (restocks when marked for restock) → closed."""
    with hub_of(request).db.unit_of_work() as session:
        return schemas.ReturnOut.model_validate(returns.advance_return(session, return_id, body.to))
