"""Fixing what is flagged where it is flagged: an order's buyer data (email or customer,
shipping address) from the order page and from its notification, a customer's own
record from the customer page, and "fix all like this" for a plugin's guest orders."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from tradewind.auth.service import SessionUser
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address
from tradewind.core.orders import contact
from tradewind.core.plugins import service as plugins
from tradewind.errors import TradewindError
from tradewind.monitoring import notifications
from tradewind.web.app import redirect
from tradewind.web.session import hub_of, reader, writer
from tradewind.web.views.common import said_of

router = APIRouter(include_in_schema=False)

ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "postal_code",
    "country_code",
    "phone",
)
BACKS = {"order", "notifications"}


@router.post("/orders/{order_id}/contact")
async def order_contact(
    request: Request, order_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    """The order's email and shipping address as typed (an empty address is left alone)."""
    form = await request.form()
    back = str(form.get("back", "order"))
    target = "/notifications" if back == "notifications" else f"/orders/{order_id}#customer"
    typed = {name: str(form.get(f"ship_{name}", ""))[:255] for name in ADDRESS_FIELDS}
    email = str(form.get("email", ""))[:320]
    try:
        address = Address.model_validate(typed) if any(v.strip() for v in typed.values()) else None
        with hub_of(request).db.unit_of_work() as session:
            order = contact.edit_contact(
                session, order_id, email=email or None, shipping_address=address
            )
            number, missing = order.number, list(order.missing_customer_fields)
    except (TradewindError, ValidationError) as exc:
        return redirect(request, target, f"Buyer data: {said_of(exc)}", error=True)
    if missing:
        message = f"Order {number} saved; still missing: {', '.join(missing)}."
        return redirect(request, target, message, error=True)
    return redirect(request, target, f"Order {number} has its buyer data: its notice is resolved.")


@router.post("/customers/{customer_id}/edit")
def customer_edit(
    request: Request,
    customer_id: int,
    email: str = Form("", max_length=320),
    first_name: str = Form("", max_length=128),
    last_name: str = Form("", max_length=128),
    company: str = Form("", max_length=255),
    phone: str = Form("", max_length=64),
    note: str = Form("", max_length=5000),
    _user: SessionUser = Depends(writer),
) -> Response:
    target = f"/customers/{customer_id}"
    changes = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
        "phone": phone,
        "note": note,
    }
    try:
        with hub_of(request).db.unit_of_work() as session:
            customers.update_customer(session, customer_id, changes)
    except (TradewindError, ValidationError) as exc:
        return redirect(request, target, f"Customer: {said_of(exc)}", error=True)
    return redirect(request, target, "Customer saved.")


@router.post("/notifications/{notification_id}/read")
def notification_read_one(
    request: Request, notification_id: int, _user: SessionUser = Depends(reader)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        notifications.mark_read(session, [notification_id])
    return redirect(request, "/notifications", "Marked as read.")


@router.post("/notifications/guests/{plugin_id}")
def guests_to_generic(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    """Fix all like this: the plugin's open guest orders get its generic customer."""
    with hub_of(request).db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        count = contact.assign_generic_to_guests(session, plugin.id, plugin.name)
    return redirect(
        request,
        "/notifications",
        f"{count} guest order(s) of {plugin.name} now have its generic customer; an order "
        "still missing an address keeps its notice.",
    )
