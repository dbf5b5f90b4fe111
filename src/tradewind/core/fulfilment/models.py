"""Orders handed to a fulfilment tool (ShipStation-style) and the shipments it reports
back: which plugin holds which order under which reference, and which of its shipments
Tradewind has recorded (so a delivery read twice records one shipment)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Money, Timestamped, UTCDateTime


class FulfilmentOrder(Timestamped, Base):
    """An order as the tool holds it: ``reference`` is the key Tradewind gave it,
    ``external_id`` the tool's own id."""

    __tablename__ = "fulfilment_orders"
    __table_args__ = (
        UniqueConstraint("plugin_id", "order_id"),
        UniqueConstraint("plugin_id", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(40), default="")  # as last sent
    pushed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # When the poll last asked the tool for its shipments (none: never).
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class FulfilmentShipment(Base):
    """A shipment of the tool's, and the Tradewind shipment it became (none when it was
    voided before Tradewind read it)."""

    __tablename__ = "fulfilment_shipments"
    __table_args__ = (UniqueConstraint("plugin_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    cost: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
