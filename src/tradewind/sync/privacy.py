"""A platform's privacy requests (Shopify's mandatory compliance webhooks), acted on
from the queue after the delivery was stored and acknowledged.

- Erasing a customer (``customers/redact``): what Tradewind received from that plugin's
  platform about them goes — the link to the platform's customer, and on that plugin's
  orders the e-mail, the billing address, the shipping address down to its region, the
  note and the tie to the customer (totals and lines stay: they are the merchant's
  books). The core customer is anonymised too unless another plugin still links to it
  (the customer is then also the merchant's customer on another channel, which this
  request does not speak for).
- Erasing a shop (``shop/redact``): the same for every customer and order of the
  plugin, and the bodies of the plugin's stored webhook deliveries are emptied.
- A data request (``customers/data_request``): a notification for the merchant listing
  what Tradewind holds about that customer.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tradewind.connectors.records import WebhookEvent
from tradewind.core.customers.models import Customer, CustomerAddress
from tradewind.core.links.models import CustomerLink
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import Action, NotificationKind
from tradewind.sync.models import InboxDelivery

KEPT_ADDRESS_KEYS = ("country_code", "country", "province", "province_code")


def act(session: Session, plugin: Plugin, event: WebhookEvent) -> str:
    """Do what the request asks; the delivery's outcome."""
    if event.topic.endswith("data_request"):
        return _data_request(session, plugin, event)
    if event.topic.endswith("customers/redact"):
        customer = _customer(session, plugin.id, event.subject_id, event.refs)
        orders = _orders_of(session, plugin.id, customer, event.refs)
        redacted = _redact_customer(session, plugin.id, customer)
        _redact_orders(orders)
        _scrub_request(session, plugin.id, event)
        return f"privacy: customer {event.subject_id} erased ({redacted}; {len(orders)} orders)"
    # shop/redact
    linked = select(CustomerLink.customer_id).where(CustomerLink.plugin_id == plugin.id)
    buyers = select(Order.customer_id).where(Order.plugin_id == plugin.id)
    customers = session.scalars(
        select(Customer).where(Customer.id.in_(linked) | Customer.id.in_(buyers))
    ).all()
    results = [_redact_customer(session, plugin.id, c) for c in customers]
    every = session.scalars(select(Order).where(Order.plugin_id == plugin.id)).all()
    _redact_orders(every)
    session.execute(
        update(InboxDelivery).where(InboxDelivery.plugin_id == plugin.id).values(body=b"{}")
    )
    anonymised = results.count("anonymised")
    return (
        f"privacy: shop erased ({len(customers)} customers unlinked, {anonymised} "
        f"anonymised; {len(every)} orders)"
    )


def _customer(
    session: Session, plugin_id: int, external_id: str, refs: Iterable[str]
) -> Customer | None:
    """The core customer the platform's customer is: by its link, else as the buyer of
    the plugin's orders the request names (an imported order's buyer is not linked
    unless Export Customers is on)."""
    linked = session.scalar(
        select(Customer)
        .join(CustomerLink, CustomerLink.customer_id == Customer.id)
        .where(CustomerLink.plugin_id == plugin_id, CustomerLink.external_id == external_id)
    )
    if linked is not None:
        return linked
    named = list(refs)
    if not named:
        return None
    buyers = set(
        session.scalars(
            select(Order.customer_id).where(
                Order.plugin_id == plugin_id,
                Order.external_id.in_(named),
                Order.customer_id.is_not(None),
            )
        )
    )
    return session.get(Customer, buyers.pop()) if len(buyers) == 1 else None


def _orders_of(
    session: Session, plugin_id: int, customer: Customer | None, refs: Iterable[str]
) -> list[Order]:
    named = list(refs)
    clauses: list[ColumnElement[bool]] = [Order.external_id.in_(named)] if named else []
    if customer is not None:
        clauses.append(Order.customer_id == customer.id)
    if not clauses:
        return []
    return list(
        session.scalars(select(Order).where(Order.plugin_id == plugin_id, or_(*clauses))).all()
    )


def _redact_customer(session: Session, plugin_id: int, customer: Customer | None) -> str:
    if customer is None:
        return "not held"
    session.execute(
        delete(CustomerLink).where(
            CustomerLink.plugin_id == plugin_id, CustomerLink.customer_id == customer.id
        )
    )
    if _elsewhere(session, plugin_id, customer.id):
        return "kept: the merchant's customer on another channel too; this plugin's link removed"
    customer.email = None
    customer.email_key = None
    customer.first_name = ""
    customer.last_name = ""
    customer.company = ""
    customer.phone = ""
    customer.note = ""
    customer.accepts_marketing = False
    session.execute(delete(CustomerAddress).where(CustomerAddress.customer_id == customer.id))
    session.expire(customer, ["addresses"])
    return "anonymised"


def _elsewhere(session: Session, plugin_id: int, customer_id: int) -> bool:
    """Whether another plugin links to the customer or the customer has orders that did
    not come from this plugin (another channel, or made in Tradewind)."""
    links = session.scalar(
        select(func.count())
        .select_from(CustomerLink)
        .where(CustomerLink.customer_id == customer_id, CustomerLink.plugin_id != plugin_id)
    )
    orders = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(
            Order.customer_id == customer_id,
            Order.plugin_id.is_(None) | (Order.plugin_id != plugin_id),
        )
    )
    return bool(links or orders)


def _redact_orders(orders: Iterable[Order]) -> None:
    for order in orders:
        order.email = ""
        order.note = ""
        order.customer_id = None
        order.billing_address = None
        if order.shipping_address:
            order.shipping_address = {
                k: v for k, v in order.shipping_address.items() if k in KEPT_ADDRESS_KEYS
            }


def _scrub_request(session: Session, plugin_id: int, event: WebhookEvent) -> None:
    """The request itself carries the customer's e-mail and phone: emptied once done."""
    session.execute(
        update(InboxDelivery)
        .where(
            InboxDelivery.plugin_id == plugin_id,
            InboxDelivery.delivery_id == event.delivery_id,
        )
        .values(body=b"{}")
    )


def _data_request(session: Session, plugin: Plugin, event: WebhookEvent) -> str:
    customer = _customer(session, plugin.id, event.subject_id, event.refs)
    orders = _orders_of(session, plugin.id, customer, event.refs)
    held: list[str] = []
    if customer is not None:
        name = f"{customer.first_name} {customer.last_name}".strip()
        profile = ", ".join(
            part
            for part in (
                name,
                customer.email or "",
                customer.phone,
                customer.company,
                f"{len(customer.addresses)} address(es)" if customer.addresses else "",
            )
            if part
        )
        held.append(f"customer #{customer.id}: {profile or 'no personal fields'}")
        if _elsewhere(session, plugin.id, customer.id):
            held.append("the customer is also the merchant's on another channel")
    if orders:
        numbers = ", ".join(sorted(o.number for o in orders))
        held.append(f"{len(orders)} order(s) with e-mail and addresses: {numbers}")
    listing = "; ".join(held) if held else "nothing"
    notifications.raise_notification(
        session,
        NotificationKind.PRIVACY_REQUEST,
        subject=f"data_request:{event.delivery_id}"[:255],
        message=(
            f"{plugin.name}'s platform forwarded a customer's request for their data "
            f"(customer {event.subject_id}). Tradewind holds: {listing}. Send it to the "
            "store owner within 30 days."
        ),
        plugin_id=plugin.id,
        action=Action.OPEN_PLUGIN,
    )
    return f"privacy: data request for customer {event.subject_id}: {listing}"
