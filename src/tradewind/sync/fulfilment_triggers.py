"""What makes a channel's fulfilment tool work: an order of the channel (from its
storefront or made in Tradewind) is handed to the tool when it is created, and again
when it changes while the tool still has it to ship (paid, cancelled, a line matched);
the tool updates its copy. Test orders are not shipped. Written in the change's
transaction; a burst of changes to one order is one push of the order as it is then."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tradewind.core.fulfilment import service as fulfilment
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.shipping import service as shipping
from tradewind.events import DomainEvent, OrderCancelled, OrderCreated, OrderUpdated
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import ServiceCapability

TYPES: tuple[type[DomainEvent], ...] = (OrderCreated, OrderUpdated, OrderCancelled)


def enqueue_fulfilment(
    session: Session, events: Sequence[DomainEvent], keeps_work: Sequence[PluginState]
) -> None:
    seen: set[int] = set()
    tools: dict[int, int | None] = {}  # channel → its fulfilment tool, read once a channel
    for event in events:
        if not isinstance(event, OrderCreated | OrderUpdated | OrderCancelled):
            continue
        if event.order_id in seen:
            continue
        seen.add(event.order_id)
        order = session.get(Order, event.order_id)
        if order is None or order.test:
            continue
        if order.channel_id not in tools:
            tools[order.channel_id] = shipping.services(session, order.channel_id).get(
                ServiceCapability.PUSH_ORDER_FOR_FULFILMENT
            )
        plugin_id = tools[order.channel_id]
        if plugin_id is None or plugin_id == order.plugin_id:
            continue
        plugin = session.get(Plugin, plugin_id)
        if plugin is None or plugin.state not in keeps_work:
            continue
        if fulfilment.to_send(order, fulfilment.handed(session, plugin_id, order.id)) is None:
            continue  # nothing for the tool to do
        ledger.enqueue(session, plugin_id, WorkKind.PUSH_FULFILMENT, str(order.id))
