"""How the core reacts to its own events, inside the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tradewind.core.orders import service as orders
from tradewind.events import DomainEvent, EventBus, ProductCreated, ProductUpdated


def subscribe(bus: EventBus) -> None:
    bus.before_commit(_rematch_orders, types=[ProductCreated, ProductUpdated])


def _rematch_orders(session: Session, events: Sequence[DomainEvent]) -> None:
    """A product that now exists (or gained a barcode) picks up the order lines that were
    waiting for it: *missing product* re-processes by itself, atomically with the fix."""
    product_ids = [
        event.product_id for event in events if isinstance(event, ProductCreated | ProductUpdated)
    ]
    orders.rematch_lines(session, product_ids)
