"""What ties a plugin's platform to the core: location mappings, listings, product and
customer links."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Money, Timestamped, UTCDateTime, utcnow


class LocationMapping(Base):
    """A platform location mapped to a warehouse (or not yet: then stock never syncs)."""

    __tablename__ = "location_mappings"
    __table_args__ = (
        UniqueConstraint("plugin_id", "external_id"),
        Index(
            "uq_location_mappings_default",
            "plugin_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255), default="")
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL")
    )
    shipping_process: Mapped[str] = mapped_column(String(128), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Listing(Timestamped, Base):
    """How one product appears on one channel."""

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("channel_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[Decimal | None] = mapped_column(Money)
    published: Mapped[bool] = mapped_column(Boolean, default=True)


class ProductLink(Base):
    """A core product mapped to one platform variant of a plugin. A mapping, once made,
    is never overwritten by a sync; a person changes it."""

    __tablename__ = "product_links"
    __table_args__ = (
        UniqueConstraint("plugin_id", "external_id"),
        UniqueConstraint("plugin_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))  # the platform's variant id
    product_ref: Mapped[str] = mapped_column(String(128), default="")  # its product id
    item_ref: Mapped[str | None] = mapped_column(String(128))  # its stock item id
    sku: Mapped[str] = mapped_column(String(128), default="")
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Export Products / Listings: a digest of what the platform last got (or was read to
    # hold), so an unchanged product is not sent again, and of its images apart (a
    # platform re-hosts images, so sending the same ones again would copy them).
    exported_hash: Mapped[str | None] = mapped_column(String(64))
    images_hash: Mapped[str | None] = mapped_column(String(64))


class CustomerLink(Base):
    """A core customer known to a plugin's platform under ``external_id`` (imported from
    it, or exported to it). Customers are matched by email; the link lets an update reach
    the same platform customer, and ``synced_hash`` (a digest of the profile the platform
    last agreed with) keeps an unchanged customer from being sent again."""

    __tablename__ = "customer_links"
    __table_args__ = (
        UniqueConstraint("plugin_id", "external_id"),
        UniqueConstraint("plugin_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    synced_hash: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
