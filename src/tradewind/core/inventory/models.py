"""Warehouses, stock per (product, warehouse), the movement ledger and reservations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum, utcnow


class Warehouse(Timestamped, Base):
    __tablename__ = "warehouses"
    __table_args__ = (
        # At most one default warehouse (the one new manual orders ship from).
        Index(
            "uq_warehouses_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where parcels ship from (name, address1, city, postal_code, country_code, …).
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<Warehouse {self.id} {self.code!r}>"


class StockLevel(Base):
    """On-hand and reserved units of one product in one warehouse.

    ``reserved`` always equals the sum of the open reservations for the pair; it is kept
    here, updated in the same transaction, so reading stock never sums a table.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def available(self) -> int:
        """What may be sold: on-hand minus reserved, never reported below zero."""
        return max(0, self.on_hand - self.reserved)

    @property
    def shortfall(self) -> int:
        """Units reserved beyond what is on hand (a backorder)."""
        return max(0, self.reserved - self.on_hand)


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    PICK = "pick"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"
    RETURN = "return"


class StockMovement(Base):
    """One change of on-hand stock. The sum of a pair's movements is its on-hand."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_product_warehouse", "product_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)  # signed change of on-hand
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")
    reference: Mapped[str] = mapped_column(String(128), default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Reservation(Base):
    """Units held for one holder (an order line: ``order-line:57``) in one warehouse."""

    __tablename__ = "reservations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(128), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
