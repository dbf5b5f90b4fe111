"""A shipment a fulfilment tool reports, as the core takes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field


class ShippedItemIn(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class ShippedIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=128)
    order_ref: str = Field(min_length=1, max_length=128)
    carrier: str = Field(default="", max_length=128)
    service: str = ""
    tracking_number: str = Field(default="", max_length=128)
    tracking_url: str = Field(default="", max_length=1024)
    cost: Decimal | None = None
    currency: str = ""
    shipped_at: dt.datetime | None = None
    voided: bool = False
    items: list[ShippedItemIn] = Field(default_factory=list)
