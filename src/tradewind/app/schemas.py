"""The read models every face shows the same way: connectors with their toggle support,
plugins (secrets described, never shown), plugin health and backfill progress. The API
answers them as they are; the UI renders them; ``present`` builds them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradewind.core.plugins.models import PluginState
from tradewind.sync.decisions import Decision, SeenBy
from tradewind.sync.models import BackfillState, WorkKind
from tradewind.vocabulary import StockMode, Toggle


class ToggleSupport(BaseModel):
    toggle: Toggle
    label: str
    supported: bool
    reason: str = Field(default="", description="Why the connector does not support it.")
    note: str = Field(default="", description="What it does on this platform, where it differs.")
    prerequisites: list[Toggle] = Field(default_factory=list)


class ToggleState(ToggleSupport):
    on: bool


class ConnectorOut(BaseModel):
    key: str
    name: str
    version: str
    toggles: list[ToggleSupport]
    capabilities: list[str]
    oauth: bool = Field(description="Authorizes through OAuth (Authorize / Reauthorize).")
    settings_schema: dict[str, Any] = Field(
        description="JSON Schema of the plugin settings; secret fields are `writeOnly`."
    )
    secret_fields: list[str]
    guide: str = Field(description="The Integration Guide, Markdown.")


class PluginOut(BaseModel):
    id: int
    name: str
    connector: str
    state: PluginState
    settings: dict[str, Any] = Field(
        description='Secrets appear only as "set (…abcd)" or "not set".'
    )
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="Other stored credentials (tokens from an OAuth grant), described only.",
    )
    channel_ids: list[int]
    toggles: list[Toggle]
    import_conflict: str | None
    remote_account: str | None
    enabled_at: dt.datetime | None
    shadow: bool = Field(
        default=False, description="In shadow: reads and reports, writes nothing (go-live)."
    )
    shadow_since: dt.datetime | None = None
    last_success_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    stock_mode: StockMode
    stock_window_seconds: int
    stock_buffer: int
    created_at: dt.datetime


class PluginHealth(BaseModel):
    plugin_id: int
    name: str
    connector: str
    state: PluginState
    last_success_at: dt.datetime | None
    calls_24h: int
    error_rate_24h: float = Field(description="Share of failed calls in the last 24 hours.")
    queue_depth: int
    queue: dict[WorkKind, int]
    open_notifications: int
    import_conflict: str | None


class BackfillOut(BaseModel):
    id: int
    plugin_id: int
    state: BackfillState
    start: dt.datetime
    end: dt.datetime
    pages: int
    imported: int
    unchanged: int
    skipped: int
    skips: list[dict[str, str]]
    total_estimate: int | None
    progress: float | None = Field(
        description="0–1 when the total is known (1 when done), else null. A bulk read's "
        "progress is its read position: bytes of the export's result imported over its size."
    )
    route: str = Field(
        default="",
        description='How the range is read: "pages", "bulk" (one bulk export), or "" until '
        "the first step decides.",
    )
    export_read: int = Field(default=0, description="Bulk: bytes of the result imported.")
    export_size: int | None = Field(
        default=None, description="Bulk: bytes of the result, once the export is ready."
    )
    created_at: dt.datetime
    finished_at: dt.datetime | None


class DecisionChangeOut(BaseModel):
    """One of an order's decisions as it changed (its import decision's history)."""

    model_config = ConfigDict(from_attributes=True)

    seen_at: dt.datetime
    path: SeenBy
    decision: Decision
    code: str
    reason: str


class SkippedOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    external_id: str
    code: str = Field(description="The import decision's reason code (unpaid, test_order, …).")
    reason: str


class CustomerGapOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    fields: list[str]


class StockDifferenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    location_ref: str
    would_push: int = Field(description="The available stock Tradewind would push.")
    platform_quantity: int | None = Field(description="What the platform holds (null: unknown).")


class WaitingWorkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: WorkKind
    count: int


class GoLiveReportOut(BaseModel):
    """What a plugin in shadow would have done, had it been live (sync/shadow.py)."""

    model_config = ConfigDict(from_attributes=True)

    plugin_id: int
    shadow: bool
    shadow_since: dt.datetime | None
    enabled_at: dt.datetime | None
    orders_seen: int
    would_import: int
    skipped: list[SkippedOrderOut]
    unmatched_lines: int = Field(
        description="Lines of orders that would import matching no product."
    )
    unmatched_skus: list[str]
    customers_missing_fields: list[CustomerGapOut]
    stock_compared: int
    stock_differences: list[StockDifferenceOut]
    writes_waiting: list[WaitingWorkOut] = Field(
        description="Work that writes, kept until the plugin goes live (then it runs)."
    )
