"""What goes into and comes out of the catalog service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProductIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=255)
    barcode: str | None = Field(default=None, max_length=64)
    price: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=4)
    weight_grams: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)
    attributes: dict[str, Any] = Field(default_factory=dict)
    active: bool = True

    @field_validator("sku")
    @classmethod
    def _printable_sku(cls, value: str) -> str:
        if any(ch.isspace() and ch != " " for ch in value) or not value.isprintable():
            raise ValueError("a SKU may not contain tabs, line breaks or control characters")
        return value

    @field_validator("barcode")
    @classmethod
    def _empty_barcode_is_none(cls, value: str | None) -> str | None:
        return value or None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    title: str
    barcode: str | None
    price: Decimal
    weight_grams: Decimal | None
    attributes: dict[str, Any]
    active: bool


class RowError(BaseModel):
    line: int
    sku: str | None
    message: str


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
