"""What the faces and the service plugins hand the shipping core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradewind.vocabulary import TrackingStatus

_Size = Field(default=None, gt=0, max_digits=10, decimal_places=2)


class ParcelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: Decimal | None = _Size
    width: Decimal | None = _Size
    height: Decimal | None = _Size
    distance_unit: Literal["cm", "in"] = "cm"
    weight: Decimal | None = Field(default=None, max_digits=12, decimal_places=3)
    mass_unit: Literal["g", "kg", "oz", "lb"] = "g"


class QuoteIn(BaseModel):
    """One rate a service quoted (money as a decimal string from the service)."""

    external_id: str = Field(default="", max_length=128)
    carrier: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=128)
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    estimated_days: int | None = Field(default=None, ge=0, le=365)


class LabelIn(BaseModel):
    external_id: str = Field(default="", max_length=128)
    carrier: str = Field(min_length=1, max_length=64)
    service: str = Field(default="", max_length=128)
    tracking_number: str = Field(min_length=1, max_length=128)
    tracking_url: str = Field(default="", max_length=1024)
    cost: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    label_url: str = Field(default="", max_length=2048)
    label_data: bytes | None = None
    label_format: str = Field(default="PDF", max_length=16)


class TrackingIn(BaseModel):
    status: TrackingStatus
    raw_status: str = Field(default="", max_length=64)
    message: str = Field(default="", max_length=512)
    location: str = Field(default="", max_length=255)
    occurred_at: dt.datetime


class TaxIn(BaseModel):
    """A tax service's answer for an order: the total, the shipping's part, the combined
    rate and each line's amount (by order line id)."""

    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    shipping_tax: Decimal = Field(default=Decimal("0"), ge=0, max_digits=18, decimal_places=4)
    rate: Decimal = Field(default=Decimal("0"), ge=0, le=1, max_digits=9, decimal_places=6)
    lines: dict[int, Decimal] = Field(default_factory=dict)


class ShippingProcessIn(BaseModel):
    """A fulfilment route as a person defines it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    plugin_id: int | None = Field(
        default=None, description="The carrier plugin (none: the channel's rating plugin)."
    )
    service: str = Field(
        default="", max_length=128, description="The service to buy (empty: the cheapest)."
    )
    packaging: ParcelIn | None = Field(
        default=None, description="The parcel a package starts from when none is given."
    )
