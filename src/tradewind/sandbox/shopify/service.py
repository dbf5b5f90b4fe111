"""What happens in a shop: the rules behind every write, shared by the REST API, the
GraphQL API, the control API and the order generator.

``ShopOps`` is the shop one call works on: the shared state, the clock and the webhook
topics Shopify would fire, which the caller hands to the delivery worker. The rules
themselves live per resource in ``ops/`` and are reached as ``ops.catalog``,
``ops.orders``, ``ops.fulfillments`` and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Event
from tradewind.sandbox.shopify.ops.catalog import Catalog
from tradewind.sandbox.shopify.ops.customers import Customers
from tradewind.sandbox.shopify.ops.draft_orders import DraftOrders
from tradewind.sandbox.shopify.ops.fulfillment_orders import FulfillmentOrders
from tradewind.sandbox.shopify.ops.fulfillments import Fulfillments
from tradewind.sandbox.shopify.ops.inventory import Inventory
from tradewind.sandbox.shopify.ops.locations import Locations
from tradewind.sandbox.shopify.ops.orders import Orders
from tradewind.sandbox.shopify.ops.payments import Payments
from tradewind.sandbox.shopify.ops.refunds import Refunds
from tradewind.sandbox.shopify.state import PLAN_LIMITS, Doc, SandboxState, ShopData


@dataclass
class ShopOps:
    """The operations of one shop. Construct per call, under ``state.lock``."""

    state: SandboxState
    shop: ShopData
    actor: str | None = None
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.locations = Locations(self)
        self.catalog = Catalog(self)
        self.inventory = Inventory(self)
        self.customers = Customers(self)
        self.orders = Orders(self)
        self.draft_orders = DraftOrders(self)
        self.payments = Payments(self)
        self.refunds = Refunds(self)
        self.fulfillment_orders = FulfillmentOrders(self)
        self.fulfillments = Fulfillments(self)

    @property
    def currency(self) -> str:
        return str(self.shop.settings.currency)

    def now(self) -> str:
        return d.stamp(self.shop.settings)

    def emit(self, topic: str, payload: Doc) -> None:
        self.events.append(Event(self.shop.settings.name, topic, payload, self.actor))

    def shop_doc(self) -> Doc:
        limits = PLAN_LIMITS[self.shop.settings.plan]
        created = d.stamp(self.shop.settings, datetime(2024, 1, 1, tzinfo=UTC))
        return d.shop(self.shop.settings, limits.plan_name, limits.plan_display_name, created)
