"""The permissions a plugin's API key needs, derived from what the plugin does (the toggles
switched on, and the capabilities its order rules use), and Test connection, which finds
the ones the key lacks by asking.

Vendure keeps an API key's own permissions from it (``me`` is refused), so each permission
is probed with a harmless request only a key holding it may make."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

from tradewind.connectors import Capability, ConnectionReport, Toggle
from tradewind.integrations.vendure.client import VendureClient, code_of, graphql_error
from tradewind.integrations.vendure.settings import VendureSettings


@dataclass(frozen=True, slots=True)
class Probe:
    """A harmless request that only a key holding ``permission`` may make."""

    permission: str
    mutation: bool
    selection: str


# Keyed by GraphQL alias. The mutations change nothing: an empty list, no custom fields.
PROBES: Mapping[str, Probe] = MappingProxyType(
    {
        "orders": Probe("ReadOrder", False, "orders(options: {take: 1}) { totalItems }"),
        "products": Probe(
            "ReadCatalog or ReadProduct", False, "products(options: {take: 1}) { totalItems }"
        ),
        "locations": Probe(
            "ReadCatalog or ReadStockLocation",
            False,
            "stockLocations(options: {take: 1}) { totalItems }",
        ),
        "setStock": Probe(
            "UpdateCatalog or UpdateProduct", True, "updateProductVariants(input: []) { id }"
        ),
        "fulfil": Probe(
            "UpdateOrder", True, 'setOrderCustomFields(input: {id: "0"}) { __typename }'
        ),
    }
)

# The probes a toggle, or a capability the order rules use, needs. ``None``: always,
# since stock export and product mapping are not toggles but every Vendure plugin does them.
NEEDS: Mapping[Toggle | Capability | None, tuple[str, ...]] = MappingProxyType(
    {
        None: ("products", "locations", "setStock"),
        Toggle.IMPORT_ORDERS: ("orders",),
        Toggle.IMPORT_PRODUCTS: ("products",),
        Toggle.EXPORT_TRACKING: ("fulfil",),
        Toggle.EXPORT_SHIPMENTS: ("fulfil",),
        Capability.CANCEL_ORDERS: ("fulfil",),  # cancelling is an UpdateOrder too
    }
)


def check(
    client: VendureClient,
    settings: VendureSettings,
    toggles: Collection[Toggle],
    uses: Collection[Capability],
    *,
    signed: bool,
) -> ConnectionReport:
    """Read the channel, probe the permissions ``toggles`` and ``uses`` need, and say
    which the key's role lacks; ``signed``: the companion plugin's secret is set."""
    wanted = {alias for need in (None, *toggles, *uses) for alias in NEEDS.get(need, ())}
    reads = " ".join(
        f"{alias}: {PROBES[alias].selection}"
        for alias in sorted(wanted)
        if not PROBES[alias].mutation
    )
    data, errors = client.partial(
        f"""query TradewindTest {{
          activeChannel {{ code token defaultCurrencyCode }}
          globalSettings {{ outOfStockThreshold }}
          {reads}
        }}""",
        operation="connection.test",
    )
    if data is None or not data.get("activeChannel"):
        # Even a key without permissions may read its channel: this key does not work.
        raise graphql_error("connection.test", errors[0] if errors else {})
    writes = " ".join(
        f"{alias}: {PROBES[alias].selection}" for alias in sorted(wanted) if PROBES[alias].mutation
    )
    if writes:
        _, refused = client.partial(
            f"mutation TradewindTestWrites {{ {writes} }}", operation="connection.test_writes"
        )
        errors += refused
    forbidden = {
        str((error.get("path") or [""])[0]) for error in errors if code_of(error) == "FORBIDDEN"
    }
    missing = sorted({PROBES[alias].permission for alias in wanted & forbidden})
    channel = data["activeChannel"]
    notes = [
        f"Channel {channel['code']} ({channel['defaultCurrencyCode']}).",
        "Companion plugin: signing secret set."
        if signed
        else "Companion plugin: no signing secret, so orders arrive by polling only.",
    ]
    threshold = data["globalSettings"]["outOfStockThreshold"]
    if threshold:
        notes.append(
            f"Vendure's out-of-stock threshold is {threshold}: Vendure sells that many "
            "fewer units than Tradewind sends. Set it to 0 and use the plugin's buffer."
        )
    if missing:
        notes.append(f"The API key's role lacks: {', '.join(missing)}.")
    host = urlsplit(settings.base_url).hostname or ""
    return ConnectionReport(
        ok=True,
        account=f"Vendure {channel['code']} at {host}",
        detail=" ".join(notes),
        missing_scopes=tuple(missing),
    )
