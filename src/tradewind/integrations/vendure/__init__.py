"""The Vendure connector (https://vendure.io, the open-source headless commerce platform),
through its Admin GraphQL API with an API key: orders, customers, cancellations and
refunds in; products and variants mapped by SKU then barcode; stock per stock location
and tracking out; signed order and stock events from the companion Vendure plugin
(``vendure-plugin/``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from tradewind.connectors import (
    Capability,
    ConnectionReport,
    ConnectorContext,
    ConnectorInfo,
    LocationRecord,
    OrderQuery,
    OrderRecord,
    Page,
    Priority,
    ProductRecord,
    ShipmentRecord,
    StockMode,
    StockPush,
    StockPushResult,
    Toggle,
    WebhookEvent,
)
from tradewind.integrations.vendure import (
    fulfillments,
    inventory,
    orders,
    scopes,
    streams,
    webhooks,
)
from tradewind.integrations.vendure.client import VendureClient
from tradewind.integrations.vendure.settings import VendureSettings, signing_key

__all__ = ["VendureConnector", "VendureSettings"]

_SUPPORTED = frozenset(
    {
        Toggle.IMPORT_ORDERS,
        Toggle.IMPORT_PRODUCTS,
        Toggle.EXPORT_TRACKING,
        Toggle.EXPORT_SHIPMENTS,
    }
)
_NOT_IN_VENDURE_FULFILLMENTS = (
    "fulfillments made in Vendure are read with the order but not imported as shipments yet"
)
_UNSUPPORTED: Mapping[Toggle, str] = MappingProxyType(
    {
        Toggle.EXPORT_ORDERS: "orders are placed in Vendure; Tradewind does not create them there",
        Toggle.IMPORT_TRACKING: _NOT_IN_VENDURE_FULFILLMENTS,
        Toggle.IMPORT_SHIPMENTS: _NOT_IN_VENDURE_FULFILLMENTS,
        Toggle.EXPORT_PRODUCTS: "the catalog is kept in Vendure; Tradewind maps to it only",
        Toggle.IMPORT_CUSTOMERS: (
            "customers arrive with their orders (name, email, phone, address); "
            "customers without orders are not read"
        ),
        Toggle.EXPORT_CUSTOMERS: "customers sign up in the Vendure shop; Tradewind adds none",
        Toggle.IMPORT_LISTINGS: "prices and descriptions stay in Vendure (listings are not read)",
        Toggle.EXPORT_LISTINGS: "prices and descriptions stay in Vendure (listings not written)",
    }
)

_NOTES: Mapping[Toggle, str] = MappingProxyType(
    {
        Toggle.EXPORT_SHIPMENTS: "Adds nothing on Vendure: a fulfillment carries the tracking "
        "code, so Export Tracking already sends each shipment (its items and tracking) as one."
    }
)


def _account(settings: BaseModel) -> str | None:
    assert isinstance(settings, VendureSettings)
    parts = urlsplit(settings.admin_url)
    return f"{parts.hostname}:{parts.port or ''}{parts.path}#{settings.channel_token or 'default'}"


class VendureConnector:
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="vendure",
        name="Vendure",
        settings=VendureSettings,
        toggles=_SUPPORTED,
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
                Capability.LOCATIONS,
                Capability.CANCEL_ORDERS,
            }
        ),
        guide=files(__package__).joinpath("guide.md").read_text(encoding="utf-8"),
        account=_account,
        # Stock levels hang off variants: a product must be mapped to one to be pushed.
        stock_needs_link=True,
        # Vendure only sets stock on hand; a delta would have to be read, added and written
        # back, which a resent push would apply twice.
        stock_modes=frozenset({StockMode.OFF, StockMode.ABSOLUTE}),
    )
    stock_batch_size = inventory.BATCH

    def __init__(self, settings: VendureSettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.client = VendureClient(settings, context)
        self._secret = (
            signing_key(settings.webhook_secret.get_secret_value())
            if settings.webhook_secret
            else None
        )

    def close(self) -> None:
        self.client.close()

    # ----------------------------------------------------------------------- reading

    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        return scopes.check(
            self.client, self.settings, toggles, uses, signed=self._secret is not None
        )

    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        return streams.orders(self.client, self.settings, query, cursor, priority)

    def get_order(self, external_id: str) -> OrderRecord | None:
        return streams.order(self.client, self.settings, external_id)

    def list_products(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        return streams.products(self.client, self.settings, cursor, priority)

    def list_locations(self) -> list[LocationRecord]:
        return streams.locations(self.client)

    # ----------------------------------------------------------------------- writing

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        return inventory.push(self.client, pushes, mode)

    def push_shipment(self, shipment: ShipmentRecord) -> str:
        return fulfillments.create(self.client, shipment)

    def cancel_order(self, external_id: str, reason: str) -> None:
        orders.cancel(self.client, external_id, reason)

    # ---------------------------------------------------------------------- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(self._secret, headers, body)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return webhooks.parse(topic, headers, body, channel_token=self.settings.channel_token)
