"""The orders list (issue 16, part 1): filters, search, sort, numbered pages, the CSV
export of what is filtered, actions on the selected orders, and the time zone times are
shown in. The rules are ``core/orders/listing`` and ``app/orders``, as the API's."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlencode
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from tradewind.app import doctor
from tradewind.app import orders as order_actions
from tradewind.auth import service as auth
from tradewind.auth.service import SessionUser
from tradewind.core.channels import service as channels
from tradewind.core.orders import listing
from tradewind.core.orders.listing import Flag, OrderFilter, Placed, Sort, SortKey
from tradewind.core.orders.models import FinancialStatus, FulfillmentStatus, OrderStatus
from tradewind.core.plugins import service as plugins
from tradewind.errors import Invalid
from tradewind.web.app import page, redirect, zone_of
from tradewind.web.session import hub_of, reader, writer

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100)
DEFAULT_SIZE = 50
# What the filter form sends, in the order links repeat it.
FILTER_FIELDS = (
    "placed",
    "placed_from",
    "placed_to",
    "channel_id",
    "plugin_id",
    "status",
    "financial",
    "fulfillment",
    "flagged",
    "q",
)
COLUMNS = (
    (SortKey.NUMBER, "Order"),
    (None, "Channel"),
    (SortKey.PLACED_AT, "Placed"),
    (SortKey.CUSTOMER, "Customer"),
    (SortKey.STATUS, "Status"),
    (SortKey.TOTAL, "Total"),
)


_E = TypeVar("_E", OrderStatus, FinancialStatus, FulfillmentStatus, Flag)


def _member(kind: type[_E], text: str) -> _E | None:
    try:
        return kind(text) if text else None
    except ValueError:
        return None


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def filter_of(params: Mapping[str, str], zone: dt.tzinfo) -> OrderFilter:
    """The filter a query string asks for; what is not understood is left out. Custom
    dates are the merchant's days: ``placed_to`` includes its whole day."""
    placed_from = placed_to = None
    preset = params.get("placed", "")
    if preset in Placed.__members__.values():
        placed_from, placed_to = listing.placed_range(Placed(preset), zone)
    elif preset == "custom" or params.get("placed_from") or params.get("placed_to"):
        first, last = _day(params.get("placed_from", "")), _day(params.get("placed_to", ""))
        placed_from = _midnight(first, zone) if first else None
        placed_to = _midnight(last + dt.timedelta(days=1), zone) if last else None
    channel, plugin = params.get("channel_id", ""), params.get("plugin_id", "")
    flagged = _member(Flag, params.get("flagged", ""))
    if params.get("missing") == "1":  # links of before: ?missing=1
        flagged = Flag.MISSING_PRODUCT
    return OrderFilter(
        channel_id=int(channel) if channel.isdigit() else None,
        plugin_id=int(plugin) if plugin.isdigit() else None,
        status=_member(OrderStatus, params.get("status", "")),
        financial_status=_member(FinancialStatus, params.get("financial", "")),
        fulfillment_status=_member(FulfillmentStatus, params.get("fulfillment", "")),
        flagged=flagged,
        placed_from=placed_from,
        placed_to=placed_to,
        search=params.get("q", "")[: listing.MAX_SEARCH],
    )


def _sort_of(text: str) -> Sort:
    try:
        return Sort.parse(text)
    except ValueError:
        return Sort()


def _pages(current: int, last: int) -> list[int | None]:
    """Page numbers to link: the first, the last, and two either side of the current
    (``None`` where numbers are left out)."""
    shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    numbered: list[int | None] = []
    for number in shown:
        if numbered and number - (numbered[-1] or 0) > 1:
            numbered.append(None)
        numbered.append(number)
    return numbered


@router.get("/orders")
def order_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    """Newest first unless sorted otherwise; one query for the page, one for the count."""
    params = dict(request.query_params)
    zone = zone_of(request)
    flt = filter_of(params, zone)
    sort = _sort_of(params.get("sort", ""))
    size_raw = params.get("size", "")
    size = int(size_raw) if size_raw.isdigit() and int(size_raw) in PAGE_SIZES else DEFAULT_SIZE
    number_raw = params.get("page", "")
    number = max(1, int(number_raw)) if number_raw.isdigit() else 1
    hub = hub_of(request)
    with hub.db.read() as session:
        total = listing.count(session, flt)
        last = max(1, math.ceil(total / size))
        number = min(number, last)
        rows = listing.find(session, flt, sort, offset=(number - 1) * size, limit=size)
        channel_rows = channels.list_channels(session)
        plugin_rows = plugins.list_plugins(session)
    filters = {name: params.get(name, "") for name in FILTER_FIELDS}
    if params.get("missing") == "1" and not filters["flagged"]:
        filters["flagged"] = Flag.MISSING_PRODUCT.value
    kept = {name: value for name, value in filters.items() if value}

    def link(**changes: object) -> str:
        query = {**kept, "sort": str(sort), "size": size, "page": number, **changes}
        if query["sort"] == str(Sort()):
            del query["sort"]
        if query["size"] == DEFAULT_SIZE:
            del query["size"]
        if query["page"] == 1:
            del query["page"]
        return f"/orders?{urlencode(query)}" if query else "/orders"

    def sort_link(key: SortKey) -> str:
        descending = not sort.descending if sort.key is key else key is SortKey.PLACED_AT
        return link(sort=str(Sort(key, descending)), page=1)

    return page(
        request,
        "orders.html",
        rows=rows,
        total=total,
        page_number=number,
        last_page=last,
        page_numbers=_pages(number, last),
        size=size,
        sizes=PAGE_SIZES,
        sort=sort,
        columns=COLUMNS,
        link=link,
        sort_link=sort_link,
        export_url=f"/orders/export.csv?{urlencode({**kept, 'sort': str(sort)})}",
        channels=channel_rows,
        plugins=plugin_rows,
        doctor_plugins=doctor.askable(hub, plugin_rows),
        channel_names={c.id: c.name for c in channel_rows},
        filters=filters,
        statuses=list(OrderStatus),
        financial_statuses=list(FinancialStatus),
        fulfillment_statuses=list(FulfillmentStatus),
        flags=[
            (Flag.ANY, "any flag"),
            (Flag.MISSING_PRODUCT, "missing product"),
            (Flag.MISSING_CUSTOMER_FIELDS, "missing customer fields"),
        ],
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/orders/export.csv")
def order_export(request: Request, _user: SessionUser = Depends(reader)) -> Response:
    """The filtered list as CSV, all pages, streamed batch by batch."""
    params = dict(request.query_params)
    zone = zone_of(request)
    chunks = order_actions.export_csv(
        hub_of(request), filter_of(params, zone), _sort_of(params.get("sort", "")), zone=zone
    )
    stamp = dt.datetime.now(zone).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="orders-{stamp}.csv"'},
    )


# The form's values for the actions (the API's and the CLI's with "_" for "-").
BULK = {action.value.replace("-", "_"): action for action in order_actions.BulkAction}


@router.post("/orders/bulk")
async def order_bulk(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    """An action on the orders ticked on the list; back to the same list with what it did
    (and, order by order, what it left and why)."""
    form = await request.form()
    action = str(form.get("action", ""))
    back = str(form.get("back", "/orders"))
    if not back.startswith("/orders"):
        back = "/orders"
    ids = [int(str(raw)) for raw in form.getlist("order_id") if str(raw).isdigit()]
    if action not in BULK:
        raise Invalid(f"no bulk action {action!r}", fields={"action": "unknown"})
    if not ids:
        return redirect(request, back, "Select at least one order first.", error=True)
    reason = str(form.get("reason", ""))[:255]
    outcome = await run_in_threadpool(
        order_actions.bulk, hub_of(request), BULK[action], ids, reason
    )
    return redirect(request, back, outcome.message(), error=not outcome.done)


ZONES = sorted(available_timezones())


@router.get("/account/time-zone")
def time_zone_form(request: Request, user: SessionUser = Depends(reader)) -> HTMLResponse:
    return page(
        request,
        "time_zone.html",
        title="Time zone",
        zones=ZONES,
        chosen=user.time_zone,
        shown=zone_of(request).key,
    )


@router.post("/account/time-zone")
def time_zone_save(
    request: Request,
    zone: str = Form("", max_length=64),
    user: SessionUser = Depends(reader),
) -> Response:
    """Anyone signed in chooses their own zone (blank: the browser's)."""
    zone = zone.strip()
    if zone:
        try:
            listing.zone_named(zone)
        except ValueError as exc:
            raise Invalid(str(exc), fields={"zone": "an IANA time zone"}) from None
    with hub_of(request).db.unit_of_work() as session:
        auth.set_time_zone(session, user.user_id, zone)
    said = f"Times are shown in {zone}." if zone else "Times are shown in your browser's zone."
    return redirect(request, "/account/time-zone", said)
