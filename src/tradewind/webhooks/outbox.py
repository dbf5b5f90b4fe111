"""The outbox: outgoing events written in the transaction of the change that caused them.

A before-commit subscriber of the unit of work turns domain events into webhook events
(the envelope serialised once, its bytes kept) and one delivery row per subscription that
wants each; the same commit makes the change, the events and their deliveries durable,
and a rolled-back change leaves none of them. After commit, the subscriptions with
deliveries due are announced (``DeliveriesQueued``) so an engine sends them at once;
without one, the reconciler's sweep finds them.

Events are written only while some subscription (active or paused) wants the type: a
store without subscribers pays one small query per transaction.

Coalescing: the unit of work already drops repeated domain events, so a burst of stock
changes to one product and warehouse *inside one transaction* is one
``inventory.updated`` carrying the levels as committed. Bursts spread over several
transactions are not merged: each is an event (a receiver sees every level it went
through, and ``updated_at`` orders them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from tradewind.core.catalog.models import Product
from tradewind.core.customers.models import Customer
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.core.shipments.models import Shipment
from tradewind.db import utcnow
from tradewind.events import (
    CustomerCreated,
    CustomerUpdated,
    DomainEvent,
    EventBus,
    InventoryUpdated,
    OrderCancelled,
    OrderCreated,
    OrderUpdated,
    PluginStateChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    ReturnUpdated,
    ShipmentCreated,
    record,
)
from tradewind.vocabulary import FulfillmentStatus
from tradewind.webhooks import payloads
from tradewind.webhooks.catalogue import API_VERSION
from tradewind.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


@dataclass(frozen=True)
class EndpointDisabled(DomainEvent):
    """Tradewind disabled a subscription (its ``webhook_endpoint.disabled`` event goes to
    the merchant's other endpoints)."""

    name: ClassVar[str] = "webhooks.endpoint_disabled"
    subscription_id: int
    url: str
    reason: str


@dataclass(frozen=True)
class DeliveriesQueued(DomainEvent):
    """Deliveries of ``subscription_id`` are due (committed): send them."""

    name: ClassVar[str] = "webhooks.deliveries_queued"
    subscription_id: int


# The domain events that can become outgoing events.
TYPES: tuple[type[DomainEvent], ...] = (
    OrderCreated,
    OrderUpdated,
    OrderCancelled,
    ShipmentCreated,
    ProductCreated,
    ProductUpdated,
    ProductDeleted,
    CustomerCreated,
    CustomerUpdated,
    InventoryUpdated,
    ReturnUpdated,
    PluginStateChanged,
    EndpointDisabled,
)

# A plugin back in this state from one of those has recovered.
_TROUBLED = frozenset(
    {
        PluginState.FAILING.value,
        PluginState.NEEDS_REAUTHORIZATION.value,
        PluginState.CREDENTIALS_UNREADABLE.value,
    }
)

# A stock change this soon after the last one of the same product and warehouse, while
# that one's event is still untried, replaces its figures instead of adding an event.
COALESCE_WINDOW = dt.timedelta(seconds=5)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def event_id(now: dt.datetime | None = None) -> str:
    """``evt_`` + a ULID (48-bit milliseconds, 80 random bits, Crockford base32): ids
    sort by time, carry no ``.`` (the signed content is ``id.timestamp.body``), and are
    not guessable."""
    millis = int(now.timestamp() * 1000) if now is not None else time.time_ns() // 1_000_000
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "evt_" + "".join(reversed(chars))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event to write: its type, the channel it belongs to, its data."""

    type: str
    channel_id: int | None
    data: dict[str, Any]
    # A newer event with the same subject may replace this one while it is untried.
    subject: str | None = None


def subscribe(bus: EventBus) -> None:
    bus.before_commit(write_events, types=list(TYPES))


def serialise(
    identifier: str,
    outgoing: Outgoing,
    occurred_at: dt.datetime,
    *,
    test: bool = False,
) -> str:
    envelope: dict[str, Any] = {
        "id": identifier,
        "type": outgoing.type,
        "timestamp": payloads.iso(occurred_at),
        "api_version": API_VERSION,
        "channel_id": outgoing.channel_id,
    }
    if test:
        envelope["test"] = True
    envelope["data"] = outgoing.data
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def wants(subscription: WebhookSubscription, outgoing_type: str, channel_id: int | None) -> bool:
    """Whether ``subscription`` takes an event of this type and channel. A channel filter
    narrows the events that belong to a channel (orders, shipments, returns); the rest
    (catalogue, stock, operational) belong to none and go to every subscription."""
    if subscription.event_types and outgoing_type not in subscription.event_types:
        return False
    return (
        subscription.channel_id is None
        or channel_id is None
        or subscription.channel_id == channel_id
    )


def write_events(
    session: Session, events: Sequence[DomainEvent], *, clock: Callable[[], dt.datetime] = utcnow
) -> None:
    subscriptions = list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.status != SubscriptionStatus.DISABLED)
            .order_by(WebhookSubscription.id)
        )
    )
    if not subscriptions:
        return
    wanted: set[str] | None = set()
    for subscription in subscriptions:
        if not subscription.event_types:
            wanted = None  # someone takes every type
            break
        assert wanted is not None
        wanted.update(subscription.event_types)
    now = clock()
    outgoing = [
        item
        for item in _outgoing(session, events, now)
        if (wanted is None or item.type in wanted)
        and not coalesce(session, item, subscriptions, now)
    ]
    publish(session, outgoing, subscriptions, now)


def coalesce(
    session: Session,
    item: Outgoing,
    subscriptions: Sequence[WebhookSubscription],
    now: dt.datetime,
) -> bool:
    """Fold ``item`` into the latest event of its subject written within
    ``COALESCE_WINDOW`` when no delivery of that one has been tried or claimed yet and it
    goes to the same subscriptions: its data and timestamp become ``item``'s (same id,
    same place in line). Whether it was folded in."""
    if item.subject is None:
        return False
    earlier = session.scalar(
        select(WebhookEvent)
        .where(
            WebhookEvent.subject == item.subject,
            WebhookEvent.type == item.type,
            WebhookEvent.test.is_(False),
            WebhookEvent.occurred_at >= now - COALESCE_WINDOW,
        )
        .order_by(WebhookEvent.occurred_at.desc(), WebhookEvent.id.desc())
        .limit(1)
    )
    if earlier is None:
        return False
    # Locked (PostgreSQL) so a sender cannot claim them between this look and the
    # commit; a sender that claimed first is seen (its lease token), and then the
    # newer figures go as an event of their own. SQLite has one writer.
    untried = select(
        WebhookDelivery.subscription_id,
        WebhookDelivery.status,
        WebhookDelivery.attempts,
        WebhookDelivery.lease_token,
    ).where(WebhookDelivery.event_id == earlier.id)
    if session.get_bind().dialect.name == "postgresql":
        untried = untried.with_for_update()
    rows = session.execute(untried).all()
    targets = {s.id for s in subscriptions if wants(s, item.type, item.channel_id)}
    if {row[0] for row in rows} != targets or any(
        row[1] is not DeliveryStatus.PENDING or row[2] or row[3] is not None for row in rows
    ):
        return False
    earlier.body = serialise(earlier.id, item, now)
    earlier.occurred_at = now
    return True


def publish(
    session: Session,
    outgoing: Sequence[Outgoing],
    subscriptions: Sequence[WebhookSubscription],
    now: dt.datetime,
    *,
    test: bool = False,
) -> list[str]:
    """Write ``outgoing`` as events with a delivery to each of ``subscriptions`` that
    wants it (a test event: to each of them); returns the event ids. Deliveries are due
    at once."""
    events: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    queued: set[int] = set()
    for item in outgoing:
        targets = [s for s in subscriptions if test or wants(s, item.type, item.channel_id)]
        if not targets:
            continue
        identifier = event_id(now)
        events.append(
            {
                "id": identifier,
                "type": item.type,
                "api_version": API_VERSION,
                "channel_id": item.channel_id,
                "occurred_at": now,
                "body": serialise(identifier, item, now, test=test),
                "test": test,
                "subject": None if test else item.subject,
            }
        )
        for subscription in targets:
            deliveries.append(
                {
                    "event_id": identifier,
                    "subscription_id": subscription.id,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "last_error": "",
                }
            )
            if subscription.status is SubscriptionStatus.ACTIVE:
                queued.add(subscription.id)
    if events:
        session.execute(insert(WebhookEvent), events)
        session.execute(insert(WebhookDelivery), deliveries)
    for subscription_id in sorted(queued):
        record(session, DeliveriesQueued(subscription_id=subscription_id))
    return [event["id"] for event in events]


def _outgoing(
    session: Session, events: Sequence[DomainEvent], now: dt.datetime
) -> Iterator[Outgoing]:
    held = _load(session, events)  # held while translating: the identity map is weak
    for event in events:
        yield from _translate(session, event, now)
    held.clear()


def _load(session: Session, events: Sequence[DomainEvent]) -> list[object]:
    """The products, customers and orders the events name, a query per kind and 500 ids
    (``_translate``'s ``session.get`` then finds them loaded): a transaction creating
    200 products costs one read for their events, not 200."""
    wanted: dict[type[Product] | type[Customer] | type[Order], set[int]] = {
        Product: set(),
        Customer: set(),
        Order: set(),
    }
    for event in events:
        if isinstance(event, ProductCreated | ProductUpdated):
            wanted[Product].add(event.product_id)
        elif isinstance(event, CustomerCreated | CustomerUpdated):
            wanted[Customer].add(event.customer_id)
        elif isinstance(event, OrderCreated | OrderUpdated | OrderCancelled):
            wanted[Order].add(event.order_id)
    held: list[object] = []
    for kind, ids in wanted.items():
        if len(ids) < 2:
            continue  # one is a ``session.get`` anyway
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            query = select(kind).where(kind.id.in_(ordered[start : start + 500]))
            if kind is Order:
                query = query.options(selectinload(Order.lines))
            held.extend(session.scalars(query))
    return held


def _translate(session: Session, event: DomainEvent, now: dt.datetime) -> Iterator[Outgoing]:
    """The outgoing events one domain event makes (none when its record is gone)."""
    if isinstance(event, OrderCreated | OrderUpdated | OrderCancelled):
        order = session.get(Order, event.order_id)
        if order is not None:
            yield Outgoing(event.name, order.channel_id, payloads.order(order))
    elif isinstance(event, ShipmentCreated):
        shipment = session.get(Shipment, event.shipment_id)
        order = session.get(Order, event.order_id)
        if shipment is None or order is None:
            return
        yield Outgoing("shipment.created", order.channel_id, payloads.shipment(shipment, order))
        if order.fulfillment_status is FulfillmentStatus.FULFILLED:
            yield Outgoing(
                "order.fulfilled", order.channel_id, payloads.order_fulfilled(order, shipment)
            )
    elif isinstance(event, ProductCreated | ProductUpdated):
        product = session.get(Product, event.product_id)
        if product is not None:
            yield Outgoing(event.name, None, payloads.product(product))
    elif isinstance(event, ProductDeleted):
        yield Outgoing(
            "product.deleted", None, payloads.product_deleted(event.product_id, event.sku, now)
        )
    elif isinstance(event, CustomerCreated | CustomerUpdated):
        customer = session.get(Customer, event.customer_id)
        if customer is not None:
            yield Outgoing(event.name, None, payloads.customer(customer))
    elif isinstance(event, InventoryUpdated):
        data = payloads.inventory_level(session, event.product_id, event.warehouse_id, now)
        if data is not None:
            subject = f"inventory:{event.product_id}:{event.warehouse_id}"
            yield Outgoing("inventory.updated", None, data, subject)
    elif isinstance(event, ReturnUpdated):
        if event.status != ReturnStatus.RECEIVED.value:
            return
        found = session.get(Return, event.return_id)
        order = session.get(Order, event.order_id)
        if found is not None and order is not None:
            yield Outgoing("return.received", order.channel_id, payloads.return_(found, order))
    elif isinstance(event, PluginStateChanged):
        plugin = session.get(Plugin, event.plugin_id)
        if plugin is None:
            return
        if event.state == PluginState.NEEDS_REAUTHORIZATION.value:
            yield Outgoing("plugin.auth_failed", None, payloads.plugin(plugin, event.previous))
        elif event.state == PluginState.ACTIVE.value and event.previous in _TROUBLED:
            yield Outgoing("plugin.recovered", None, payloads.plugin(plugin, event.previous))
    elif isinstance(event, EndpointDisabled):
        yield Outgoing(
            "webhook_endpoint.disabled",
            None,
            payloads.webhook_endpoint(event.subscription_id, event.url, event.reason, now),
        )
