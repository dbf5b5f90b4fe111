"""Plugins: one configured connection each, with its toggles and its attachments to
channels."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum
from tradewind.vault import SealedText
from tradewind.vocabulary import StockMode, Toggle


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
    # The version of its connector it was made with: a template plugin stays on it until
    # the merchant upgrades (Python connectors have one installed version).
    connector_version: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials: Mapped[str | None] = mapped_column(SealedText)
    state: Mapped[PluginState] = mapped_column(str_enum(PluginState), default=PluginState.INACTIVE)
    enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set while the plugin runs in shadow: it reads and records what it would do, and
    # writes nothing to the platform nor creates orders or customers here. Going live
    # clears it and moves ``enabled_at`` to that moment.
    shadow_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
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
    def in_shadow(self) -> bool:
        return self.shadow_since is not None

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
