"""Orders as they enter the core: imported from a plugin or created in the order wizard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.orders.models import (
    FinancialStatus,
    FulfillmentStatus,
    OrderSource,
    OrderStatus,
)

_Amount = Field(default=Decimal("0"), ge=0, max_digits=18, decimal_places=4)

# How many lines one order may have (README, "Limits"). An order made in Tradewind (API,
# UI, CLI) is refused above MAX_LINES. A platform's order is a sale already made, so an
# import takes up to MAX_IMPORTED_LINES; one above that is not imported and a *record
# rejected* notification names it, its line count and the limit (never a silent drop).
MAX_LINES = 1_000
MAX_IMPORTED_LINES = 5_000


class OrderLineIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    external_id: str | None = None
    product_id: int | None = Field(
        default=None, description="Set when the caller already knows the product."
    )
    sku: str = Field(default="", max_length=128)
    barcode: str = Field(default="", max_length=64)
    title: str = Field(default="", max_length=255)
    quantity: int = Field(ge=0)
    unit_price: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=18,
        decimal_places=4,
        description="Left out: the matched product's price (0 for a line matching none).",
    )

    @model_validator(mode="after")
    def _identifiable(self) -> OrderLineIn:
        # A line with neither SKU nor barcode (gift wrap, a tip) is kept as a custom line:
        # it has no stock to reserve and is not a missing product.
        if self.product_id is None and not (self.sku or self.barcode or self.title):
            raise ValueError("a line needs a product, a SKU, a barcode or at least a title")
        return self


class OrderIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    external_id: str | None = Field(default=None, max_length=128)
    number: str | None = Field(default=None, max_length=64)
    status: OrderStatus = OrderStatus.OPEN
    financial_status: FinancialStatus = FinancialStatus.PENDING
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNFULFILLED
    source: OrderSource = OrderSource.WEB
    placed_at: dt.datetime | None = None
    currency: str = Field(default="USD", min_length=3, max_length=3)
    customer_id: int | None = None
    customer: CustomerIn | None = None
    email: str = Field(default="", max_length=320)
    lines: list[OrderLineIn] = Field(min_length=1)
    subtotal: Decimal | None = None
    shipping_total: Decimal = _Amount
    tax_total: Decimal = _Amount
    discount_total: Decimal = _Amount
    total: Decimal | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    warehouse_id: int | None = None
    location_ref: str = ""
    test: bool = False
    note: str = ""
    tags: list[str] = Field(default_factory=list)
    remote_updated_at: dt.datetime | None = None
    cancel_reason: str = ""

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("currency must be a three-letter ISO 4217 code")
        return value.upper()

    @field_validator("placed_at", "remote_updated_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value


class ImportOptions(BaseModel):
    """How an importing plugin matches lines to products."""

    match_by: tuple[str, ...] = ("sku", "barcode")

    @field_validator("match_by")
    @classmethod
    def _known_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [code for code in value if code not in ("sku", "barcode")]
        if unknown or not value:
            raise ValueError("match_by lists 'sku' and/or 'barcode'")
        return value
