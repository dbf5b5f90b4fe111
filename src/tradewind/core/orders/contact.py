"""Fixing an order's buyer data where it is flagged (seed 001: "missing customer fields"):
a person gives the order its customer (an existing one, or one matched or made from an
email) and its addresses; the order's flag and notification clear by themselves once
nothing is missing. For a plugin whose guests must not wait for a person, one action
gives all its open guest orders the plugin's generic customer."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.orders import attention, service
from tradewind.core.orders.models import Order, OrderStatus
from tradewind.errors import Invalid

# Guest orders fixed by one "assign the generic customer" (more: run it again).
GUESTS_AT_ONCE = 5000


def edit_contact(
    session: Session,
    order_id: int,
    *,
    email: str | None = None,
    customer_id: int | None = None,
    shipping_address: Address | None = None,
    billing_address: Address | None = None,
) -> Order:
    """Set what is given (None: unchanged) and work the order's flags out again."""
    order = service.lock_order(session, order_id)
    changed: list[str] = []
    if customer_id is not None:
        order.customer_id = customers.get_customer(session, customer_id).id
        changed.append("customer")
    elif email is not None and email.strip():
        named = shipping_address or billing_address
        try:
            data = CustomerIn(
                email=email.strip(),
                first_name=named.first_name if named else "",
                last_name=named.last_name if named else "",
                company=named.company if named else "",
                phone=named.phone if named else "",
            )
        except ValidationError:
            raise Invalid(
                f"{email.strip()!r} is not an email address", fields={"email": "invalid"}
            ) from None
        customer, _ = customers.match_or_create(session, data)
        order.customer_id, order.email = customer.id, customer.email or ""
        changed.append("email")
    if shipping_address is not None:
        order.shipping_address = shipping_address.model_dump()
        changed.append("shipping address")
    if billing_address is not None:
        order.billing_address = billing_address.model_dump()
        changed.append("billing address")
    if not changed:
        raise Invalid("nothing to change: give an email, a customer or an address")
    order.missing_customer_fields = attention.missing_customer_fields(order)
    still = ", ".join(order.missing_customer_fields)
    service.changed_here(
        session,
        order,
        f"Buyer data edited here: {', '.join(changed)}."
        + (f" Still missing: {still}." if still else ""),
    )
    return order


def assign_generic_to_guests(session: Session, plugin_id: int, plugin_name: str) -> int:
    """Give every open order of the plugin without a customer the plugin's generic
    customer (the one its POS orders may use); returns how many orders were given it."""
    generic = customers.generic_customer(
        session, f"plugin:{plugin_id}:generic", f"Generic customer ({plugin_name})"
    )
    guests = session.scalars(
        select(Order.id)
        .where(
            Order.plugin_id == plugin_id,
            Order.customer_id.is_(None),
            Order.status == OrderStatus.OPEN,
        )
        .order_by(Order.id)
        .limit(GUESTS_AT_ONCE)
    ).all()
    for order_id in guests:
        order = service.lock_order(session, order_id)
        order.customer_id = generic.id
        order.missing_customer_fields = attention.missing_customer_fields(order)
        service.changed_here(session, order, "Given the plugin's generic customer (a guest order).")
    return len(guests)


def guest_orders(session: Session, plugin_id: int) -> int:
    """How many open orders of the plugin have no customer."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.plugin_id == plugin_id,
                Order.customer_id.is_(None),
                Order.status == OrderStatus.OPEN,
            )
        )
        or 0
    )
