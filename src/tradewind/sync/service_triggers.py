"""What makes a channel's service plugins work: a package being prepared is rated by
the channel's rating plugin; an order made in Tradewind (the order wizard, the API) on
a channel with a tax plugin has its tax computed; an order whose last line ships has its
computed tax committed as a sale; a return of a committed sale, received, has its
units' tax refunded by the plugin that committed the sale. Written in the change's
transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.events import (
    DomainEvent,
    OrderCreated,
    PackagePrepared,
    ReturnUpdated,
    ShipmentCreated,
)
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import FulfillmentStatus, ServiceCapability

TYPES: tuple[type[DomainEvent], ...] = (
    OrderCreated,
    ShipmentCreated,
    ReturnUpdated,
    PackagePrepared,
)


def enqueue_service_work(
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
            tax = taxes.tax_of(session, order.id)
            if tax is None or tax.committed_at is not None:
                continue
            _enqueue(session, order, ServiceCapability.COMMIT_TAX, keeps_work)
        elif isinstance(event, ReturnUpdated) and event.status == ReturnStatus.RECEIVED:
            enqueue_refund(session, event.return_id, keeps_work)
        elif isinstance(event, PackagePrepared):
            order = session.get(Order, event.order_id)
            if order is not None:
                route = routes.route_of(session, order)  # its carrier rates it, if it names one
                _enqueue(
                    session,
                    order,
                    ServiceCapability.GET_RATES,
                    keeps_work,
                    event.package_id,
                    plugin_id=route.plugin_id if route is not None else None,
                )


def enqueue_refund(session: Session, return_id: int, keeps_work: Sequence[PluginState]) -> None:
    """The return's tax refunded by the plugin its order's sale was committed with (the
    channel's commit plugin for a sale recorded before that was kept). Nothing while the
    sale is not committed: committing it queues the refunds of returns received by then."""
    due = taxes.refund_due(session, return_id)
    if due is None:
        return
    plugin_id = due.plugin_id
    if plugin_id is None:
        order = session.get(Order, due.order_id)
        plugin_id = (
            shipping.services(session, order.channel_id).get(ServiceCapability.COMMIT_TAX)
            if order is not None
            else None
        )
    plugin = session.get(Plugin, plugin_id) if plugin_id is not None else None
    if plugin is not None and plugin.state in keeps_work:
        ledger.enqueue(session, plugin.id, WorkKind.REFUND_TAX, str(return_id))


WORK: dict[ServiceCapability, WorkKind] = {
    ServiceCapability.GET_RATES: WorkKind.GET_RATES,
    ServiceCapability.CALCULATE_TAX: WorkKind.CALCULATE_TAX,
    ServiceCapability.COMMIT_TAX: WorkKind.COMMIT_TAX,
}


def _enqueue(
    session: Session,
    order: Order,
    capability: ServiceCapability,
    keeps_work: Sequence[PluginState],
    key: int | None = None,
    *,
    plugin_id: int | None = None,
) -> None:
    """The work of ``capability`` for ``plugin_id``, else the order's channel's plugin that
    does it (key: the order, or ``key``)."""
    if plugin_id is None:
        plugin_id = shipping.services(session, order.channel_id).get(capability)
    if plugin_id is None:
        return
    plugin = session.get(Plugin, plugin_id)
    if plugin is None or plugin.state not in keeps_work:
        return
    ledger.enqueue(session, plugin.id, WORK[capability], str(order.id if key is None else key))
