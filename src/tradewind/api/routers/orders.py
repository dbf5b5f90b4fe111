"""Orders (imported and manual), their timeline, shipments and returns."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from tradewind.api import schemas
from tradewind.api.pagination import MAX_LIMIT, Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import Principal, api_principal, hub_of
from tradewind.app import orders as order_actions
from tradewind.core.orders import listing, payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import FinancialStatus, FulfillmentStatus, OrderStatus
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


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: listing.OrderFilter
    sort: listing.Sort
    zone: ZoneInfo


def list_query(
    channel_id: int | None = None,
    plugin_id: int | None = None,
    status_: OrderStatus | None = Query(default=None, alias="status"),
    financial_status: FinancialStatus | None = None,
    fulfillment_status: FulfillmentStatus | None = None,
    flagged: listing.Flag | None = Query(
        default=None, description="Orders with something to fix: any flag, or one of them."
    ),
    missing_product: bool | None = None,
    placed_from: dt.datetime | None = Query(
        default=None, description="Placed at or after (ISO 8601; without an offset, UTC)."
    ),
    placed_to: dt.datetime | None = Query(
        default=None, description="Placed before (ISO 8601; without an offset, UTC)."
    ),
    placed: listing.Placed | None = Query(
        default=None,
        description="A day range in `tz` instead of `placed_from`/`placed_to`: today, "
        "yesterday or the last 7 days (7d).",
    ),
    tz: str = Query(default="UTC", max_length=64, description="IANA zone of `placed`."),
    search: str | None = Query(
        default=None,
        max_length=listing.MAX_SEARCH,
        description="Part of the number, the customer's name, the email or a line's SKU.",
    ),
    sort: str = Query(
        default="-placed_at",
        max_length=16,
        description="placed_at, number, total, customer or status; a leading '-' for descending.",
    ),
) -> ListQuery:
    try:
        zone = listing.zone_named(tz)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"tz": "an IANA time zone"}) from None
    try:
        order_sort = listing.Sort.parse(sort)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"sort": "unknown"}) from None
    if placed is not None:
        if placed_from is not None or placed_to is not None:
            raise Invalid(
                "give placed or placed_from/placed_to, not both", fields={"placed": "conflict"}
            )
        placed_from, placed_to = listing.placed_range(placed, zone)
    try:
        placed_from = listing.utc(placed_from) if placed_from else None
        placed_to = listing.utc(placed_to) if placed_to else None
    except OverflowError:
        raise Invalid("a placed time out of range", fields={"placed_from": "range"}) from None
    if placed_from and placed_to and placed_to <= placed_from:
        raise Invalid("placed_to is not after placed_from", fields={"placed_to": "too early"})
    return ListQuery(
        listing.OrderFilter(
            channel_id=channel_id,
            plugin_id=plugin_id,
            status=status_,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            flagged=flagged,
            missing_product=missing_product,
            placed_from=placed_from,
            placed_to=placed_to,
            search=search or "",
        ),
        order_sort,
        zone,
    )


def _cursor(sort: listing.Sort, after: listing.After) -> str:
    value = after.value.isoformat() if isinstance(after.value, dt.datetime) else str(after.value)
    raw = json.dumps([str(sort), value, after.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(sort: listing.Sort, cursor: str | None) -> listing.After | None:
    """Where a page given out for ``sort`` ended; a cursor of another sort is refused."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        given, value, last_id = json.loads(raw)
        if given != str(sort) or not isinstance(last_id, int) or not isinstance(value, str):
            raise ValueError
        return listing.After(listing.parse_sort_value(sort, value), last_id)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise Invalid(
            "cursor is not one this list gave out for this sort", fields={"cursor": "invalid"}
        ) from None


@router.get("/orders", response_model=Page[schemas.OrderOut])
def list_orders(
    request: Request,
    response: Response,
    query: ListQuery = Depends(list_query),
    cursor: str | None = Query(
        default=None, max_length=512, description="The `next_cursor` of the previous page."
    ),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT, description="Items per page."),
) -> Page[schemas.OrderOut]:
    """Newest first (by when placed, then by id) unless `sort` says otherwise. The
    `X-Total-Count` header counts every order the filters match."""
    after = _after(query.sort, cursor)
    with hub_of(request).db.read() as session:
        rows = listing.find(
            session, query.filter, query.sort, limit=limit + 1, after=after, with_lines=True
        )
        response.headers["X-Total-Count"] = str(listing.count(session, query.filter))
        kept = rows[:limit]
        following = None
        if len(rows) > limit:
            following = _cursor(query.sort, listing.after_row(query.sort, kept[-1]))
        return Page[schemas.OrderOut](
            items=[schemas.OrderOut.model_validate(row.order) for row in kept],
            next_cursor=following,
        )


@router.get(
    "/orders/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Every matching order."}},
)
def export_orders(request: Request, query: ListQuery = Depends(list_query)) -> StreamingResponse:
    """The filtered list as CSV, every page of it, streamed; local times in `tz`."""
    return StreamingResponse(
        order_actions.export_csv(hub_of(request), query.filter, query.sort, zone=query.zone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


class BulkIn(BaseModel):
    order_ids: list[int] = Field(min_length=1, max_length=order_actions.MAX_SELECTED)
    reason: str = Field(default="", max_length=255, description="Cancel only.")


class BulkOut(BaseModel):
    done: list[str] = Field(description="The numbers of the orders changed.")
    skipped: dict[str, str] = Field(description="Order number → why it was left.")


@router.post("/orders/bulk/{action}", response_model=BulkOut)
def bulk(request: Request, action: order_actions.BulkAction, body: BulkIn) -> BulkOut:
    """An action on many orders: cancel, retry-export (orders made here), rematch."""
    outcome = order_actions.bulk(hub_of(request), action, body.order_ids, body.reason)
    return BulkOut(done=outcome.done, skipped=dict(outcome.skipped))


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
