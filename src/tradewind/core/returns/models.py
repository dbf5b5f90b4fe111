"""Returns: units coming back from a customer, requested → received → closed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"
    CLOSED = "closed"


NEXT_STATUS = {
    ReturnStatus.REQUESTED: ReturnStatus.RECEIVED,
    ReturnStatus.RECEIVED: ReturnStatus.CLOSED,
}


class Return(Timestamped, Base):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("plugin_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(
        str_enum(ReturnStatus), default=ReturnStatus.REQUESTED
    )
    reason: Mapped[str] = mapped_column(String(255), default="")
    restock: Mapped[bool] = mapped_column(Boolean, default=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id"))
    external_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnLine.id"
    )


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    return_: Mapped[Return] = relationship(back_populates="lines")
