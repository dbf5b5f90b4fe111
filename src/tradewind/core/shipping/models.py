"""Shipping and tax of record: a package being prepared for an order (its parcels, where
it ships from and to), the rates quoted for it, the label bought, the tracking events of
the shipment it became, the tax computed for an order (and refunded for its returns),
and which plugin of a channel does each service capability. No HTTP here: the service
plugins do the talking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Money, Timestamped, UTCDateTime, str_enum, utcnow
from tradewind.vocabulary import ServiceCapability, TrackingStatus


class PackageState(StrEnum):
    DRAFT = "draft"  # being prepared: parcels, rates
    BUYING = "buying"  # a label purchase is under way (or its outcome is unknown)
    LABELLED = "labelled"  # a label is bought: it became a shipment
    VOIDED = "voided"  # its label was voided; the package can be rated and bought again


class LabelState(StrEnum):
    PURCHASED = "purchased"
    VOIDED = "voided"


class Package(Timestamped, Base):
    """What goes in one box (or several parcels under one label) for an order."""

    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    state: Mapped[PackageState] = mapped_column(str_enum(PackageState), default=PackageState.DRAFT)
    ship_from: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), unique=True)

    parcels: Mapped[list[Parcel]] = relationship(
        back_populates="package", cascade="all, delete-orphan", order_by="Parcel.id"
    )
    quotes: Mapped[list[RateQuote]] = relationship(
        back_populates="package", cascade="all, delete-orphan", order_by="RateQuote.id"
    )


class Parcel(Base):
    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    length: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    width: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    height: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    distance_unit: Mapped[str] = mapped_column(String(2), default="cm")  # cm or in
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    mass_unit: Mapped[str] = mapped_column(String(2), default="g")  # g, kg, oz or lb

    package: Mapped[Package] = relationship(back_populates="parcels")


class RateQuote(Base):
    """A price a carrier service quoted for a package, valid until ``expires_at``."""

    __tablename__ = "rate_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128), default="")  # the service's rate id
    carrier: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    estimated_days: Mapped[int | None] = mapped_column(Integer)
    quoted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    package: Mapped[Package] = relationship(back_populates="quotes")


class Label(Timestamped, Base):
    """A bought label: at most one in force per package (the index below), so a second
    purchase of the same package is refused by the database, whatever raced."""

    __tablename__ = "labels"
    __table_args__ = (
        Index(
            "uq_labels_package_purchased",
            "package_id",
            unique=True,
            sqlite_where=text("state = 'purchased'"),
            postgresql_where=text("state = 'purchased'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    rate_quote_id: Mapped[int | None] = mapped_column(ForeignKey("rate_quotes.id"))
    state: Mapped[LabelState] = mapped_column(str_enum(LabelState), default=LabelState.PURCHASED)
    external_id: Mapped[str] = mapped_column(String(128), default="")
    carrier: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(128), default="")
    tracking_number: Mapped[str] = mapped_column(String(128), default="", index=True)
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3))
    label_url: Mapped[str] = mapped_column(String(2048), default="")
    label_data: Mapped[bytes | None] = mapped_column(LargeBinary)  # kept when sent inline
    label_format: Mapped[str] = mapped_column(String(16), default="PDF")
    bought_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TrackingEvent(Base):
    """One scan of a shipment's parcel; the same scan reported twice is kept once."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "occurred_at", "raw_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id", ondelete="SET NULL"))
    status: Mapped[TrackingStatus] = mapped_column(str_enum(TrackingStatus))
    raw_status: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(String(512), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OrderTax(Timestamped, Base):
    """The tax a tax service computed for an order (per line on the order's lines), and
    whether it was committed to the service as a transaction."""

    __tablename__ = "order_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    shipping_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    rate: Mapped[Decimal] = mapped_column(Numeric(9, 6), default=Decimal("0"))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str] = mapped_column(String(128), default="")  # the transaction id
    # The plugin the sale was committed with: its refunds go to the same service.
    committed_plugin_id: Mapped[int | None] = mapped_column(
        ForeignKey("plugins.id", ondelete="SET NULL")
    )
    refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # the refunds' sum


class TaxRefund(Base):
    """The tax of a return's units, recorded with the service as a refund of the order's
    committed sale: once per return (the unique return id)."""

    __tablename__ = "tax_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("returns.id", ondelete="CASCADE"), unique=True
    )
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column(Money)
    external_id: Mapped[str] = mapped_column(String(128), default="")  # the refund's id there
    refunded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelService(Base):
    """Which plugin of a channel does a service capability (one per capability)."""

    __tablename__ = "channel_services"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    capability: Mapped[ServiceCapability] = mapped_column(
        str_enum(ServiceCapability), primary_key=True
    )
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))


class ShippingProcess(Timestamped, Base):
    """A named fulfilment route: which plugin rates and sells the label, which of its
    services is the route's choice, and the packaging a package starts from. A platform
    location mapped to it (``LocationMapping.shipping_process``, by name) sends the
    orders from that location this way."""

    __tablename__ = "shipping_processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    plugin_id: Mapped[int | None] = mapped_column(ForeignKey("plugins.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(128), default="")  # "" : the cheapest
    packaging: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a ParcelIn, or none
