"""Return input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReturnLineIn(BaseModel):
    order_line_id: int
    quantity: int = Field(gt=0)


class ReturnIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    lines: list[ReturnLineIn] = Field(min_length=1)
    reason: str = Field(default="", max_length=255)
    restock: bool = True
    warehouse_id: int | None = None
    plugin_id: int | None = None
    external_id: str | None = None
