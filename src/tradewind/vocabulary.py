"""Words shared by the core and the connector SDK (the seeds' vocabulary, kept exactly).

The core may not import the connector SDK and a connector may not import the core, so
the few terms both sides speak live here. ``tradewind.connectors`` re-exports them.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class Toggle(StrEnum):
    """The 12 sync toggles: import/export × orders, tracking, shipments, products,
    customers, listings."""

    IMPORT_ORDERS = "import_orders"
    EXPORT_ORDERS = "export_orders"
    IMPORT_TRACKING = "import_tracking"
    EXPORT_TRACKING = "export_tracking"
    IMPORT_SHIPMENTS = "import_shipments"
    EXPORT_SHIPMENTS = "export_shipments"
    IMPORT_PRODUCTS = "import_products"
    EXPORT_PRODUCTS = "export_products"
    IMPORT_CUSTOMERS = "import_customers"
    EXPORT_CUSTOMERS = "export_customers"
    IMPORT_LISTINGS = "import_listings"
    EXPORT_LISTINGS = "export_listings"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title()


# A toggle needs its prerequisites on: tracking and shipments are attached to orders the
# plugin imported, a shipment record carries its tracking, and a listing is how a
# product appears on the channel, so it needs the product synced the same way.
PREREQUISITES: MappingProxyType[Toggle, frozenset[Toggle]] = MappingProxyType(
    {
        Toggle.IMPORT_TRACKING: frozenset({Toggle.IMPORT_ORDERS}),
        Toggle.IMPORT_SHIPMENTS: frozenset({Toggle.IMPORT_TRACKING}),
        Toggle.EXPORT_SHIPMENTS: frozenset({Toggle.EXPORT_TRACKING}),
        Toggle.IMPORT_LISTINGS: frozenset({Toggle.IMPORT_PRODUCTS}),
        Toggle.EXPORT_LISTINGS: frozenset({Toggle.EXPORT_PRODUCTS}),
    }
)


def prerequisites_of(toggle: Toggle) -> list[Toggle]:
    """Every toggle ``toggle`` needs, directly or through another, nearest first."""
    found: list[Toggle] = []
    frontier = sorted(PREREQUISITES.get(toggle, frozenset()))
    while frontier:
        needed = frontier.pop(0)
        if needed not in found:
            found.append(needed)
            frontier.extend(sorted(PREREQUISITES.get(needed, frozenset())))
    return found


def dependents_of(toggle: Toggle) -> list[Toggle]:
    """Every toggle that needs ``toggle``, directly or through another."""
    return [other for other in Toggle if toggle in prerequisites_of(other)]


class StockMode(StrEnum):
    """How a plugin pushes stock (seed 002)."""

    OFF = "off"
    ABSOLUTE = "absolute"  # overwrite the platform's quantity (compare-and-set)
    DELTA = "delta"  # send only the change since the last successful push


class OrderStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"


class OrderSource(StrEnum):
    WEB = "web"
    POS = "pos"
    MARKETPLACE = "marketplace"
    MANUAL = "manual"


class TrackingStatus(StrEnum):
    """Where a parcel is, in one vocabulary for every carrier (the carrier's own status is
    kept beside it)."""

    UNKNOWN = "unknown"
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"
    FAILURE = "failure"
    CANCELLED = "cancelled"


class ServiceCapability(StrEnum):
    """What a service plugin does for a channel; the channel names one plugin for each."""

    GET_RATES = "get_rates"
    BUY_LABEL = "buy_label"
    VOID_LABEL = "void_label"
    TRACK = "track"
    CALCULATE_TAX = "calculate_tax"
    COMMIT_TAX = "commit_tax"
    PUSH_ORDER_FOR_FULFILMENT = "push_order_for_fulfilment"
