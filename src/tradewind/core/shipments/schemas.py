"""Shipment input."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ShipmentLineIn(BaseModel):
    order_line_id: int
    quantity: int = Field(gt=0)


class ShipmentIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    lines: list[ShipmentLineIn] = Field(
        default_factory=list, description="Empty ships everything not yet shipped."
    )
    carrier: str = Field(default="", max_length=128)
    tracking_number: str = Field(default="", max_length=128)
    tracking_url: str = Field(default="", max_length=1024)
    shipped_at: dt.datetime | None = None
    notify_customer: bool = True
    warehouse_id: int | None = None
    plugin_id: int | None = None
    external_id: str | None = None
