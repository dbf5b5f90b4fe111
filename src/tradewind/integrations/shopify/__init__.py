"""The Shopify connector: orders in (webhooks re-read by id, reconciliation polls,
backfills, by bulk operation when long), stock out (batched GraphQL, compare-and-set),
products mapped, tracking back, refunds as returns (and returns received here as refunds
there), locations, OAuth or an Admin API token; customers in and out, products and
listings out, listings in, and orders made in Tradewind created in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping, Sequence
from importlib.resources import files
from typing import ClassVar

from tradewind.connectors import (
    BulkExport,
    Capability,
    ConnectionReport,
    ConnectorContext,
    ConnectorInfo,
    CustomerQuery,
    CustomerRecord,
    ExportChunk,
    LocationRecord,
    OrderExport,
    OrderQuery,
    OrderRecord,
    Page,
    Priority,
    ProductExport,
    ProductRecord,
    ReturnExport,
    ShipmentRecord,
    StockMode,
    StockPush,
    StockPushResult,
    StockReading,
    Toggle,
    WebhookEvent,
)
from tradewind.integrations.shopify import (
    bulk,
    customers,
    fulfillments,
    inventory,
    oauth,
    orders,
    products,
    refunds,
    scopes,
    streams,
    webhooks,
)
from tradewind.integrations.shopify.client import ShopifyClient
from tradewind.integrations.shopify.settings import ShopifySettings

# Every toggle has an API in Shopify.
_UNSUPPORTED: Mapping[Toggle, str] = {}
# Shopify keeps tracking on fulfilments only, so the tracking and shipment toggles overlap.
_NOTES: Mapping[Toggle, str] = {
    Toggle.IMPORT_TRACKING: "Carrier and number of fulfilments made in Shopify, on the "
    "shipment Tradewind sent or else on the order's timeline (no shipment, no stock taken).",
    Toggle.IMPORT_SHIPMENTS: "Fulfilments made in Shopify also become shipments here: their "
    "items leave stock in Tradewind.",
    Toggle.EXPORT_SHIPMENTS: "Adds nothing on Shopify: tracking exists only on a fulfilment, "
    "so Export Tracking already sends each shipment (its items and tracking) as one.",
}


def _shop(settings: object) -> str | None:
    return settings.shop if isinstance(settings, ShopifySettings) else None


class ShopifyConnector:
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="shopify",
        name="Shopify",
        version="1",
        settings=ShopifySettings,
        toggles=frozenset(Toggle) - frozenset(_UNSUPPORTED),
        unsupported=_UNSUPPORTED,
        toggle_notes=_NOTES,
        capabilities=frozenset(
            {
                Capability.TEST_CONNECTION,
                Capability.IMPORT_ORDERS,
                Capability.IMPORT_PRODUCTS,
                Capability.PUSH_STOCK,
                Capability.PUSH_SHIPMENTS,
                Capability.RECEIVE_WEBHOOKS,
                Capability.MANAGE_WEBHOOKS,
                Capability.LOCATIONS,
                Capability.OAUTH,
                Capability.IMPORT_CUSTOMERS,
                Capability.EXPORT_CUSTOMERS,
                Capability.EXPORT_ORDERS,
                Capability.CLOSE_ORDERS,
                Capability.CANCEL_ORDERS,
                Capability.EXPORT_PRODUCTS,
                Capability.IMPORT_LISTINGS,
                Capability.EXPORT_RETURNS,
            }
        ),
        guide=files(__package__).joinpath("guide.md").read_text(encoding="utf-8"),
        account=_shop,
        webhook_topics=webhooks.TOPICS,
        toggle_topics=webhooks.TOGGLE_TOPICS,
        stock_needs_link=True,
        oauth_replaces=frozenset({"access_token"}),
    )
    stock_batch_size = inventory.BATCH

    def __init__(self, settings: ShopifySettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.client = ShopifyClient(settings, context)
        self.bulk_threshold = settings.bulk_threshold

    def close(self) -> None:
        self.client.close()

    # ----------------------------------------------------------------------- reading

    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        shop = streams.shop(self.client)
        granted = streams.granted_scopes(self.client)
        wanted = scopes.needed(toggles, uses, self.info.topics_for(toggles))
        missing = scopes.missing(granted, wanted)
        detail = (
            f"the token lacks {', '.join(missing)}: grant them to the app (or Reauthorize)"
            if missing
            else "the token works and holds every scope the switched-on toggles and the "
            "order rules need"
        )
        if Toggle.IMPORT_ORDERS in toggles and scopes.missing(granted, scopes.HISTORY):
            detail += (
                f"; Sync historical orders reaches back {scopes.ORDER_WINDOW.days} days "
                "only (older orders need read_all_orders)"
            )
        return ConnectionReport(
            ok=not missing,
            account=f"{shop['name']} ({shop['domain']})",
            detail=detail,
            missing_scopes=tuple(missing),
        )

    def list_locations(self) -> list[LocationRecord]:
        return streams.locations(self.client)

    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        return streams.orders(self.client, query, cursor, priority)

    def count_orders(self, query: OrderQuery) -> int:
        return bulk.count(self.client, query)

    def start_order_export(self, query: OrderQuery) -> BulkExport:
        return bulk.start(self.client, query)

    def order_export(self, export_id: str) -> BulkExport:
        return bulk.status(self.client, export_id)

    def read_order_export(
        self, url: str, offset: int, chunk: int
    ) -> Generator[ExportChunk, None, None]:
        return bulk.read(self.client, url, offset, chunk)

    def get_order(self, external_id: str) -> OrderRecord | None:
        return streams.order(self.client, external_id)

    def get_orders(self, external_ids: Sequence[str]) -> list[OrderRecord]:
        return streams.orders_by_id(self.client, external_ids)

    def delivered_orders(
        self, deliveries: Sequence[tuple[str, Mapping[str, str], bytes]]
    ) -> list[OrderRecord | None]:
        found = streams.delivered([body for _, _, body in deliveries])
        held = iter(streams.with_holds(self.client, [r for r in found if r is not None]))
        return [None if record is None else next(held) for record in found]

    def list_products(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        return streams.products(self.client, cursor, priority)

    def list_customers(
        self, query: CustomerQuery, cursor: str | None, priority: Priority
    ) -> Page[CustomerRecord]:
        return customers.page(self.client, query, cursor, priority)

    def list_listings(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        return products.listings(self.client, cursor, priority)

    def read_stock(self, items: Sequence[StockPush]) -> list[StockReading]:
        return inventory.read(self.client, items)

    def find_exported_order(self, origin_ref: str, since: dt.datetime) -> OrderRecord | None:
        return orders.find(self.client, origin_ref, since)

    # ----------------------------------------------------------------------- writing

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        return inventory.push(self.client, pushes, mode)

    def push_shipment(self, shipment: ShipmentRecord) -> str:
        return fulfillments.create(self.client, shipment)

    def cancel_shipment(self, external_id: str) -> None:
        fulfillments.cancel(self.client, external_id)

    def close_order(self, external_id: str) -> None:
        fulfillments.close_order(self.client, external_id)

    def export_customer(self, customer: CustomerRecord) -> CustomerRecord:
        return customers.export(self.client, customer)

    def find_customers(self, emails: Sequence[str]) -> Mapping[str, CustomerRecord]:
        return customers.find_many(self.client, emails)

    def create_customer(self, customer: CustomerRecord) -> CustomerRecord:
        return customers.create(self.client, customer)

    def export_order(self, order: OrderExport) -> OrderRecord:
        return orders.export(self.client, order)

    def cancel_order(self, external_id: str, reason: str) -> None:
        orders.cancel(self.client, external_id)

    def export_product(self, product: ProductExport) -> ProductRecord:
        return products.export(self.client, product)

    def export_return(self, refund: ReturnExport) -> str:
        return refunds.export(self.client, refund)

    # ---------------------------------------------------------------------- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(self.settings.signing_secret, headers, body)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return webhooks.parse(topic, headers, body)

    def ensure_webhooks(self, topics: Sequence[str]) -> list[str]:
        return webhooks.ensure(self.client, topics, self.context.webhook_url)

    # ------------------------------------------------------------------------- OAuth

    def authorization_url(self, state: str, redirect_uri: str) -> str:
        wanted = scopes.requested(
            self.info.toggles, self.info.capabilities, self.info.topics_for(self.info.toggles)
        )
        return oauth.authorize_url(self.client, wanted, state, redirect_uri)

    def complete_authorization(self, params: Mapping[str, str], redirect_uri: str) -> None:
        oauth.complete(self.client, params)
