"""The connector SDK: the only package a connector imports.

A connector is a class registered under the ``tradewind.connectors`` entry-point group
with an ``info: ConnectorInfo``, a constructor ``(settings, context: ConnectorContext)``,
``close()``, and the capability protocols its info declares. It talks HTTP through
``HttpClient``, maps platform JSON to the records below (in its ``mapping.py``), and
raises only the four typed errors. ``tradewind.connectors.testing.connector_suite`` is the
conformance suite it must pass; ``tradewind.connectors.example`` is a whole connector, and
``docs/connectors.md`` builds it step by step.

The names below come in four groups (see ``__all__``). The first fifteen are what an
author learns first:

- describing it: ``ConnectorInfo``, ``Capability``, ``Toggle``, ``capabilities_for``
- what the engine hands it: ``ConnectorContext``
- talking HTTP: ``HttpClient``, ``BucketPolicy`` (the platform's rate limit), ``Priority``
- failing: ``AuthFailed``, ``RateLimited``, ``Unavailable``, ``Rejected``
- answering: ``Page``, ``ConnectionReport``, ``WebhookEvent``

then the records each capability takes and returns (``OrderRecord``, ``StockPush``…),
the capability protocols with the two tables (``CAPABILITY_PROTOCOLS``,
``TOGGLE_CAPABILITIES``), and lower-level helpers most connectors never import.
"""

from tradewind.connectors.base import (
    CAPABILITY_PROTOCOLS,
    Authorizes,
    CancelsOrders,
    CancelsShipments,
    Capability,
    ClosesOrders,
    Connector,
    ConnectorClass,
    ConnectorContext,
    ConnectorInfo,
    CredentialStore,
    ExportsCustomers,
    ExportsOrders,
    ExportsOrdersInBulk,
    ExportsProducts,
    ExportsReturns,
    ImportsCustomers,
    ImportsListings,
    ImportsOrders,
    ImportsProducts,
    ListsLocations,
    ManagesWebhooks,
    PushesShipments,
    PushesStock,
    ReadsOrdersInBatches,
    ReadsStock,
    ReceivesWebhooks,
    SeedsCustomers,
    TestsConnection,
    WebhookHeaders,
)
from tradewind.connectors.capabilities import TOGGLE_CAPABILITIES, capabilities_for
from tradewind.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    Unavailable,
)
from tradewind.connectors.http import (
    DEFAULT_ERRORS,
    Call,
    CallRecorder,
    HttpClient,
    error_detail,
    retry_after,
)
from tradewind.connectors.outbound import (
    OutboundPolicy,
    OutboundRefused,
    OutboundTransport,
    Resolver,
    Unresolvable,
    system_resolver,
)
from tradewind.connectors.paging import LoopGuard, links, next_link, query_value
from tradewind.connectors.ratelimit import (
    BucketPolicy,
    LocalBudget,
    Priority,
    RateBudget,
    UnlimitedBudget,
)
from tradewind.connectors.records import (
    AddressRecord,
    BulkExport,
    ConnectionReport,
    CustomerQuery,
    CustomerRecord,
    ExportChunk,
    FulfillmentRecord,
    LocationRecord,
    OrderExport,
    OrderExportLine,
    OrderLineRecord,
    OrderQuery,
    OrderRecord,
    Page,
    ProductExport,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    ReturnExport,
    ReturnExportLine,
    ShipmentLineRecord,
    ShipmentRecord,
    StockPush,
    StockPushResult,
    StockReading,
    VariantRecord,
    WebhookEvent,
    WebhookSubject,
)
from tradewind.vocabulary import (
    FinancialStatus,
    FulfillmentStatus,
    OrderSource,
    OrderStatus,
    StockMode,
    Toggle,
)

# 1. What an author needs first: describe the connector, talk HTTP, fail in four ways,
#    answer in pages. docs/connectors.md builds a connector from these.
__all__ = [
    "AuthFailed",
    "BucketPolicy",
    "Capability",
    "ConnectionReport",
    "ConnectorContext",
    "ConnectorInfo",
    "HttpClient",
    "Page",
    "Priority",
    "RateLimited",
    "Rejected",
    "Toggle",
    "Unavailable",
    "WebhookEvent",
    "capabilities_for",
]
# 2. The records the capabilities take and return, and the vocabulary they use.
__all__ += [
    "AddressRecord",
    "BulkExport",
    "CustomerQuery",
    "CustomerRecord",
    "ExportChunk",
    "FinancialStatus",
    "FulfillmentRecord",
    "FulfillmentStatus",
    "LocationRecord",
    "OrderExport",
    "OrderExportLine",
    "OrderLineRecord",
    "OrderQuery",
    "OrderRecord",
    "OrderSource",
    "OrderStatus",
    "ProductExport",
    "ProductRecord",
    "RefundLineRecord",
    "RefundRecord",
    "ReturnExport",
    "ReturnExportLine",
    "ShipmentLineRecord",
    "ShipmentRecord",
    "StockMode",
    "StockPush",
    "StockPushResult",
    "StockReading",
    "VariantRecord",
    "WebhookSubject",
]
# 3. The capability protocols (what each Capability means in methods) and the tables.
__all__ += [
    "CAPABILITY_PROTOCOLS",
    "TOGGLE_CAPABILITIES",
    "Authorizes",
    "CancelsOrders",
    "CancelsShipments",
    "ClosesOrders",
    "Connector",
    "ConnectorClass",
    "ExportsCustomers",
    "ExportsOrders",
    "ExportsOrdersInBulk",
    "ExportsProducts",
    "ExportsReturns",
    "ImportsCustomers",
    "ImportsListings",
    "ImportsOrders",
    "ImportsProducts",
    "ListsLocations",
    "ManagesWebhooks",
    "PushesShipments",
    "PushesStock",
    "ReadsOrdersInBatches",
    "ReadsStock",
    "ReceivesWebhooks",
    "SeedsCustomers",
    "TestsConnection",
    "WebhookHeaders",
]
# 4. Lower level, for a connector with needs of its own: its own status table, paging by
#    Link header, budgets, the outbound address policy, the call recorder.
__all__ += [
    "DEFAULT_ERRORS",
    "Call",
    "CallRecorder",
    "ConnectorError",
    "CredentialStore",
    "LocalBudget",
    "LoopGuard",
    "OutboundPolicy",
    "OutboundRefused",
    "OutboundTransport",
    "RateBudget",
    "Resolver",
    "UnlimitedBudget",
    "Unresolvable",
    "error_detail",
    "links",
    "next_link",
    "query_value",
    "retry_after",
    "system_resolver",
]
