"""Orders, their lines and their activity timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Money, Timestamped, UTCDateTime, str_enum, utcnow
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, OrderSource, OrderStatus

__all__ = [
    "FinancialStatus",
    "FulfillmentStatus",
    "Order",
    "OrderActivity",
    "OrderLine",
    "OrderSource",
    "OrderStatus",
]


class Order(Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The rule that keeps an order from ever being imported twice.
        UniqueConstraint("plugin_id", "external_id"),
        Index("ix_orders_channel_placed", "channel_id", "placed_at"),
        # The order lists: newest first, by placed_at then id (keyset pages).
        Index("ix_orders_placed", "placed_at", "id"),
        # The list filtered by status (open orders, the usual view), newest first.
        Index("ix_orders_status_placed", "status", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.OPEN)
    financial_status: Mapped[FinancialStatus] = mapped_column(
        str_enum(FinancialStatus), default=FinancialStatus.PENDING
    )
    fulfillment_status: Mapped[FulfillmentStatus] = mapped_column(
        str_enum(FulfillmentStatus), default=FulfillmentStatus.UNFULFILLED
    )
    source: Mapped[OrderSource] = mapped_column(str_enum(OrderSource), default=OrderSource.WEB)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    currency: Mapped[str] = mapped_column(String(3))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    location_ref: Mapped[str] = mapped_column(String(128), default="")
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    missing_product: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    missing_customer_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(255), default="")
    # Made in Tradewind, then created on its plugin's platform (Export Orders): the order
    # keeps its own number, buyer and warehouse when the platform's copy comes back.
    exported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.number!r}>"


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("shipped_quantity >= 0", name="shipped_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    # A line whose SKU matches nothing keeps the SKU as text and no product.
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(128), default="")
    sku_key: Mapped[str] = mapped_column(String(128), default="", index=True)
    barcode: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(255), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # a tax service's
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def unshipped(self) -> int:
        return max(0, self.quantity - self.shipped_quantity)

    @property
    def holder(self) -> str:
        """The key its stock reservation is held under."""
        return f"order-line:{self.id}"


class OrderActivity(Base):
    """One entry of an order's timeline: what happened to it and its lines, and why."""

    __tablename__ = "order_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)


class OrderPayment(Base):
    """A payment recorded in Tradewind (``payments.py``)."""

    __tablename__ = "order_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(40), default="")
    reference: Mapped[str] = mapped_column(String(128), default="")
    recorded_by: Mapped[str] = mapped_column(String(150), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
