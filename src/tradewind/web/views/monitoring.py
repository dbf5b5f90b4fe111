"""Notifications: the list, marking them read, the missing-product fix and the bell."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.auth.service import SessionUser
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.orders import contact
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import KINDS, NotificationKind
from tradewind.web.app import fragment, page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)

router = APIRouter(include_in_schema=False)


@router.get("/fragments/bell")
def bell(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        count = len(notifications.open_notifications(session))
        unread = notifications.unread_count(session)
    return fragment(request, "fragments/bell.html", bell_count=count, bell_unread=unread)


@router.get("/notifications")
def notification_list(
    request: Request, plugin_id: int | None = None, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    """Every open notification, or one plugin's (``?plugin_id=``, the plugin page's link)."""
    with hub_of(request).db.read() as session:
        rows = notifications.open_notifications(session, plugin_id=plugin_id)
        plugin_names = {p.id: p.name for p in plugins.list_plugins(session)}
        products = catalog.list_products(session, limit=1000)
        flagged = [r for r in rows if r.kind is NotificationKind.MISSING_CUSTOMER_FIELDS]
        orders_of = _flagged_orders(session, flagged)
        guests = {
            plugin_id: contact.guest_orders(session, plugin_id)
            for plugin_id in {r.plugin_id for r in flagged if r.plugin_id is not None}
        }
    groups: dict[NotificationKind, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.kind, []).append(row)
    return page(
        request,
        "notifications.html",
        groups=[(KINDS[kind].title, kind, items) for kind, items in groups.items()],
        plugin_names=plugin_names,
        products=products,
        orders_of=orders_of,
        guests={plugin_id: count for plugin_id, count in guests.items() if count},
        unread=sum(1 for row in rows if row.read_at is None),
        plugin_id=plugin_id,
    )


def _flagged_orders(session: Session, flagged: list[Any]) -> dict[int, Order]:
    """Notification id → the order it names ("order #1001" of its plugin)."""
    found: dict[int, Order] = {}
    for note in flagged:
        number = note.subject.removeprefix("order ")
        order = session.scalar(
            select(Order)
            .where(Order.number == number, Order.plugin_id == note.plugin_id)
            .order_by(Order.id.desc())
            .limit(1)
        )
        if order is not None:
            found[note.id] = order
    return found


@router.post("/notifications/read")
def notification_read(request: Request, _user: SessionUser = Depends(reader)) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        notifications.mark_read(session)
    return redirect(request, "/notifications", "Marked as read.")


@router.post("/notifications/map-product")
def notification_map(
    request: Request,
    sku: str = Form(..., max_length=128),
    product: str = Form("", max_length=128),
    title: str = Form("", max_length=255),
    plugin_id: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    """The *missing product* fix: map the SKU to an existing product, or create it."""
    with hub_of(request).db.unit_of_work() as session:
        if product.strip():
            core = catalog.product_by_ref(session, product)
            changed = orders.assign_product(
                session, sku, core.id, plugin_id=int(plugin_id) if plugin_id.isdigit() else None
            )
            message = f"SKU {sku} mapped to {core.sku}; {len(changed)} order(s) re-processed."
        else:
            core = catalog.create_product(session, ProductIn(sku=sku, title=title or sku))
            message = f"Product {core.sku} created; waiting orders were re-processed."
    return redirect(request, "/notifications", message)
