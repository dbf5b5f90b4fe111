"""What the API answers: output models built from the core's rows, and the few input
shapes the core does not already define (the core's own ``*In`` models are reused)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradewind.app.schemas import (
    BackfillOut as BackfillOut,
)
from tradewind.app.schemas import (
    ConnectorOut as ConnectorOut,
)
from tradewind.app.schemas import (
    PluginHealth as PluginHealth,
)
from tradewind.app.schemas import (
    PluginOut as PluginOut,
)
from tradewind.app.schemas import (
    ToggleState as ToggleState,
)
from tradewind.app.schemas import (
    ToggleSupport as ToggleSupport,
)
from tradewind.core.catalog.schemas import Attributes
from tradewind.core.inventory.models import MovementKind
from tradewind.core.inventory.schemas import MovementIn as MovementIn
from tradewind.core.orders.models import (
    FinancialStatus,
    FulfillmentStatus,
    OrderSource,
    OrderStatus,
)
from tradewind.core.returns.models import ReturnStatus
from tradewind.monitoring.notifications import Action, NotificationKind
from tradewind.sync.models import BackfillState, WorkKind
from tradewind.vocabulary import StockMode, Toggle


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ----------------------------------------------------------------------------- channels


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=2000)


class ChannelOut(Out):
    id: int
    name: str
    description: str
    plugin_ids: list[int] = Field(default_factory=list)
    created_at: dt.datetime


# ------------------------------------------------------------------------------ plugins


class PluginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Checked by the connector's settings schema."
    )
    channel_ids: list[int] = Field(default_factory=list, max_length=100)
    shadow: bool = Field(
        default=False,
        description="Start in shadow: read and report what would happen, write nothing.",
    )


class PluginSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        description='Changes. A secret\'s mask as shown ("set (…abcd)", "not set") keeps '
        "it, null or an empty string clears it, any other value replaces it."
    )


class ToggleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: bool


class ToggleResultOut(BaseModel):
    toggle: Toggle
    on: bool
    also_enabled: list[Toggle]
    also_disabled: list[Toggle]
    message: str


class ChannelIdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_ids: list[int] = Field(max_length=100)


class ChannelIdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: int


class AttachmentOut(BaseModel):
    channel_ids: list[int]
    import_conflict: str | None = Field(
        description="Why order import is stopped (not exactly one channel), or null."
    )


class ConnectionReportOut(BaseModel):
    ok: bool
    account: str
    detail: str
    missing_scopes: list[str]


class AuthorizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorizeOut(BaseModel):
    authorization_url: str = Field(
        description="Send the merchant here; the platform returns "
        "to /oauth/callback, which completes the grant."
    )


class SyncOut(BaseModel):
    queued: list[WorkKind]


class ProductExportOut(BaseModel):
    queued: int = Field(description="Products queued for the platform.")


class CustomerExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=False, description="Only count; start nothing.")


class CustomerExportOut(BaseModel):
    """A run of Export all customers, or (``dry_run``) what one would do."""

    id: int | None = Field(description="The run (none for a dry run).")
    dry_run: bool
    state: BackfillState | None
    total: int = Field(description="Customers with an email, to match or create.")
    no_email: int = Field(description="Customers without an email: skipped.")
    already_linked: int
    created: int = 0
    matched: int = Field(default=0, description="Found in the store by email and linked.")
    failed: int = 0
    failures: list[dict[str, str]] = []
    message: str


class BackfillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: dt.datetime = Field(description="Orders placed at or after this moment (with zone).")
    end: dt.datetime = Field(description="…and before this one.")


class ProductSyncOut(Out):
    id: int
    plugin_id: int
    state: BackfillState
    pages: int
    variants: int
    linked: int
    already_linked: int
    created: int
    unmatched: list[dict[str, str]]
    duplicates: list[dict[str, str]]
    conflicts: list[dict[str, str]]
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ProductLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=128, description="The platform variant.")
    product_ref: str = Field(default="", max_length=128)
    item_ref: str | None = Field(default=None, max_length=128)
    sku: str = Field(default="", max_length=128)
    replace: bool = Field(default=False, description="Replace an existing mapping.")


class ProductLinkOut(Out):
    id: int
    plugin_id: int
    product_id: int
    external_id: str
    product_ref: str
    item_ref: str | None
    sku: str
    linked_at: dt.datetime


class LocationOut(Out):
    id: int
    plugin_id: int
    external_id: str
    name: str
    warehouse_id: int | None
    shipping_process: str
    is_default: bool
    active: bool


class LocationMapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warehouse_id: int | None
    shipping_process: str = Field(default="", max_length=128)
    is_default: bool | None = None


class StockSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: StockMode | None = None
    window_seconds: int | None = Field(default=None, ge=0, le=3600)
    buffer: int | None = Field(default=None, ge=0, le=1_000_000)


class ExecutionOut(Out):
    id: int
    plugin_id: int
    operation: str
    started_at: dt.datetime
    duration_ms: float
    outcome: str
    http_status: int | None
    error: str


class HourStatsOut(BaseModel):
    hour: dt.datetime
    calls: int
    successes: int
    success_rate: float
    p50_ms: float
    p95_ms: float


# ------------------------------------------------------------------------------ catalog


class ProductPatch(BaseModel):
    """Only the fields sent change. ``barcode`` and ``weight_grams`` may be null (cleared);
    every other field always has a value, so a null there is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default=None, min_length=1, max_length=128)
    title: str | None = Field(default=None, min_length=1, max_length=255)
    barcode: str | None = Field(default=None, max_length=64)
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    weight_grams: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)
    attributes: Attributes | None = None
    active: bool | None = None

    @field_validator("sku", "title", "price", "attributes", "active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields sent (defaults are not validated): an explicit null.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    is_default: bool = False


class WarehouseOut(Out):
    id: int
    code: str
    name: str
    is_default: bool
    active: bool


class StockLevelOut(Out):
    product_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int
    shortfall: int
    updated_at: dt.datetime


class MovementOut(Out):
    id: int
    kind: MovementKind
    product_id: int
    warehouse_id: int
    quantity: int
    on_hand_after: int
    reason: str
    reference: str
    created_at: dt.datetime


# ------------------------------------------------------------------------------- orders


class OrderLineOut(Out):
    id: int
    external_id: str | None
    product_id: int | None
    sku: str
    barcode: str
    title: str
    quantity: int
    unit_price: Decimal
    shipped_quantity: int
    returned_quantity: int


class OrderOut(Out):
    id: int
    channel_id: int
    plugin_id: int | None
    external_id: str | None
    number: str
    status: OrderStatus
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus
    source: OrderSource
    placed_at: dt.datetime
    currency: str
    customer_id: int | None
    email: str
    subtotal: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal
    billing_address: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    warehouse_id: int | None
    test: bool
    note: str
    tags: list[str]
    missing_product: bool
    missing_customer_fields: list[str]
    cancelled_at: dt.datetime | None
    cancel_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[OrderLineOut]


class ActivityOut(Out):
    id: int
    occurred_at: dt.datetime
    kind: str
    message: str


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=255)


class AssignProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=128, description="The SKU the lines carry.")
    product_id: int
    plugin_id: int | None = Field(default=None, description="Only lines of this plugin.")


class AssignProductOut(BaseModel):
    lines: int = Field(description="Order lines now matched to the product.")


class ShipmentLineOut(Out):
    id: int
    order_line_id: int
    quantity: int


class ShipmentOut(Out):
    id: int
    order_id: int
    warehouse_id: int | None
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_at: dt.datetime
    notify_customer: bool
    plugin_id: int | None
    external_id: str | None
    lines: list[ShipmentLineOut]


class ReturnLineOut(Out):
    id: int
    order_line_id: int
    quantity: int


class ReturnOut(Out):
    id: int
    order_id: int
    status: ReturnStatus
    reason: str
    restock: bool
    warehouse_id: int | None
    plugin_id: int | None
    external_id: str | None
    received_at: dt.datetime | None
    closed_at: dt.datetime | None
    lines: list[ReturnLineOut]


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ReturnStatus


class AddressOut(Out):
    id: int
    first_name: str
    last_name: str
    company: str
    address1: str
    address2: str
    city: str
    province: str
    postal_code: str
    country_code: str
    phone: str
    is_default: bool


class CustomerOut(Out):
    id: int
    email: str | None
    first_name: str
    last_name: str
    company: str
    phone: str
    note: str
    accepts_marketing: bool
    display_name: str
    addresses: list[AddressOut]
    created_at: dt.datetime


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=20000)
    images: list[str] | None = Field(default=None, max_length=50)
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    published: bool | None = None


class ListingOut(Out):
    id: int
    channel_id: int
    product_id: int
    title: str
    description: str
    images: list[str]
    price: Decimal | None
    published: bool
    updated_at: dt.datetime


class NotificationOut(Out):
    id: int
    kind: NotificationKind
    title: str
    plugin_id: int | None
    subject: str
    message: str
    action: Action
    occurrences: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    read_at: dt.datetime | None


class NotificationCount(BaseModel):
    open: int
    unread: int


class MarkReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] | None = Field(default=None, max_length=1000, description="Null: all.")


class MarkReadOut(BaseModel):
    marked: int
