"""What a connector is: its description (``ConnectorInfo``), what it is given
(``ConnectorContext``) and the capability protocols it may implement. The engine asks a
connector only for what its info declares, and the conformance suite checks that what is
declared is implemented."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Generator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx2
from pydantic import BaseModel

from tradewind.connectors.capabilities import Capability as Capability
from tradewind.connectors.capabilities import lacking
from tradewind.connectors.http import CallRecorder
from tradewind.connectors.outbound import OutboundPolicy
from tradewind.connectors.ratelimit import BucketPolicy, Priority, RateBudget
from tradewind.connectors.records import (
    BulkExport,
    ConnectionReport,
    CustomerQuery,
    CustomerRecord,
    ExportChunk,
    LocationRecord,
    OrderExport,
    OrderQuery,
    OrderRecord,
    Page,
    ProductExport,
    ProductRecord,
    ReturnExport,
    ShipmentRecord,
    StockPush,
    StockPushResult,
    StockReading,
    WebhookEvent,
)
from tradewind.vocabulary import StockMode, Toggle


def _no_account(_settings: BaseModel) -> str | None:
    return None


@dataclass(frozen=True, kw_only=True)
class ConnectorInfo:
    """A connector's description, readable without instantiating it."""

    key: str  # equals its entry-point name, e.g. "shopify"
    name: str  # "Shopify"
    version: str = "1"
    settings: type[BaseModel]
    toggles: frozenset[Toggle] = frozenset()
    # Why an unsupported toggle is unsupported, shown next to the disabled switch.
    unsupported: Mapping[Toggle, str] = field(default_factory=lambda: MappingProxyType({}))
    # What a supported toggle does on this platform, shown next to its switch where that
    # needs saying (two toggles the platform cannot tell apart, say).
    toggle_notes: Mapping[Toggle, str] = field(default_factory=lambda: MappingProxyType({}))
    capabilities: frozenset[Capability] = frozenset()
    guide: str = ""  # the Integration Guide, Markdown
    # The remote account a plugin's settings reach (a shop domain), used to refuse two
    # order-importing plugins on one account.
    account: Callable[[BaseModel], str | None] = _no_account
    # Webhook topics the engine registers (and repairs) while the plugin is active, and
    # those registered only while a toggle is on (their access scope comes with it).
    webhook_topics: tuple[str, ...] = ()
    toggle_topics: Mapping[Toggle, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Stock can only be pushed for products mapped to a platform item (Sync products).
    stock_needs_link: bool = False
    # The stock modes the platform can honour safely. A platform that can only set a level
    # (no atomic adjustment, no idempotency key) cannot take deltas: a resent delta would
    # be applied twice. The engine refuses a mode that is not listed here.
    stock_modes: frozenset[StockMode] = frozenset(StockMode)
    # Settings a completed OAuth authorization replaces (a pasted admin token): the engine
    # clears them, so the grant is the credential the plugin uses from then on.
    oauth_replaces: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # A switch with no code behind it would be offered to merchants and do nothing.
        missing = lacking(self.toggles, self.capabilities)
        if missing:
            named = "; ".join(
                f"{toggle} needs {', '.join(sorted(capabilities))}"
                for toggle, capabilities in missing.items()
            )
            raise ValueError(f"connector {self.key!r} declares toggles it cannot do: {named}")

    def account_of(self, settings: BaseModel) -> str | None:
        return self.account(settings)

    def topics_for(self, toggles: Collection[Toggle]) -> tuple[str, ...]:
        """The webhook topics a plugin with ``toggles`` on subscribes to."""
        extra = [
            topic
            for toggle in Toggle
            if toggle in toggles
            for topic in self.toggle_topics.get(toggle, ())
        ]
        return (*self.webhook_topics, *extra)


class CredentialStore(Protocol):
    """The plugin's secrets. ``update`` persists at once (a rotated refresh token must be
    saved before it is used); ``exclusive`` holds the plugin's credential lock across every
    process while a connector refreshes a token."""

    def get(self) -> Mapping[str, str]: ...

    def update(self, changes: Mapping[str, str | None]) -> None: ...

    def exclusive(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True, kw_only=True)
class ConnectorContext:
    """What the engine hands a connector instance. No database, no core."""

    plugin_id: int
    plugin_name: str
    webhook_url: str  # where the platform should post: {base}/hooks/{plugin_id}
    credentials: CredentialStore
    budget: Callable[[BucketPolicy], RateBudget]  # shared by every process on the account
    recorder: CallRecorder
    # The HTTP transport for ``HttpClient``: the engine's, which connects only as the
    # outbound policy allows (or a test's).
    transport: httpx2.BaseTransport | None = None
    allow_sandbox_hosts: bool = False
    # The outbound address policy, for a URL the connector is handed (a link to follow).
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)


@runtime_checkable
class Connector(Protocol):
    """The class registered under ``tradewind.connectors``: its ``info``, a constructor
    ``(settings, context)`` and ``close()``."""

    info: ClassVar[ConnectorInfo]

    def close(self) -> None: ...


class ConnectorClass(Protocol):
    """What the entry point names: a connector class, seen as an object. Its ``info`` is
    the class attribute ``Connector.info`` (read here through the class, so a read-only
    property: mypy cannot match a ``ClassVar`` member against a class object). Calling it
    makes an instance; ``settings`` is the connector's own ``info.settings`` model, so the
    registry, which holds many connectors, cannot name its type."""

    @property
    def info(self) -> ConnectorInfo: ...

    def __call__(self, settings: Any, context: ConnectorContext) -> Connector: ...


@runtime_checkable
class TestsConnection(Protocol):
    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        """Check the credentials, read the account, and name missing permissions for the
        toggles that are on and for ``uses``: the capabilities the plugin's settings make
        the engine call beyond its toggles (closing orders once shipped, cancelling them on
        the platform). Raises ``AuthFailed`` when the credentials do not work."""


@runtime_checkable
class ImportsOrders(Protocol):
    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        """One page of orders matching ``query``; ``cursor`` is the previous page's."""

    def get_order(self, external_id: str) -> OrderRecord | None:
        """The order as the platform holds it now (``None`` if it does not exist)."""


@runtime_checkable
class ReadsOrdersInBatches(Protocol):
    """Orders without one read each: from the deliveries that carry them, and by id in
    as few reads as the platform allows (a flash sale stays within its budget)."""

    def delivered_orders(
        self, deliveries: Sequence[tuple[str, Mapping[str, str], bytes]]
    ) -> list[OrderRecord | None]:
        """For each (topic, headers, body): the order it carries, as of its
        ``updated_at`` — or ``None`` when it lacks something the import needs (the
        engine reads the order instead)."""

    def get_orders(self, external_ids: Sequence[str]) -> list[OrderRecord]:
        """The orders by id as the platform holds them now; those that do not exist are
        left out."""


@runtime_checkable
class ExportsOrdersInBulk(Protocol):
    """A long range of orders read by one export the platform prepares (a Shopify bulk
    operation) rather than page by page: a fixed start-up cost, then far fewer calls.
    Optional, beside ``ImportsOrders``: the backfill asks for it only when the range holds
    more than ``bulk_threshold`` orders."""

    bulk_threshold: int  # more orders than this in a range: the export is the quicker way

    def count_orders(self, query: OrderQuery) -> int:
        """How many orders match ``query`` (one cheap call)."""

    def start_order_export(self, query: OrderQuery) -> BulkExport:
        """Ask the platform to prepare every order matching ``query``. When one the same
        is under way already (started by an earlier try whose answer was lost), that one
        is the answer, never a second."""

    def order_export(self, export_id: str) -> BulkExport:
        """The export as the platform holds it now."""

    def read_order_export(
        self, url: str, offset: int, chunk: int
    ) -> Generator[ExportChunk, None, None]:
        """The result from byte ``offset`` on, ``chunk`` whole orders at a time, streamed
        (never all in memory). A record that cannot be mapped is in ``skipped`` with why;
        the rest go on."""


@runtime_checkable
class PushesStock(Protocol):
    stock_batch_size: int  # how many levels one call can carry

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        """Send up to ``stock_batch_size`` levels in as few calls as the platform allows."""


@runtime_checkable
class ReadsStock(Protocol):
    def read_stock(self, items: Sequence[StockPush]) -> list[StockReading]:
        """What the platform holds now at each item's product and location (only read:
        a plugin in shadow compares it with what it would push)."""


@runtime_checkable
class PushesShipments(Protocol):
    def push_shipment(self, shipment: ShipmentRecord) -> str:
        """Create the shipment (fulfillment) on the platform; return its id there."""


@runtime_checkable
class CancelsShipments(Protocol):
    def cancel_shipment(self, external_id: str) -> None:
        """Cancel a shipment (fulfillment) sent before, whose label was voided: its lines
        are unfulfilled there again. One cancelled already, or gone, is not an error."""


class WebhookHeaders(dict[str, str]):
    """The headers of an inbound delivery as the intake hands them to ``verify_webhook``,
    with the query parameters of the URL it was posted to (``query``): a platform that
    signs nothing puts the token it was given in that URL. Never stored."""

    def __init__(
        self, headers: Mapping[str, str] | None = None, *, query: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(headers or {})
        self.query: Mapping[str, str] = MappingProxyType(dict(query or {}))


@runtime_checkable
class ReceivesWebhooks(Protocol):
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the signature over the raw ``body`` is the platform's. The intake's
        ``headers`` are a ``WebhookHeaders`` (the URL's query is there too)."""

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """What the webhook is about (raises ``Rejected`` for a malformed one)."""


@runtime_checkable
class ManagesWebhooks(Protocol):
    def ensure_webhooks(self, topics: Sequence[str]) -> list[str]:
        """Register missing subscriptions pointing at the context's webhook URL (repairing
        removed ones); return the topics that had to be (re)created."""


@runtime_checkable
class ListsLocations(Protocol):
    def list_locations(self) -> list[LocationRecord]: ...


@runtime_checkable
class ClosesOrders(Protocol):
    def close_order(self, external_id: str) -> None:
        """Mark the order closed (archived) on the platform."""


@runtime_checkable
class CancelsOrders(Protocol):
    def cancel_order(self, external_id: str, reason: str) -> None:
        """Cancel an order Tradewind created on the platform. Money and restocking stay
        the merchant's decision there; an order already cancelled is not an error, and
        one the platform cannot cancel any more (shipped) is ``Rejected`` with why."""


@runtime_checkable
class Authorizes(Protocol):
    """OAuth: send the merchant to the platform, then complete the grant on the way back."""

    def authorization_url(self, state: str, redirect_uri: str) -> str: ...

    def complete_authorization(self, params: Mapping[str, str], redirect_uri: str) -> None:
        """Verify the callback (signature, shop), exchange the code, store the tokens in
        the context's credentials. Raises ``AuthFailed`` on anything wrong."""


@runtime_checkable
class RunsHooks(Protocol):
    """Named actions bound to store events (a template's hooks): the engine runs each
    one bound to an event, with the event's subject as input."""

    def run_hook(self, name: str, input: Any, priority: Priority = Priority.LIVE) -> Any: ...


@runtime_checkable
class ImportsProducts(Protocol):
    def list_products(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        """One page of the platform's catalog with every variant."""


@runtime_checkable
class ImportsCustomers(Protocol):
    def list_customers(
        self, query: CustomerQuery, cursor: str | None, priority: Priority
    ) -> Page[CustomerRecord]:
        """One page of the platform's customers (each with its ``external_id``)."""


@runtime_checkable
class ExportsCustomers(Protocol):
    def export_customer(self, customer: CustomerRecord) -> CustomerRecord:
        """Create or update ``customer`` on the platform and return it as the platform now
        holds it (with its id). Found by ``external_id`` when given, else by email: the
        platform never gets a second customer for one email, even when this is called
        again after a lost answer."""


@runtime_checkable
class SeedsCustomers(Protocol):
    """Export all customers: a customer base matched against the platform's many at a
    time, and the missing ones created (optional, beside ``ExportsCustomers``)."""

    def find_customers(self, emails: Sequence[str]) -> Mapping[str, CustomerRecord]:
        """The platform's customers with these emails, keyed by the email casefolded
        (an email the platform does not hold is absent)."""

    def create_customer(self, customer: CustomerRecord) -> CustomerRecord:
        """Create ``customer``; when the platform already holds its email (an earlier
        create whose answer was lost), answer with that one: never a second."""


@runtime_checkable
class ExportsOrders(Protocol):
    def export_order(self, order: OrderExport) -> OrderRecord:
        """Create the order on the platform; the answer carries the platform's id, its
        line ids in the order of ``order.lines``, and ``origin_ref``."""

    def find_exported_order(self, origin_ref: str, since: dt.datetime) -> OrderRecord | None:
        """The order created with ``origin_ref`` on or after ``since``, if the platform
        has one (an earlier export whose answer was lost)."""


@runtime_checkable
class ExportsProducts(Protocol):
    def export_product(self, product: ProductExport) -> ProductRecord:
        """Create the product (or, when its refs are set, bring the platform's copy up to
        date) and return it with its one variant (id and stock item). A product that is
        not linked yet is first looked for by SKU, so a retry never creates a second."""


@runtime_checkable
class ImportsListings(Protocol):
    def list_listings(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        """One page of the catalog as buyers see it: title, description, images,
        whether it is published, and each variant's price."""


@runtime_checkable
class ExportsReturns(Protocol):
    def export_return(self, refund: ReturnExport) -> str:
        """Refund the returned lines of an order imported from the platform (restocked
        at ``location_ref`` when ``restock``) and return the platform's refund id. The
        refund carries ``marker``: when the order already has a refund with it (an
        earlier try whose answer was lost), that one's id is the answer, never a
        second refund. Lines the platform refuses are ``Rejected`` with why."""


CAPABILITY_PROTOCOLS: Mapping[Capability, type] = MappingProxyType(
    {
        Capability.TEST_CONNECTION: TestsConnection,
        Capability.IMPORT_ORDERS: ImportsOrders,
        Capability.PUSH_STOCK: PushesStock,
        Capability.PUSH_SHIPMENTS: PushesShipments,
        Capability.RECEIVE_WEBHOOKS: ReceivesWebhooks,
        Capability.MANAGE_WEBHOOKS: ManagesWebhooks,
        Capability.LOCATIONS: ListsLocations,
        Capability.IMPORT_PRODUCTS: ImportsProducts,
        Capability.OAUTH: Authorizes,
        Capability.CLOSE_ORDERS: ClosesOrders,
        Capability.CANCEL_ORDERS: CancelsOrders,
        Capability.IMPORT_CUSTOMERS: ImportsCustomers,
        Capability.EXPORT_CUSTOMERS: ExportsCustomers,
        Capability.EXPORT_ORDERS: ExportsOrders,
        Capability.EXPORT_PRODUCTS: ExportsProducts,
        Capability.IMPORT_LISTINGS: ImportsListings,
        Capability.EXPORT_RETURNS: ExportsReturns,
    }
)
