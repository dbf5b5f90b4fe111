"""What makes a channel's tax plugin work: an order made in Tradewind (the order wizard,
the API) on a channel with a tax plugin has its tax computed; an order whose last line
ships has its computed tax committed as a sale. Written in the change's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.shipping import service as shipping
from tradewind.events import DomainEvent, OrderCreated, ShipmentCreated
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import FulfillmentStatus, ServiceCapability

TYPES: tuple[type[DomainEvent], ...] = (OrderCreated, ShipmentCreated)


def enqueue_tax_work(
    session: Session, events: Sequence[DomainEvent], keeps_work: Sequence[PluginState]
) -> None:
    for event in events:
        if isinstance(event, OrderCreated):
            order = session.get(Order, event.order_id)
            if order is None or order.plugin_id is not None:
                continue  # an imported order carries the platform's tax
            _enqueue(session, order, ServiceCapability.CALCULATE_TAX, keeps_work)
        elif isinstance(event, ShipmentCreated):
            order = session.get(Order, event.order_id)
            if order is None or order.fulfillment_status is not FulfillmentStatus.FULFILLED:
                continue
            tax = shipping.tax_of(session, order.id)
            if tax is None or tax.committed_at is not None:
                continue
            _enqueue(session, order, ServiceCapability.COMMIT_TAX, keeps_work)


def _enqueue(
    session: Session,
    order: Order,
    capability: ServiceCapability,
    keeps_work: Sequence[PluginState],
) -> None:
    plugin_id = shipping.services(session, order.channel_id).get(capability)
    if plugin_id is None:
        return
    plugin = session.get(Plugin, plugin_id)
    if plugin is None or plugin.state not in keeps_work:
        return
    kind = (
        WorkKind.CALCULATE_TAX
        if capability is ServiceCapability.CALCULATE_TAX
        else WorkKind.COMMIT_TAX
    )
    ledger.enqueue(session, plugin.id, kind, str(order.id))
