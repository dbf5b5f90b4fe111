"""Imports every model so that ``Base.metadata`` is complete (Alembic, key rotation, tests)."""

from tradewind.auth.models import ApiToken, KnownClient, LoginThrottle, User, WebSession
from tradewind.core.catalog.models import Product
from tradewind.core.channels.models import Channel
from tradewind.core.customers.models import Customer, CustomerAddress
from tradewind.core.fulfilment.models import FulfilmentOrder, FulfilmentShipment
from tradewind.core.inventory.models import Reservation, StockLevel, StockMovement, Warehouse
from tradewind.core.links.models import CustomerLink, Listing, LocationMapping, ProductLink
from tradewind.core.orders.models import Order, OrderActivity, OrderLine, OrderPayment
from tradewind.core.plugins.models import Plugin, PluginChannel, PluginToggle
from tradewind.core.returns.models import Return, ReturnLine
from tradewind.core.shipments.models import Shipment, ShipmentLine
from tradewind.core.shipping.models import (
    ChannelService,
    Label,
    OrderTax,
    Package,
    Parcel,
    RateQuote,
    TaxRefund,
    TrackingEvent,
)
from tradewind.core.templates.models import StoredTemplate
from tradewind.monitoring.executions import Execution
from tradewind.monitoring.notifications import Notification
from tradewind.sync.decisions import DecisionHistory, ImportDecision
from tradewind.sync.gaps import GapReport
from tradewind.sync.models import (
    Backfill,
    CredentialLock,
    InboxDelivery,
    OAuthState,
    PluginLease,
    ProductSync,
    RateBudgetRow,
    StockSyncState,
    SyncSchedule,
    SyncWork,
)
from tradewind.sync.shadow import ShadowOrder, ShadowStock
from tradewind.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

__all__ = [
    "ApiToken",
    "Backfill",
    "Channel",
    "ChannelService",
    "CredentialLock",
    "Customer",
    "CustomerAddress",
    "CustomerLink",
    "DecisionHistory",
    "Execution",
    "FulfilmentOrder",
    "FulfilmentShipment",
    "GapReport",
    "ImportDecision",
    "InboxDelivery",
    "KnownClient",
    "Label",
    "Listing",
    "LocationMapping",
    "LoginThrottle",
    "Notification",
    "OAuthState",
    "Order",
    "OrderActivity",
    "OrderLine",
    "OrderPayment",
    "OrderTax",
    "Package",
    "Parcel",
    "Plugin",
    "PluginChannel",
    "PluginLease",
    "PluginToggle",
    "Product",
    "ProductLink",
    "ProductSync",
    "RateBudgetRow",
    "RateQuote",
    "Reservation",
    "Return",
    "ReturnLine",
    "ShadowOrder",
    "ShadowStock",
    "Shipment",
    "ShipmentLine",
    "StockLevel",
    "StockMovement",
    "StockSyncState",
    "StoredTemplate",
    "SyncSchedule",
    "SyncWork",
    "TaxRefund",
    "TrackingEvent",
    "User",
    "Warehouse",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
]
