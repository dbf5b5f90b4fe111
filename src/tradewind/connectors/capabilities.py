"""What a connector can do (``Capability``) and which capabilities each sync toggle needs
(``TOGGLE_CAPABILITIES``): the one table the conformance suite, ``ConnectorInfo`` and the
engine read, so that a connector cannot offer a switch it has no code behind.

The protocol each capability stands for is in ``base.py`` (``CAPABILITY_PROTOCOLS``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from tradewind.vocabulary import Toggle


class Capability(StrEnum):
    """What a connector can do; each has a protocol in ``base.py`` it must implement."""

    TEST_CONNECTION = "test_connection"
    IMPORT_ORDERS = "import_orders"
    PUSH_STOCK = "push_stock"
    PUSH_SHIPMENTS = "push_shipments"
    RECEIVE_WEBHOOKS = "receive_webhooks"
    MANAGE_WEBHOOKS = "manage_webhooks"
    LOCATIONS = "locations"
    IMPORT_PRODUCTS = "import_products"
    OAUTH = "oauth"
    CLOSE_ORDERS = "close_orders"
    CANCEL_ORDERS = "cancel_orders"
    IMPORT_CUSTOMERS = "import_customers"
    EXPORT_CUSTOMERS = "export_customers"
    EXPORT_ORDERS = "export_orders"
    EXPORT_PRODUCTS = "export_products"
    IMPORT_LISTINGS = "import_listings"
    EXPORT_RETURNS = "export_returns"


# The capabilities a toggle means nothing without. A toggle that is not listed works on
# what another capability brings in: Import Products creates the products an imported
# order names, Import Tracking and Import Shipments read an imported order's fulfilments.
TOGGLE_CAPABILITIES: Mapping[Toggle, frozenset[Capability]] = MappingProxyType(
    {
        Toggle.IMPORT_ORDERS: frozenset({Capability.IMPORT_ORDERS}),
        Toggle.EXPORT_TRACKING: frozenset({Capability.PUSH_SHIPMENTS}),
        Toggle.EXPORT_SHIPMENTS: frozenset({Capability.PUSH_SHIPMENTS}),
        Toggle.EXPORT_ORDERS: frozenset({Capability.EXPORT_ORDERS}),
        Toggle.IMPORT_CUSTOMERS: frozenset({Capability.IMPORT_CUSTOMERS}),
        Toggle.EXPORT_CUSTOMERS: frozenset({Capability.EXPORT_CUSTOMERS}),
        Toggle.EXPORT_PRODUCTS: frozenset({Capability.EXPORT_PRODUCTS}),
        # A listing goes out on its product.
        Toggle.EXPORT_LISTINGS: frozenset({Capability.EXPORT_PRODUCTS}),
        Toggle.IMPORT_LISTINGS: frozenset({Capability.IMPORT_LISTINGS}),
    }
)


def capabilities_for(toggles: Iterable[Toggle], *also: Capability) -> frozenset[Capability]:
    """The capabilities ``toggles`` need, plus ``also`` (those no toggle asks for, such as
    test connection or webhooks): what a connector's ``ConnectorInfo.capabilities`` can be
    built from."""
    needed = {need for toggle in toggles for need in TOGGLE_CAPABILITIES.get(toggle, ())}
    return frozenset(needed | set(also))


def lacking(
    toggles: Iterable[Toggle], capabilities: Collection[Capability]
) -> dict[Toggle, frozenset[Capability]]:
    """Each of ``toggles`` whose needed capabilities are not all in ``capabilities``, with
    the ones missing (empty when the toggles and capabilities agree)."""
    wanted = frozenset(toggles)
    gaps = {
        toggle: TOGGLE_CAPABILITIES.get(toggle, frozenset()) - frozenset(capabilities)
        for toggle in Toggle  # in the vocabulary's order, so messages read the same
        if toggle in wanted
    }
    return {toggle: missing for toggle, missing in gaps.items() if missing}
