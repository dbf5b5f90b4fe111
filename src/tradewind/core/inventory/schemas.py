"""What a person asks of stock: one movement, in the words every face (API, UI, CLI) uses."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Move(StrEnum):
    """The movements a person records. A count is not stored as such: it becomes the
    adjustment that brings on-hand to the counted number (``MovementKind`` is what is
    stored)."""

    RECEIPT = "receipt"
    PICK = "pick"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"
    RETURN = "return"
    COUNT = "count"


class MovementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Move
    product_id: int
    warehouse_id: int
    to_warehouse_id: int | None = Field(default=None, description="For a transfer.")
    quantity: int = Field(
        ge=-1_000_000_000,
        le=1_000_000_000,
        description="Units; signed for an adjustment, the counted total for a count.",
    )
    reason: str = Field(default="", max_length=255)
    reference: str = Field(default="", max_length=128)
