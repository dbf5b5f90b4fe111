"""The access scopes a plugin needs, derived from what it does — the toggles switched on,
the engine capabilities its order rules use (closing an order once shipped, cancelling it
in the store), the webhook topics it keeps subscribed, and reading orders older than
Shopify's 60-day window — as one table and one rule (a ``write_`` scope grants its
``read_``). Test connection, OAuth and the backfill all ask here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from types import MappingProxyType

from tradewind.connectors import Capability, Toggle
from tradewind.integrations.shopify import webhooks

Need = Toggle | Capability

NEEDS: MappingProxyType[Need, frozenset[str]] = MappingProxyType(
    {
        Toggle.IMPORT_ORDERS: frozenset({"read_orders", "read_locations"}),
        Toggle.EXPORT_ORDERS: frozenset({"write_orders"}),
        Toggle.IMPORT_TRACKING: frozenset({"read_orders"}),
        # The open fulfilment orders are read, the order's fulfilments looked through.
        Toggle.EXPORT_TRACKING: frozenset(
            {"write_merchant_managed_fulfillment_orders", "read_orders"}
        ),
        Toggle.IMPORT_SHIPMENTS: frozenset({"read_orders"}),
        Toggle.EXPORT_SHIPMENTS: frozenset(
            {"write_merchant_managed_fulfillment_orders", "read_orders"}
        ),
        Toggle.IMPORT_PRODUCTS: frozenset({"read_products"}),
        Toggle.EXPORT_PRODUCTS: frozenset({"write_products"}),
        Toggle.IMPORT_CUSTOMERS: frozenset({"read_customers"}),
        Toggle.EXPORT_CUSTOMERS: frozenset({"write_customers"}),
        Toggle.IMPORT_LISTINGS: frozenset({"read_products"}),
        Toggle.EXPORT_LISTINGS: frozenset({"write_products"}),
        Capability.CLOSE_ORDERS: frozenset({"write_orders"}),  # POST orders/{id}/close
        Capability.CANCEL_ORDERS: frozenset({"write_orders"}),  # POST orders/{id}/cancel
        Capability.EXPORT_RETURNS: frozenset({"write_orders"}),  # refundCreate
    }
)
# Stock export and product mapping work whatever the toggles.
BASE = frozenset({"read_products", "write_inventory", "read_locations"})
# Orders created longer ago than this are readable only with ``read_all_orders``
# (without it Shopify leaves them out of every list, silently).
ORDER_WINDOW = dt.timedelta(days=60)
HISTORY = frozenset({"read_all_orders"})


def needed(
    toggles: Collection[Toggle], uses: Iterable[Capability], topics: Iterable[str]
) -> frozenset[str]:
    """Every scope a plugin with ``toggles`` on, using ``uses`` and subscribed to
    ``topics``, needs."""
    wanted = set(BASE)
    needs: list[Need] = [*toggles, *uses]
    for need in needs:
        wanted |= NEEDS.get(need, frozenset())
    for topic in topics:
        wanted |= webhooks.scopes_of(topic)
    return frozenset(wanted)


def missing(granted: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The scopes of ``wanted`` that ``granted`` does not hold, by Shopify's rule."""
    have = set(granted)
    have |= {f"read_{s.removeprefix('write_')}" for s in have if s.startswith("write_")}
    return sorted(set(wanted) - have)


def requested(
    toggles: Collection[Toggle], uses: Iterable[Capability], topics: Iterable[str]
) -> list[str]:
    """What to ask for when authorizing with OAuth: the needed scopes, without a
    ``read_`` its ``write_`` already grants."""
    wanted = needed(toggles, uses, topics)
    implied = {f"read_{s.removeprefix('write_')}" for s in wanted if s.startswith("write_")}
    return sorted(wanted - implied)
