"""What makes work: domain events, written as ledger rows in the same transaction as the
change that caused them (a crash can never keep the change and lose the work), and a kick
of the plugin's drainer once that transaction is committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.customers.models import Customer
from tradewind.core.links.models import LocationMapping
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderSource
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState, PluginToggle
from tradewind.core.shipments.models import Shipment
from tradewind.events import (
    CustomerCreated,
    CustomerUpdated,
    DomainEvent,
    EventBus,
    InventoryUpdated,
    ListingUpdated,
    OrderCancelled,
    OrderCreated,
    PluginChanged,
    ProductCreated,
    ProductLinked,
    ProductUpdated,
    ReturnUpdated,
    ShipmentCancelled,
    ShipmentCreated,
)
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.fulfilment_triggers import TYPES as FULFILMENT_EVENTS
from tradewind.sync.fulfilment_triggers import enqueue_fulfilment
from tradewind.sync.hook_triggers import TYPES as HOOK_EVENTS
from tradewind.sync.hook_triggers import EventHooks, enqueue_hooks
from tradewind.sync.ledger import WorkQueued
from tradewind.sync.models import WorkKind
from tradewind.sync.return_exports import enqueue_return
from tradewind.sync.service_triggers import TYPES as SERVICE_EVENTS
from tradewind.sync.service_triggers import enqueue_service_work
from tradewind.vocabulary import StockMode, Toggle

Kick = Callable[[int, dt.datetime | None], None]

# Plugins that keep receiving work (paused ones keep it until they resume).
KEEPS_WORK = (
    PluginState.ACTIVE,
    PluginState.FAILING,
    PluginState.NEEDS_REAUTHORIZATION,
    PluginState.CREDENTIALS_UNREADABLE,
)


def subscribe(
    bus: EventBus,
    kick: Kick,
    topic_toggles: Callable[[str], Collection[Toggle]] = lambda _: (),
    event_hooks: EventHooks | None = None,
) -> None:
    """Write work for every change; ``topic_toggles(connector)`` names the toggles that
    bring webhook topics on that connector's plugins, ``event_hooks`` the template hooks
    bound to store events."""
    bus.before_commit(
        lambda session, events: enqueue_service_work(session, events, KEEPS_WORK),
        types=list(SERVICE_EVENTS),
    )
    bus.before_commit(
        lambda session, events: enqueue_fulfilment(session, events, KEEPS_WORK),
        types=list(FULFILMENT_EVENTS),
    )
    if event_hooks is not None:
        hooks = event_hooks
        bus.before_commit(
            lambda session, events: enqueue_hooks(session, events, hooks, KEEPS_WORK),
            types=list(HOOK_EVENTS),
        )
    bus.before_commit(_stock_changed, types=[InventoryUpdated])
    bus.before_commit(_shipment_created, types=[ShipmentCreated])
    bus.before_commit(_shipment_cancelled, types=[ShipmentCancelled])
    bus.before_commit(_product_linked, types=[ProductLinked])
    bus.before_commit(_customer_changed, types=[CustomerCreated, CustomerUpdated])
    bus.before_commit(_product_changed, types=[ProductCreated, ProductUpdated])
    bus.before_commit(_listing_changed, types=[ListingUpdated])
    bus.before_commit(_order_created, types=[OrderCreated])
    bus.before_commit(_order_cancelled, types=[OrderCancelled])
    bus.before_commit(_return_received, types=[ReturnUpdated])
    bus.before_commit(_held_orders_released, types=[PluginChanged])
    bus.before_commit(
        lambda session, events: _toggles_switched(session, events, topic_toggles),
        types=[PluginChanged],
    )
    bus.after_commit(lambda events: _kick(events, kick), types=[WorkQueued])


def _stock_changed(session: Session, events: Sequence[DomainEvent]) -> None:
    """``inventory.updated`` → a stock push for every plugin exporting stock from that
    warehouse, due at the end of its coalescing window (leading edge: the window opens
    with the first change and later changes ride along)."""
    plugins = session.scalars(
        select(Plugin).where(Plugin.stock_mode != StockMode.OFF, Plugin.state.in_(KEEPS_WORK))
    ).all()
    if not plugins:
        return
    warehouses: dict[int, set[int]] = {plugin.id: set() for plugin in plugins}
    for mapping in session.scalars(
        select(LocationMapping).where(
            LocationMapping.plugin_id.in_(list(warehouses)), LocationMapping.active.is_(True)
        )
    ):
        if mapping.warehouse_id is not None:
            warehouses[mapping.plugin_id].add(mapping.warehouse_id)
    for plugin in plugins:
        products = {
            event.product_id
            for event in events
            if isinstance(event, InventoryUpdated) and event.warehouse_id in warehouses[plugin.id]
        }
        ledger.enqueue_many(
            session,
            plugin.id,
            WorkKind.PUSH_STOCK,
            [str(product_id) for product_id in sorted(products)],
            delay=plugin.stock_window_seconds,
        )


def _product_linked(session: Session, events: Sequence[DomainEvent]) -> None:
    """``product.linked`` → a stock push of that product to that plugin: a platform that
    needs a mapped item (``stock_needs_link``) could not be sent its stock before."""
    wanted: dict[int, set[int]] = {}
    for event in events:
        if isinstance(event, ProductLinked):
            wanted.setdefault(event.plugin_id, set()).add(event.product_id)
    for plugin_id, products in wanted.items():
        plugin = session.get(Plugin, plugin_id)
        if plugin is None or plugin.stock_mode is StockMode.OFF or plugin.state not in KEEPS_WORK:
            continue
        ledger.enqueue_many(
            session,
            plugin.id,
            WorkKind.PUSH_STOCK,
            [str(product_id) for product_id in sorted(products)],
            delay=plugin.stock_window_seconds,
        )


def _shipment_created(session: Session, events: Sequence[DomainEvent]) -> None:
    """``shipment.created`` → the tracking goes back to the plugin the order came from."""
    for event in events:
        if not isinstance(event, ShipmentCreated):
            continue
        order = session.get(Order, event.order_id)
        if order is None or order.plugin_id is None:
            continue
        plugin = plugins.get_plugin(session, order.plugin_id)
        wanted = {Toggle.EXPORT_TRACKING, Toggle.EXPORT_SHIPMENTS} & plugin.toggles
        if wanted and plugin.state in KEEPS_WORK:
            ledger.enqueue(session, plugin.id, WorkKind.PUSH_SHIPMENT, str(event.shipment_id))


def _shipment_cancelled(session: Session, events: Sequence[DomainEvent]) -> None:
    """``shipment.cancelled`` (its label voided) → the store's copy of it is cancelled: one
    already sent is cancelled there; one still waiting to be sent is not sent (the push
    skips a cancelled shipment)."""
    for event in events:
        if not isinstance(event, ShipmentCancelled):
            continue
        shipment = session.get(Shipment, event.shipment_id)
        if shipment is None or shipment.plugin_id is None or not shipment.external_id:
            continue
        plugin = session.get(Plugin, shipment.plugin_id)
        if plugin is not None and plugin.state in KEEPS_WORK:
            ledger.enqueue(session, plugin.id, WorkKind.CANCEL_SHIPMENT, str(shipment.id))


def _exporting(session: Session, toggle: Toggle) -> list[Plugin]:
    """Plugins with ``toggle`` on that keep receiving work."""
    return list(
        session.scalars(
            select(Plugin)
            .join(PluginToggle)
            .where(PluginToggle.toggle == toggle, Plugin.state.in_(KEEPS_WORK))
            .order_by(Plugin.id)
        )
    )


def _customer_changed(session: Session, events: Sequence[DomainEvent]) -> None:
    """``customer.created`` / ``customer.updated`` → the customer goes to every plugin
    exporting customers. Only customers with an email: the platform's customer is found
    again by it, so one without could be created twice."""
    ids = sorted(
        {
            event.customer_id
            for event in events
            if isinstance(event, CustomerCreated | CustomerUpdated)
        }
    )
    plugins = _exporting(session, Toggle.EXPORT_CUSTOMERS) if ids else []
    if not plugins:
        return
    wanted = [
        str(customer_id)
        for customer_id in session.scalars(
            select(Customer.id).where(
                Customer.id.in_(ids),
                Customer.email_key.is_not(None),
                Customer.generic_key.is_(None),
            )
        )
    ]
    for plugin in plugins:
        ledger.enqueue_many(session, plugin.id, WorkKind.EXPORT_CUSTOMER, sorted(wanted))


def _product_changed(session: Session, events: Sequence[DomainEvent]) -> None:
    """``product.created`` / ``product.updated`` → the product goes to every plugin
    exporting products (created there, or brought up to date)."""
    ids = sorted(
        {event.product_id for event in events if isinstance(event, ProductCreated | ProductUpdated)}
    )
    for plugin in _exporting(session, Toggle.EXPORT_PRODUCTS) if ids else []:
        ledger.enqueue_many(session, plugin.id, WorkKind.EXPORT_PRODUCT, [str(i) for i in ids])


def _listing_changed(session: Session, events: Sequence[DomainEvent]) -> None:
    """``listing.updated`` → the product goes again to the plugins exporting listings of
    that channel."""
    by_channel: dict[int, set[int]] = {}
    for event in events:
        if isinstance(event, ListingUpdated):
            by_channel.setdefault(event.channel_id, set()).add(event.product_id)
    if not by_channel:
        return
    for plugin in _exporting(session, Toggle.EXPORT_LISTINGS):
        products = set().union(
            *(by_channel.get(channel_id, set()) for channel_id in plugin.channel_ids)
        )
        ledger.enqueue_many(
            session, plugin.id, WorkKind.EXPORT_PRODUCT, [str(i) for i in sorted(products)]
        )


def _order_created(session: Session, events: Sequence[DomainEvent]) -> None:
    """``order.created`` for an order made in Tradewind → created on the platform of the
    plugin exporting orders for its channel. One order has one platform copy: when two
    plugins of the channel export orders, none is chosen and a person is told."""
    for event in events:
        if not isinstance(event, OrderCreated):
            continue
        order = session.get(Order, event.order_id)
        if order is None or order.plugin_id is not None or order.source is not OrderSource.MANUAL:
            continue  # imported orders came from a platform
        enqueue_export(session, order)


def enqueue_export(session: Session, order: Order) -> Plugin | None:
    """Queue the creation of ``order`` (made here) on the platform of the one plugin
    exporting orders for its channel, and return that plugin; ``None`` when no plugin
    does, or when two do (then a person is told, and none is chosen). Also the order
    list's *Retry export*: queued work for the same order is one row."""
    exporters = _order_exporters(session, order.channel_id)
    if len(exporters) == 1:
        ledger.enqueue(session, exporters[0].id, WorkKind.EXPORT_ORDER, str(order.id))
        return exporters[0]
    if exporters:
        names = ", ".join(plugin.name for plugin in exporters)
        notifications.raise_notification(
            session,
            NotificationKind.CONFIGURATION,
            plugin_id=None,
            subject=_held_subject(order),
            message=(
                f"Order {order.number} was not sent to any platform: {len(exporters)} "
                f"plugins of its channel have Export Orders on ({names}), and an order "
                "is created on one platform only. Leave Export Orders on for one of them."
            ),
        )
    return None


def _order_cancelled(session: Session, events: Sequence[DomainEvent]) -> None:
    """``order.cancelled`` in Tradewind for an order on a platform → it is cancelled there
    too: always for one Tradewind created there, and for one imported from there when the
    plugin's order rules say so. A cancellation the platform reported is not sent back."""
    for event in events:
        if not isinstance(event, OrderCancelled) or not event.here:
            continue
        order = session.get(Order, event.order_id)
        if order is not None and order.external_id is not None:
            enqueue_cancellation(session, order)


def _return_received(session: Session, events: Sequence[DomainEvent]) -> None:
    """``return.updated`` to received, for a return made here of an imported order → a
    refund of its lines on the store, when the plugin's order rules send returns."""
    for event in events:
        if isinstance(event, ReturnUpdated) and event.status == "received":
            enqueue_return(session, event.return_id, KEEPS_WORK)


def enqueue_cancellation(session: Session, order: Order) -> None:
    """Cancel the platform's copy of ``order`` (cancelled here) if its plugin is to;
    otherwise the order's timeline says why it was not."""
    if order.plugin_id is None:
        return
    plugin = plugins.get_plugin(session, order.plugin_id)
    if order.exported_at is not None:
        wanted = Toggle.EXPORT_ORDERS in plugin.toggles
        why = "Export Orders is off there"
    else:
        wanted = plugins.import_rules(plugin).cancel_on_platform
        why = "its order rules leave imported orders open there"
    if wanted and plugin.state in KEEPS_WORK:
        ledger.enqueue(session, plugin.id, WorkKind.CANCEL_ORDER, str(order.id))
        return
    orders.add_activity(
        session,
        order,
        "not_cancelled_there",
        f"Not cancelled on {plugin.name}: {why}; cancel it on the platform by hand.",
    )


def _order_exporters(session: Session, channel_id: int) -> list[Plugin]:
    return [
        plugin
        for plugin in plugins.plugins_of_channel(session, channel_id)
        if Toggle.EXPORT_ORDERS in plugin.toggles and plugin.state in KEEPS_WORK
    ]


def _held_subject(order: Order) -> str:
    return f"order {order.number}"


def _held_orders_released(session: Session, events: Sequence[DomainEvent]) -> None:
    """``plugin.changed`` → orders held back because two plugins of their channel export
    orders go out once exactly one does, and their notices close."""
    changed = {event.plugin_id for event in events if isinstance(event, PluginChanged)}
    held = {
        note.subject
        for note in notifications.open_notifications(session, kind=NotificationKind.CONFIGURATION)
        if note.plugin_id is None
    }
    if not held:
        return
    channel_ids: set[int] = set()
    for plugin_id in changed:
        plugin = session.get(Plugin, plugin_id)
        if plugin is not None:
            channel_ids.update(plugin.channel_ids)
    for channel_id in sorted(channel_ids):
        exporters = _order_exporters(session, channel_id)
        if len(exporters) != 1:
            continue
        waiting = session.scalars(
            select(Order).where(
                Order.channel_id == channel_id,
                Order.plugin_id.is_(None),
                Order.source == OrderSource.MANUAL,
                Order.exported_at.is_(None),
            )
        )
        for order in waiting:
            subject = _held_subject(order)
            if subject in held:
                ledger.enqueue(session, exporters[0].id, WorkKind.EXPORT_ORDER, str(order.id))
                notifications.resolve(
                    session, NotificationKind.CONFIGURATION, plugin_id=None, subject=subject
                )


def _toggles_switched(
    session: Session,
    events: Sequence[DomainEvent],
    topic_toggles: Callable[[str], Collection[Toggle]],
) -> None:
    """A toggle that brings webhook topics (Shopify's Import Customers: customer changes),
    switched on a running plugin → its subscriptions are checked, to add or drop them."""
    switched: dict[int, set[Toggle]] = {}
    for event in events:
        if isinstance(event, PluginChanged) and event.switched:
            switched.setdefault(event.plugin_id, set()).update(event.switched)
    for plugin_id, toggles in switched.items():
        plugin = session.get(Plugin, plugin_id)
        if plugin is None or plugin.state not in (PluginState.ACTIVE, PluginState.FAILING):
            continue
        if toggles & set(topic_toggles(plugin.connector)):
            ledger.enqueue(session, plugin.id, WorkKind.ENSURE_WEBHOOKS)


def _kick(events: Sequence[DomainEvent], kick: Kick) -> None:
    due: dict[int, dt.datetime] = {}
    for event in events:
        if isinstance(event, WorkQueued):
            due[event.plugin_id] = min(due.get(event.plugin_id, event.due), event.due)
    for plugin_id, when in due.items():
        kick(plugin_id, when)
