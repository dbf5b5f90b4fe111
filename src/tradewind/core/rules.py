"""How the core reacts to its own events, inside the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.events import (
    ChannelDeleted,
    DomainEvent,
    EventBus,
    ProductCreated,
    ProductUpdated,
)


def subscribe(bus: EventBus) -> None:
    bus.before_commit(_rematch_orders, types=[ProductCreated, ProductUpdated])
    bus.before_commit(_detached, types=[ChannelDeleted])


def _rematch_orders(session: Session, events: Sequence[DomainEvent]) -> None:
    """A product that now exists (or gained a barcode) picks up the order lines that were
    waiting for it: *missing product* re-processes by itself, atomically with the fix."""
    product_ids = [
        event.product_id for event in events if isinstance(event, ProductCreated | ProductUpdated)
    ]
    orders.rematch_lines(session, product_ids)


def _detached(session: Session, events: Sequence[DomainEvent]) -> None:
    """Plugins that served a deleted channel lost an attachment: their import conflict is
    re-checked (a plugin left on no channel with Import Orders on is in conflict)."""
    plugins.refresh_import_conflicts(
        session,
        sorted(
            {
                pid
                for event in events
                if isinstance(event, ChannelDeleted)
                for pid in event.plugin_ids
            }
        ),
    )
