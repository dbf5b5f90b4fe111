"""Products: the catalog of record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Money, Timestamped


class Product(Timestamped, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(128))
    # SKUs are unique without regard to case or surrounding space: "ab-1" and "AB-1 " are
    # the same article to a warehouse, so matching and uniqueness use this key.
    sku_key: Mapped[str] = mapped_column(String(128), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(255))
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    weight_grams: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.sku!r}>"


def sku_key(sku: str) -> str:
    return sku.strip().casefold()
