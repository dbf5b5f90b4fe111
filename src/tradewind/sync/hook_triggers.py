"""Template hooks bound to store events (``on: order.created``): the event writes one
``run_hook`` work row per plugin and hook, in the transaction of the change (no change
without its hooks, no hook for a rolled-back change). The row names the subject; the
handler reads it when it runs, so a burst of changes to one order runs the hook once,
with the order as it is then."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginChannel, PluginState
from tradewind.events import (
    CustomerCreated,
    CustomerUpdated,
    DomainEvent,
    InventoryUpdated,
    OrderCancelled,
    OrderCreated,
    OrderUpdated,
    ProductCreated,
    ProductUpdated,
    ShipmentCreated,
)
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import FulfillmentStatus

# The domain events that can run hooks.
TYPES: tuple[type[DomainEvent], ...] = (
    OrderCreated,
    OrderUpdated,
    OrderCancelled,
    ShipmentCreated,
    ProductCreated,
    ProductUpdated,
    CustomerCreated,
    CustomerUpdated,
    InventoryUpdated,
)


@dataclass(frozen=True)
class EventHooks:
    """What the hub knows of its templates: the events any of them binds (checked first,
    so that a store without such hooks pays nothing), and a plugin's hooks for one."""

    bound: Callable[[], frozenset[str]]
    of: Callable[[Plugin, str], Sequence[str]]


@dataclass(frozen=True)
class Happened:
    """A store event as hooks see it: its name, its subject, and the channel and plugin
    it concerns (an order's hooks run for the plugins of its channel, never for the
    plugin the order came from)."""

    event: str
    subject: str  # order, shipment, product, customer
    subject_id: int
    channel_id: int | None = None
    source_plugin_id: int | None = None


def enqueue_hooks(
    session: Session,
    events: Sequence[DomainEvent],
    hooks: EventHooks,
    keeps_work: Sequence[PluginState],
) -> None:
    bound = hooks.bound()
    if not bound:
        return
    happened = [h for event in events for h in _happened(session, event) if h.event in bound]
    if not happened:
        return
    candidates = list(session.scalars(select(Plugin).where(Plugin.state.in_(keeps_work))))
    channels: dict[int, set[int]] = {}
    for plugin_id, channel_id in session.execute(
        select(PluginChannel.plugin_id, PluginChannel.channel_id)
    ):
        channels.setdefault(plugin_id, set()).add(channel_id)
    for item in happened:
        for plugin in candidates:
            if plugin.id == item.source_plugin_id:
                continue
            if item.channel_id is not None and item.channel_id not in channels.get(plugin.id, ()):
                continue
            for hook in hooks.of(plugin, item.event):
                ledger.enqueue(
                    session,
                    plugin.id,
                    WorkKind.RUN_HOOK,
                    f"{hook}:{item.subject}:{item.subject_id}",
                    payload={
                        "hook": hook,
                        "event": item.event,
                        "subject": item.subject,
                        "id": item.subject_id,
                    },
                )


def _happened(session: Session, event: DomainEvent) -> Iterator[Happened]:
    if isinstance(event, OrderCreated | OrderUpdated | OrderCancelled):
        order = session.get(Order, event.order_id)
        if order is not None:
            yield Happened(event.name, "order", order.id, order.channel_id, order.plugin_id)
    elif isinstance(event, ShipmentCreated):
        order = session.get(Order, event.order_id)
        if order is None:
            return
        yield Happened(
            "shipment.created", "shipment", event.shipment_id, order.channel_id, order.plugin_id
        )
        if order.fulfillment_status is FulfillmentStatus.FULFILLED:
            yield Happened("order.fulfilled", "order", order.id, order.channel_id, order.plugin_id)
    elif isinstance(event, ProductCreated | ProductUpdated):
        yield Happened(event.name, "product", event.product_id)
    elif isinstance(event, InventoryUpdated):
        yield Happened("stock.changed", "product", event.product_id)
    elif isinstance(event, CustomerCreated | CustomerUpdated):
        yield Happened(event.name, "customer", event.customer_id)
