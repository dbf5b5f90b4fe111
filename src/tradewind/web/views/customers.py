"""Customers and channel listings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from tradewind.app import actions
from tradewind.auth.service import SessionUser
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import CustomerIn
from tradewind.core.links import service as links
from tradewind.errors import Invalid
from tradewind.web.app import page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)
from tradewind.web.views.common import PAGE_SIZE, page_of

router = APIRouter(include_in_schema=False)


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = Query("", max_length=128),
    after: int = Query(0, ge=0),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = customers.list_customers(
            session, search=q or None, after_id=after, limit=PAGE_SIZE + 1
        )
    listed = page_of(rows, lambda last: f"/customers?{urlencode({'q': q, 'after': last.id})}")
    return page(request, "customers.html", rows=listed.rows, q=q, next_url=listed.next_url)


@router.post("/customers")
def customer_create(
    request: Request,
    email: str = Form("", max_length=320),
    first_name: str = Form("", max_length=128),
    last_name: str = Form("", max_length=128),
    company: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        data = CustomerIn(email=email, first_name=first_name, last_name=last_name, company=company)
    except ValidationError as exc:
        raise Invalid("; ".join(str(e["msg"]) for e in exc.errors())) from None
    with hub_of(request).db.unit_of_work() as session:
        customer = customers.create_customer(session, data)
    return redirect(request, f"/customers/{customer.id}", "Customer created.")


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        customer = customers.get_customer(session, customer_id)
        addresses = list(customer.addresses)
        from tradewind.core.orders.models import Order

        customer_orders = list(
            session.scalars(
                select(Order)
                .where(Order.customer_id == customer_id)
                .order_by(Order.id.desc())
                .limit(50)
            )
        )
    return page(
        request, "customer.html", customer=customer, addresses=addresses, orders=customer_orders
    )


@router.get("/listings")
def listing_list(
    request: Request, channel_id: str = "", _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        channel_rows = channels.list_channels(session)
        selected = (
            int(channel_id)
            if channel_id.isdigit()
            else (channel_rows[0].id if channel_rows else None)
        )
        rows = links.list_listings(session, channel_id=selected, limit=500) if selected else []
        products = {p.id: p for p in catalog.list_products(session, limit=1000)}
    return page(
        request,
        "listings.html",
        rows=rows,
        channels=channel_rows,
        selected=selected,
        products=products,
    )


@router.post("/listings")
def listing_save(
    request: Request,
    channel_id: int = Form(...),
    product: str = Form(..., max_length=128),
    title: str = Form("", max_length=255),
    price: str = Form("", max_length=32),
    published: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        amount = Decimal(price) if price.strip() else None
    except InvalidOperation:
        raise Invalid("price must be a number", fields={"price": "invalid"}) from None
    with hub_of(request).db.unit_of_work() as session:
        core = catalog.product_by_ref(session, product)
        links.upsert_listing(
            session,
            channel_id,
            core.id,
            title=title or None,
            price=amount,
            published=published == "on",
        )
    return redirect(request, f"/listings?channel_id={channel_id}", "Listing saved.")


# ---------------------------------------------------------------- products and stock


@router.post("/plugins/{plugin_id}/customer-export")
def plugin_customer_export(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    """Export all customers, confirmed on the plugin page after its dry-run count."""
    run, started = actions.export_all_customers(hub_of(request), plugin_id)
    said = "started" if started else "is already running"
    return redirect(
        request,
        f"/plugins/{plugin_id}#customer-export",
        f"Export all customers {said}: {run.total} customer(s) to match by email or create.",
    )
