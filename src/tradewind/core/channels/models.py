"""Channels, plugins, their attachments and toggles, location mappings and listings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Money, Timestamped, UTCDateTime, str_enum, utcnow
from tradewind.vault import SealedText
from tradewind.vocabulary import StockMode, Toggle


class Channel(Timestamped, Base):
    """A logical sales destination ("Shopify UK", "Wholesale"). Orders belong to one."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Channel {self.id} {self.name!r}>"


class PluginState(StrEnum):
    INACTIVE = "inactive"  # configured, not running
    ACTIVE = "active"
    FAILING = "failing"  # the platform keeps failing; work retries with backoff
    NEEDS_REAUTHORIZATION = "needs_reauthorization"  # work is paused, not dropped
    # Its stored credentials open with none of this Tradewind's keys: work is paused, kept.
    CREDENTIALS_UNREADABLE = "credentials_unreadable"


class Plugin(Timestamped, Base):
    """One configured connection to one external service."""

    __tablename__ = "plugins"
    __table_args__ = (Index("ix_plugins_connector_account", "connector", "remote_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials: Mapped[str | None] = mapped_column(SealedText)
    state: Mapped[PluginState] = mapped_column(str_enum(PluginState), default=PluginState.INACTIVE)
    enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The remote account this plugin reaches (a shop domain): two plugins importing orders
    # from the same account would import every order twice, so that is refused.
    remote_account: Mapped[str | None] = mapped_column(String(255))
    stock_mode: Mapped[StockMode] = mapped_column(str_enum(StockMode), default=StockMode.OFF)
    stock_window_seconds: Mapped[int] = mapped_column(Integer, default=30)
    stock_buffer: Mapped[int] = mapped_column(Integer, default=0)
    # Which orders to import and how to match them (ImportRules, validated on write).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    toggle_rows: Mapped[list[PluginToggle]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    channel_rows: Mapped[list[PluginChannel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def toggles(self) -> frozenset[Toggle]:
        return frozenset(row.toggle for row in self.toggle_rows)

    @property
    def channel_ids(self) -> list[int]:
        return sorted(row.channel_id for row in self.channel_rows)

    def __repr__(self) -> str:  # never includes credentials
        return f"<Plugin {self.id} {self.connector}:{self.name!r} {self.state.value}>"


class PluginToggle(Base):
    __tablename__ = "plugin_toggles"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    toggle: Mapped[Toggle] = mapped_column(str_enum(Toggle), primary_key=True)


class PluginChannel(Base):
    """An attachment: the plugin works for the channel."""

    __tablename__ = "plugin_channels"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )


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
