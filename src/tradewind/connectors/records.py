"""The records that cross the connector boundary.

A connector maps its platform's JSON to these (in its ``mapping.py``) and back; the engine
maps them to the core. They are validated on construction, so a malformed platform
payload is refused at the boundary with a clear message instead of deep inside the core.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, OrderSource, OrderStatus

R = TypeVar("R")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")


class AddressRecord(Record):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    postal_code: str = ""
    country_code: str = Field(default="", max_length=2)
    phone: str = ""


class CustomerRecord(Record):
    external_id: str | None = None
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    addresses: tuple[AddressRecord, ...] = ()


class OrderLineRecord(Record):
    external_id: str
    sku: str = ""
    barcode: str = ""
    title: str = ""
    quantity: int = Field(ge=0)
    unit_price: Decimal = Decimal("0")
    variant_ref: str | None = None  # the platform's id of what was sold


class ShipmentLineRecord(Record):
    line_external_id: str
    quantity: int = Field(gt=0)


class FulfillmentRecord(Record):
    """A shipment made on the platform (Import Tracking / Import Shipments)."""

    external_id: str
    lines: tuple[ShipmentLineRecord, ...] = ()
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    shipped_at: dt.datetime | None = None
    location_ref: str = ""


class RefundLineRecord(Record):
    line_external_id: str
    quantity: int = Field(gt=0)
    restock: bool = False


class RefundRecord(Record):
    """A refund or return made on the platform; imported as a return."""

    external_id: str
    created_at: dt.datetime
    lines: tuple[RefundLineRecord, ...] = ()
    reason: str = ""


class OrderRecord(Record):
    external_id: str
    number: str
    status: OrderStatus = OrderStatus.OPEN
    financial_status: FinancialStatus = FinancialStatus.PENDING
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNFULFILLED
    source: OrderSource = OrderSource.WEB
    placed_at: dt.datetime
    updated_at: dt.datetime
    currency: str = Field(min_length=3, max_length=3)
    customer: CustomerRecord | None = None
    email: str = ""
    lines: tuple[OrderLineRecord, ...]
    subtotal: Decimal | None = None
    shipping_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    total: Decimal | None = None
    billing_address: AddressRecord | None = None
    shipping_address: AddressRecord | None = None
    location_ref: str = ""  # the platform location the order was placed at or assigned to
    test: bool = False
    note: str = ""
    tags: tuple[str, ...] = ()
    cancel_reason: str = ""
    fulfillments: tuple[FulfillmentRecord, ...] = ()
    refunds: tuple[RefundRecord, ...] = ()
    # Set while the platform holds the order for review (a fraud or payment hold): why,
    # in the platform's words ("high_risk_of_fraud"). Such an order waits to be imported.
    review_hold: str = ""
    # Set on an order Tradewind itself created on the platform (Export Orders): the
    # reference it was created with, so that it is recognised when it comes back.
    origin_ref: str = ""

    @field_validator("placed_at", "updated_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("platform timestamps must carry a timezone")
        return value


class CustomerQuery(Record):
    """Which customers to list: all of them, or those updated since ``since``."""

    since: dt.datetime | None = None


class OrderQuery(Record):
    """Which orders to list: by update time (reconciliation) or by creation time
    (backfill). Bounds are inclusive-exclusive: [since, until)."""

    field: Literal["updated_at", "created_at"] = "updated_at"
    since: dt.datetime
    until: dt.datetime | None = None


class Page(BaseModel, Generic[R]):
    """One page of records and the cursor of the next page (``None`` when done)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    records: Sequence[R]
    next_cursor: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()  # (record id, reason) the connector could not map


class BulkExport(Record):
    """A platform-side export of many records at once (a Shopify bulk operation): its
    state as the platform last said, and where its result can be read once complete."""

    id: str
    status: Literal["running", "completed", "failed", "expired"]
    url: str | None = None  # the result, once complete (None: complete and empty)
    objects: int = 0  # rows written so far (every line of the result, children too)
    size: int | None = None  # bytes of the result, once complete
    error: str = ""


class ExportChunk(BaseModel):
    """Whole records read from an export's result, and the byte position after the last
    of them: reading again from ``end`` neither repeats nor skips a record."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    records: Sequence[OrderRecord]
    skipped: tuple[tuple[str, str], ...] = ()  # (record id or position, reason)
    end: int


class StockPush(Record):
    """One stock level to send: the available quantity of a product at a location."""

    product_id: int
    sku: str
    location_ref: str
    available: int = Field(ge=0)
    # The platform's own id of the item (an inventory item id), when the product is linked.
    item_ref: str | None = None
    # Delta mode: the change since the last successful push. Absolute mode: what the
    # platform is believed to hold now (compare-and-set), when known.
    delta: int | None = None
    expected: int | None = None
    # Same key for the same intended change: a platform that honours idempotency keys
    # applies a resent push once (a lost response must not double a delta).
    idempotency_key: str = ""


class StockPushResult(Record):
    product_id: int
    location_ref: str
    ok: bool
    platform_quantity: int | None = None  # what the platform holds after the push
    error: str = ""


class StockReading(Record):
    """What the platform holds now of a product at a location (shadow's comparison)."""

    product_id: int
    location_ref: str
    available: int


class ShipmentRecord(Record):
    """A shipment made in Tradewind, to be sent to the platform the order came from."""

    shipment_id: int
    order_external_id: str
    lines: tuple[ShipmentLineRecord, ...]
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    notify_customer: bool = True  # e-mail the buyer: the plugin's Send Shipping Notification
    location_ref: str = ""


class VariantRecord(Record):
    """One sellable variant of a platform product: what a core product maps to."""

    external_id: str
    sku: str = ""
    barcode: str = ""
    title: str = ""
    price: Decimal | None = None
    weight_grams: Decimal | None = None
    item_ref: str | None = None  # the platform's stock item (Shopify inventory item)
    attributes: dict[str, str] = Field(default_factory=dict)


class ProductRecord(Record):
    external_id: str
    title: str
    description: str = ""
    images: tuple[str, ...] = ()
    variants: tuple[VariantRecord, ...] = ()
    published: bool = True  # offered to buyers (not a draft, not archived)


class ProductExport(Record):
    """A core product as one platform product with one variant (Export Products), with
    the channel's listing laid over it (Export Listings). ``None`` leaves the platform's
    value as it is; the refs are set when the product is already linked."""

    product_id: int
    sku: str = Field(min_length=1)
    barcode: str = ""
    title: str = Field(min_length=1)
    price: Decimal = Field(ge=0)
    weight_grams: Decimal | None = None
    description: str | None = None
    images: tuple[str, ...] | None = None
    published: bool | None = None
    product_ref: str | None = None
    variant_ref: str | None = None
    # Platform locations that must stock a newly created product (the mapped ones), so
    # that its stock can be pushed at once.
    locations: tuple[str, ...] = ()


class OrderExportLine(Record):
    title: str
    sku: str = ""
    quantity: int = Field(gt=0)
    unit_price: Decimal = Field(ge=0)
    variant_ref: str | None = None  # the linked platform variant, when there is one


class OrderExport(Record):
    """An order made in Tradewind (manual, wholesale, B2B), to be created on the platform
    (Export Orders). ``origin_ref`` travels with it and comes back on its ``OrderRecord``;
    the platform's copy is found by it after a lost answer."""

    origin_ref: str = Field(min_length=1)
    number: str  # Tradewind's number, kept on the platform's copy for people
    currency: str = Field(min_length=3, max_length=3)
    placed_at: dt.datetime
    financial_status: FinancialStatus = FinancialStatus.PENDING
    email: str = ""
    customer: CustomerRecord | None = None
    lines: tuple[OrderExportLine, ...] = Field(min_length=1)
    shipping_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    billing_address: AddressRecord | None = None
    shipping_address: AddressRecord | None = None
    note: str = ""
    tags: tuple[str, ...] = ()


class ReturnExportLine(Record):
    line_external_id: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class ReturnExport(Record):
    """A return received in Tradewind, of an order imported from the platform, to be made
    a refund there. ``marker`` travels in the refund's note: the refund is found by it
    after a lost answer."""

    order_external_id: str = Field(min_length=1)
    marker: str = Field(min_length=1)
    lines: tuple[ReturnExportLine, ...] = Field(min_length=1)
    restock: bool = False
    location_ref: str = ""  # where restocked units go back (empty: the platform's choice)
    notify: bool = False
    reason: str = ""


class LocationRecord(Record):
    external_id: str
    name: str
    active: bool = True


# What a webhook delivery is about, which decides what the engine re-reads.
WebhookSubject = Literal[
    "order", "product", "inventory", "customer", "tracking", "shipment", "app", "privacy", "other"
]


class WebhookEvent(Record):
    """What an inbound webhook is about. The engine re-reads the subject, unless the
    delivery carries it whole as of ``updated_at`` (the platform's own stamp, which the
    engine orders deliveries by: they arrive late, twice and out of order)."""

    delivery_id: str
    topic: str
    subject: WebhookSubject
    subject_id: str = ""
    occurred_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None  # the subject's version the body carries
    quantity: int | None = None  # inventory deliveries: the level the platform now holds
    # Privacy requests: the platform's order ids the request covers (subject_id: the
    # platform's customer id; empty for a whole shop's redaction).
    refs: tuple[str, ...] = ()


class ConnectionReport(Record):
    """The answer to Test connection."""

    ok: bool
    account: str = ""  # e.g. the shop's name and domain
    detail: str = ""
    missing_scopes: tuple[str, ...] = ()
