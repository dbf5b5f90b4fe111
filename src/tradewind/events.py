"""Domain events: recorded by services inside a unit of work, delivered after commit.

Services never call the network or the queue. They *record* what happened
(``record(session, InventoryUpdated(...))``); the unit of work hands the events to
subscribers in two phases:

* ``before_commit`` handlers run inside the same transaction and may only write rows
  (the sync engine writes its ledger rows here, so due work commits atomically with
  the change that caused it: a crash can never keep the change and lose the work);
* ``after_commit`` handlers run once the transaction is durable (kick a queue, send
  an outgoing webhook). A failing after-commit handler is logged, never raised: the
  change it reacts to has already happened.

Identical events recorded twice in one unit of work are delivered once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from tradewind.vocabulary import Toggle

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

_SESSION_KEY = "tradewind.events"


@dataclass(frozen=True)
class DomainEvent:
    """Base of every domain event. ``name`` is the dotted topic (``inventory.updated``)."""

    name: ClassVar[str] = "domain.event"

    def payload(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items()}


@dataclass(frozen=True)
class InventoryUpdated(DomainEvent):
    name: ClassVar[str] = "inventory.updated"
    product_id: int
    warehouse_id: int


@dataclass(frozen=True)
class ProductCreated(DomainEvent):
    name: ClassVar[str] = "product.created"
    product_id: int
    sku: str


@dataclass(frozen=True)
class ProductUpdated(DomainEvent):
    name: ClassVar[str] = "product.updated"
    product_id: int


@dataclass(frozen=True)
class ProductDeleted(DomainEvent):
    """A product was removed from the catalogue (its row is gone: the event carries
    what is left to say about it)."""

    name: ClassVar[str] = "product.deleted"
    product_id: int
    sku: str


@dataclass(frozen=True)
class ProductLinked(DomainEvent):
    """A product was mapped to a platform variant of a plugin."""

    name: ClassVar[str] = "product.linked"
    plugin_id: int
    product_id: int


@dataclass(frozen=True)
class ListingUpdated(DomainEvent):
    """How a product appears on a channel changed (title, description, images, price)."""

    name: ClassVar[str] = "listing.updated"
    channel_id: int
    product_id: int


@dataclass(frozen=True)
class CustomerCreated(DomainEvent):
    name: ClassVar[str] = "customer.created"
    customer_id: int


@dataclass(frozen=True)
class CustomerUpdated(DomainEvent):
    name: ClassVar[str] = "customer.updated"
    customer_id: int


@dataclass(frozen=True)
class OrderCreated(DomainEvent):
    name: ClassVar[str] = "order.created"
    order_id: int


@dataclass(frozen=True)
class OrderUpdated(DomainEvent):
    name: ClassVar[str] = "order.updated"
    order_id: int


@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    name: ClassVar[str] = "order.cancelled"
    order_id: int
    here: bool = False  # cancelled in Tradewind (not reported by the platform)


@dataclass(frozen=True)
class PackagePrepared(DomainEvent):
    """A package is ready to be rated (made, or its label voided)."""

    name: ClassVar[str] = "package.prepared"
    package_id: int
    order_id: int


@dataclass(frozen=True)
class ShipmentCreated(DomainEvent):
    name: ClassVar[str] = "shipment.created"
    shipment_id: int
    order_id: int


@dataclass(frozen=True)
class ShipmentCancelled(DomainEvent):
    """A shipment that did not leave after all (its label was voided)."""

    name: ClassVar[str] = "shipment.cancelled"
    shipment_id: int
    order_id: int


@dataclass(frozen=True)
class ReturnUpdated(DomainEvent):
    name: ClassVar[str] = "return.updated"
    return_id: int
    order_id: int
    status: str


@dataclass(frozen=True)
class PluginChanged(DomainEvent):
    """A plugin's toggles, attachments, settings or state changed."""

    name: ClassVar[str] = "plugin.changed"
    plugin_id: int
    # The toggles switched on or off (with prerequisites and dependents), if any.
    switched: tuple[Toggle, ...] = ()


@dataclass(frozen=True)
class PluginStateChanged(DomainEvent):
    """A plugin moved from ``previous`` to ``state`` (``PluginState`` values)."""

    name: ClassVar[str] = "plugin.state_changed"
    plugin_id: int
    previous: str
    state: str


@dataclass(frozen=True)
class ChannelDeleted(DomainEvent):
    """A channel was deleted; ``plugin_ids`` were attached to it (and are no longer)."""

    name: ClassVar[str] = "channel.deleted"
    channel_id: int
    plugin_ids: tuple[int, ...] = ()


def record(session: Session, event: DomainEvent) -> None:
    """Record ``event`` on the unit of work that owns ``session``."""
    pending: dict[DomainEvent, None] = session.info.setdefault(_SESSION_KEY, {})
    pending[event] = None  # a dict keeps first-recorded order and drops repeats


def take_pending(session: Session) -> list[DomainEvent]:
    """Remove and return the events recorded on ``session`` so far."""
    pending: dict[DomainEvent, None] = session.info.pop(_SESSION_KEY, {})
    return list(pending)


def peek_pending(session: Session) -> list[DomainEvent]:
    return list(session.info.get(_SESSION_KEY, {}))


def recorded_count(session: Session) -> int:
    """How many events ``session`` holds: a mark for ``forget_after``."""
    return len(session.info.get(_SESSION_KEY, {}))


def forget_after(session: Session, mark: int) -> None:
    """Drop the events recorded since ``recorded_count`` gave ``mark`` (the writes that
    recorded them were rolled back to a savepoint)."""
    pending: dict[DomainEvent, None] = session.info.get(_SESSION_KEY, {})
    for event in list(pending)[mark:]:
        del pending[event]


BeforeCommit = Callable[["Session", Sequence[DomainEvent]], None]
AfterCommit = Callable[[Sequence[DomainEvent]], None]


class EventBus:
    """Subscribers of one running Tradewind (owned by the composition root, not global)."""

    def __init__(self) -> None:
        self._before: list[tuple[frozenset[type[DomainEvent]] | None, BeforeCommit]] = []
        self._after: list[tuple[frozenset[type[DomainEvent]] | None, AfterCommit]] = []

    def before_commit(
        self, handler: BeforeCommit, *, types: Iterable[type[DomainEvent]] | None = None
    ) -> None:
        self._before.append((frozenset(types) if types is not None else None, handler))

    def after_commit(
        self, handler: AfterCommit, *, types: Iterable[type[DomainEvent]] | None = None
    ) -> None:
        self._after.append((frozenset(types) if types is not None else None, handler))

    def run_before_commit(self, session: Session) -> None:
        """Let in-transaction subscribers write rows. Events they record are handled too."""
        handled: set[DomainEvent] = set()
        while True:
            fresh = [event for event in peek_pending(session) if event not in handled]
            if not fresh:
                return
            handled.update(fresh)
            for types, handler in self._before:
                selected = _select(fresh, types)
                if selected:
                    handler(session, selected)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        for types, handler in self._after:
            selected = _select(events, types)
            if not selected:
                continue
            try:
                handler(selected)
            except Exception:
                log.exception("after-commit subscriber failed", handler=repr(handler))


def _select(
    events: Sequence[DomainEvent], types: frozenset[type[DomainEvent]] | None
) -> list[DomainEvent]:
    if types is None:
        return list(events)
    return [event for event in events if type(event) in types]
