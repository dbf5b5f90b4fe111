"""Shipments: what left a warehouse for an order, with its tracking."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum, utcnow
from tradewind.vocabulary import TrackingStatus


class Shipment(Timestamped, Base):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("plugin_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(128), default="")
    tracking_number: Mapped[str] = mapped_column(String(128), default="", index=True)
    tracking_url: Mapped[str] = mapped_column(String(1024), default="")
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    notify_customer: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the shipment came from (or was pushed to) a platform.
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id"))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The latest tracking event's status (the events are in ``tracking_events``).
    tracking_status: Mapped[TrackingStatus] = mapped_column(
        str_enum(TrackingStatus), default=TrackingStatus.UNKNOWN
    )

    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentLine.id"
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
