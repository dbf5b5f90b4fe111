"""Orders (the new-order wizard, an order and its actions), shipments and returns; the
list is ``order_list``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from tradewind.app import present
from tradewind.auth.service import SessionUser
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.orders.payments import PaymentIn
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.errors import Invalid, NotFound
from tradewind.vocabulary import Toggle
from tradewind.web.app import page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)
from tradewind.web.views import shipping as shipping_views
from tradewind.web.views.common import PAGE_SIZE, page_of

router = APIRouter(include_in_schema=False)


WIZARD_LINES = 5


@router.get("/orders/new")
def order_new(request: Request, _user: SessionUser = Depends(writer)) -> HTMLResponse:
    return _order_form(request, {}, _wizard_rows(FormData()), {})


def _order_form(
    request: Request,
    values: dict[str, str],
    lines: list[dict[str, str]],
    errors: dict[str, str],
) -> HTMLResponse:
    """The order wizard, empty or as the user filled it in with what to fix (422)."""
    with hub_of(request).db.read() as session:
        context: dict[str, Any] = {
            "channels": channels.list_channels(session),
            "customers": customers.list_customers(session, limit=500),
            "products": catalog.list_products(session, limit=1000),
            "warehouses": inventory.list_warehouses(session),
        }
    return page(
        request,
        "order_new.html",
        status=422 if errors else 200,
        values=values,
        lines=lines,
        errors=errors,
        **context,
    )


def _address_from(form: FormData, prefix: str) -> Address | None:
    values = {name: str(form.get(f"{prefix}_{name}", "")).strip() for name in Address.model_fields}
    if not any(values.values()):
        return None
    return Address.model_validate(values)


@dataclass(frozen=True, slots=True)
class _WizardLine:
    position: int  # the row of the form, from 0
    sku: str
    quantity: int
    unit_price: Decimal | None  # blank: the product's price


def _wizard_rows(form: FormData) -> list[dict[str, str]]:
    """The lines step as filled in (at least ``WIZARD_LINES`` rows, blank ones too)."""
    rows = [
        {"sku": str(sku), "quantity": str(quantity), "price": str(price)}
        for sku, quantity, price in zip(
            form.getlist("line_sku"),
            form.getlist("line_quantity"),
            form.getlist("line_price"),
            strict=False,
        )
    ]
    blank = {"sku": "", "quantity": "1", "price": ""}
    return rows + [blank] * max(0, WIZARD_LINES - len(rows))


def _wizard_lines(rows: list[dict[str, str]], errors: dict[str, str]) -> list[_WizardLine]:
    """The rows with a SKU; each bad cell is noted in ``errors`` by its field name."""
    lines = []
    for position, row in enumerate(rows):
        sku = row["sku"].strip()
        if not sku:
            continue
        try:
            quantity = int(row["quantity"].strip() or "1")
        except ValueError:
            quantity = 0
        if quantity < 1:
            errors[f"line_quantity_{position}"] = "a whole number, at least 1"
        price: Decimal | None = None
        if row["price"].strip():
            try:
                price = Decimal(row["price"].strip())
            except InvalidOperation:
                price = None
            if price is None or not price.is_finite() or price < 0:
                errors[f"line_price_{position}"] = (
                    "a price such as 12.50, or blank for the product's price"
                )
                price = None
        lines.append(_WizardLine(position, sku, max(quantity, 0), price))
    if not lines:
        errors["line_sku_0"] = "an order needs at least one line"
    return lines


def _wizard_address(form: FormData, prefix: str, errors: dict[str, str]) -> Address | None:
    try:
        return _address_from(form, prefix)
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(f"{prefix}_{error['loc'][0]}", str(error["msg"]))
        return None


def _wizard_field(location: tuple[int | str, ...], lines: list[_WizardLine]) -> str:
    """The form field a validation error of the order (or its customer) names."""
    head = str(location[0]) if location else ""
    if head == "lines" and len(location) > 2 and isinstance(location[1], int):
        name = {"unit_price": "price"}.get(str(location[2]), str(location[2]))
        return f"line_{name}_{lines[location[1]].position}"
    return head if head in ("email", "currency") else "order"


@router.post("/orders/new")
async def order_create(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    """The wizard's order. A blank unit price is the product's price; a SKU must be one of
    the catalog's; anything to fix re-shows the form as filled in, with the reason by the
    field (never a lost form)."""
    form = await request.form()
    hub = hub_of(request)
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    rows = _wizard_rows(form)
    errors: dict[str, str] = {}
    channel_raw = values.get("channel_id", "")
    if not channel_raw.isdigit():
        errors["channel_id"] = "choose the channel the order belongs to"
    lines = _wizard_lines(rows, errors)
    with hub.db.read() as session:
        found = catalog.match_products(session, [(line.sku, "") for line in lines])
    products = {
        line.position: product.id for line, product in zip(lines, found, strict=True) if product
    }
    for line in lines:
        if line.position not in products:
            errors[f"line_sku_{line.position}"] = (
                f"no product with SKU {line.sku!r}; pick one from the list"
            )
    customer_raw = values.get("customer_id", "")
    email = values.get("email", "").strip()
    data: OrderIn | None = None
    shipping = _wizard_address(form, "ship", errors)
    billing = (
        shipping if form.get("billing_same") == "on" else _wizard_address(form, "bill", errors)
    )
    try:
        customer = (
            CustomerIn(
                email=email,
                first_name=values.get("first_name", ""),
                last_name=values.get("last_name", ""),
                addresses=[shipping] if shipping else [],
            )
            if email and not customer_raw.isdigit()
            else None
        )
        if lines:
            data = OrderIn(
                lines=[
                    OrderLineIn(
                        product_id=products.get(line.position),
                        sku=line.sku,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                    )
                    for line in lines
                ],
                currency=values.get("currency", "") or "USD",
                customer_id=int(customer_raw) if customer_raw.isdigit() else None,
                customer=customer,
                email=email,
                shipping_address=shipping,
                billing_address=billing,
                note=values.get("note", ""),
            )
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(_wizard_field(error["loc"], lines), str(error["msg"]))
    if errors or data is None:
        return _order_form(request, values, rows, errors)
    order_in = data

    def create() -> tuple[int, str, list[str]]:
        with hub.db.unit_of_work() as session:
            order = orders.create_manual_order(session, int(channel_raw), order_in)
            exporters = [
                p.name
                for p in plugins.plugins_of_channel(session, order.channel_id)
                if Toggle.EXPORT_ORDERS in p.toggles
            ]
            return order.id, order.number, exporters

    try:
        order_id, number, exporters = await run_in_threadpool(create)
    except (NotFound, Invalid) as exc:  # e.g. the channel went away meanwhile
        return _order_form(request, values, rows, {"order": exc.message})
    message = f"Order {number} created."
    if exporters:
        message += f" Export Orders is on for {', '.join(exporters)}."
    return redirect(request, f"/orders/{order_id}", message)


@router.get("/orders/{order_id}")
def order_page(
    request: Request, order_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        order = orders.get_order(session, order_id)
        context: dict[str, Any] = {
            "order": order,
            "lines": list(order.lines),
            "timeline": orders.activities(session, order_id),
            "channel": channels.get_channel(session, order.channel_id),
            "plugin": plugins.get_plugin(session, order.plugin_id) if order.plugin_id else None,
            "customer": customers.get_customer(session, order.customer_id)
            if order.customer_id
            else None,
            "shipments": shipments.list_shipments(session, order_id=order_id),
            "returns": returns.list_returns(session, order_id=order_id),
            "payments": payments.payments_of(session, order_id),
            "payable": order.financial_status in payments.PAYABLE
            and order.status is OrderStatus.OPEN,
            "left_to_pay": order.total - payments.paid_here(session, order_id),
            **shipping_views.order_shipping(session, order),
        }
    return page(request, "order.html", **context)


@router.post("/orders/{order_id}/cancel")
def order_cancel(
    request: Request,
    order_id: int,
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        orders.cancel_order(session, order_id, reason)
    return redirect(request, f"/orders/{order_id}", "Order cancelled.")


@router.post("/orders/{order_id}/payments")
def order_payment(
    request: Request,
    order_id: int,
    amount: str = Form(..., max_length=32),
    method: str = Form("", max_length=40),
    reference: str = Form("", max_length=128),
    user: SessionUser = Depends(writer),
) -> Response:
    try:
        given = PaymentIn(amount=Decimal(amount.strip()), method=method, reference=reference)
    except (InvalidOperation, ValidationError):
        raise Invalid(
            f"{amount!r} is not an amount", fields={"amount": "a positive number"}
        ) from None
    with hub_of(request).db.unit_of_work() as session:
        payments.record_payment(session, order_id, given, by=user.username)
        status = orders.get_order(session, order_id).financial_status.value.replace("_", " ")
    return redirect(request, f"/orders/{order_id}", f"Payment recorded; the order is {status}.")


@router.post("/orders/{order_id}/ship")
def order_ship(
    request: Request,
    order_id: int,
    carrier: str = Form("", max_length=128),
    tracking_number: str = Form("", max_length=128),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        shipment = shipments.create_shipment(
            session, order_id, ShipmentIn(carrier=carrier, tracking_number=tracking_number)
        )
    return redirect(request, f"/orders/{order_id}", f"Shipment #{shipment.id} created.")


@router.post("/orders/{order_id}/return")
def order_return(
    request: Request,
    order_id: int,
    line_id: int = Form(...),
    quantity: int = Form(..., gt=0),
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn

    with hub_of(request).db.unit_of_work() as session:
        created = returns.request_return(
            session,
            order_id,
            ReturnIn(lines=[ReturnLineIn(order_line_id=line_id, quantity=quantity)], reason=reason),
        )
    return redirect(request, f"/orders/{order_id}", f"Return #{created.id} requested.")


@router.get("/shipments")
def shipment_list(
    request: Request, after: int = Query(0, ge=0), _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        listed = page_of(
            shipments.list_shipments(session, after_id=after, limit=PAGE_SIZE + 1),
            lambda last: f"/shipments?after={last.id}",
        )
        numbers = present.order_numbers(session, {row.order_id for row in listed.rows})
        units = {row.id: sum(line.quantity for line in row.lines) for row in listed.rows}
        routes_card = shipping_views.shipping_processes(session)
    return page(
        request,
        "shipments.html",
        rows=listed.rows,
        numbers=numbers,
        units=units,
        next_url=listed.next_url,
        **routes_card,
    )


@router.get("/returns")
def return_list(
    request: Request, after: int = Query(0, ge=0), _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        listed = page_of(
            returns.list_returns(session, after_id=after, limit=PAGE_SIZE + 1),
            lambda last: f"/returns?after={last.id}",
        )
        numbers = present.order_numbers(session, {row.order_id for row in listed.rows})
    return page(
        request, "returns.html", rows=listed.rows, numbers=numbers, next_url=listed.next_url
    )


@router.post("/returns/{return_id}/advance")
def return_advance(
    request: Request,
    return_id: int,
    to: ReturnStatus = Form(...),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        returns.advance_return(session, return_id, to)
    return redirect(request, "/returns", f"Return #{return_id} is {to.value}.")
