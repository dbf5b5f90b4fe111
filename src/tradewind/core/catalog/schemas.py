"""What goes into and comes out of the catalog service."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Free-form attributes are bounded where they enter: a product nested 500 levels deep was
# stored and then broke every page of the product list that held it (#10 item 8).
ATTRIBUTES_MAX_DEPTH = 8
ATTRIBUTES_MAX_BYTES = 16 * 1024


def _bounded_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse attributes nested deeper than ``ATTRIBUTES_MAX_DEPTH`` (an object of
    scalars is 1 deep), larger than ``ATTRIBUTES_MAX_BYTES`` as JSON, or holding numbers
    JSON cannot carry. Walked without recursion, so no depth can crash the check."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > ATTRIBUTES_MAX_DEPTH:
            raise ValueError(f"attributes may be nested at most {ATTRIBUTES_MAX_DEPTH} deep")
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                raise ValueError("attribute numbers must be finite")
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > ATTRIBUTES_MAX_BYTES:
        raise ValueError(
            f"attributes may take at most {ATTRIBUTES_MAX_BYTES} bytes as JSON (these take {size})"
        )
    return value


Attributes = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_attributes),
    Field(
        description=f"Free-form JSON object, nested at most {ATTRIBUTES_MAX_DEPTH} deep, at "
        f"most {ATTRIBUTES_MAX_BYTES} bytes as JSON."
    ),
]


class ProductIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=255)
    barcode: str | None = Field(default=None, max_length=64)
    price: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=4)
    weight_grams: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)
    attributes: Attributes = Field(default_factory=dict)
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
