"""Turning core rows into what the API answers and the UI shows — one place, so both say
the same (secrets described, never shown; toggles with their support and reasons)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.app import schemas
from tradewind.app.actions import BackfillProgress
from tradewind.connectors.base import Capability, ConnectorInfo, SeedsCustomers
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.catalog.models import Product
from tradewind.core.channels.models import Channel
from tradewind.core.orders.models import Order, OrderStatus
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.plugins.schemas import secret_fields
from tradewind.db import utcnow
from tradewind.errors import Conflict
from tradewind.hub import Hub
from tradewind.monitoring import executions, notifications
from tradewind.sync import customer_exports, ledger
from tradewind.sync.models import Backfill, BackfillState, CustomerExport
from tradewind.vault import describe_secret
from tradewind.vocabulary import Toggle, prerequisites_of


def toggle_support(info: ConnectorInfo) -> list[schemas.ToggleSupport]:
    return [
        schemas.ToggleSupport(
            toggle=toggle,
            label=toggle.label,
            supported=toggle in info.toggles,
            reason="" if toggle in info.toggles else info.unsupported.get(toggle, "not offered"),
            note=info.toggle_notes.get(toggle, "") if toggle in info.toggles else "",
            prerequisites=prerequisites_of(toggle),
        )
        for toggle in Toggle
    ]


def connector_out(info: ConnectorInfo) -> schemas.ConnectorOut:
    secrets = secret_fields(info.settings)
    schema = info.settings.model_json_schema()
    for name, field in schema.get("properties", {}).items():
        if name in secrets:
            field["writeOnly"] = True
    return schemas.ConnectorOut(
        key=info.key,
        name=info.name,
        version=info.version,
        toggles=toggle_support(info),
        capabilities=sorted(capability.value for capability in info.capabilities),
        oauth=Capability.OAUTH in info.capabilities,
        settings_schema=schema,
        secret_fields=sorted(secrets),
        guide=info.guide,
    )


def plugin_secrets(hub: Hub, plugin: Plugin) -> tuple[dict[str, Any], dict[str, str], bool]:
    """The plugin's settings as they may be shown, its other sealed credentials (tokens an
    OAuth grant stored) described, and whether its credentials no longer open (then each
    secret shows as such). A connector no longer installed shows what is stored, never
    the sealed credentials."""
    if plugin.connector not in hub.registry.connectors:
        return dict(plugin.settings), {}, False
    spec = hub.info_for(plugin)
    shown = plugins.describe_settings(hub.vault, spec, plugin)
    try:
        stored = plugins.read_credentials(hub.vault, plugin)
    except plugins.CredentialsUnreadable:
        return shown, {}, True
    names = secret_fields(spec.settings)
    others = {
        key: str(describe_secret(value))
        for key, value in sorted(stored.items())
        if key not in names
    }
    return shown, others, False


_PAUSED_BY_UNREADABLE = (
    PluginState.ACTIVE,
    PluginState.FAILING,
    PluginState.NEEDS_REAUTHORIZATION,
)


def plugin_out(hub: Hub, session: Session, plugin: Plugin) -> schemas.PluginOut:
    settings, credentials, unreadable = plugin_secrets(hub, plugin)
    state = plugin.state
    if unreadable and state in _PAUSED_BY_UNREADABLE:
        state = PluginState.CREDENTIALS_UNREADABLE  # as runtime.check_credentials records it
    return schemas.PluginOut(
        id=plugin.id,
        name=plugin.name,
        connector=plugin.connector,
        state=state,
        settings=settings,
        credentials=credentials,
        channel_ids=plugin.channel_ids,
        toggles=[toggle for toggle in Toggle if toggle in plugin.toggles],
        import_conflict=plugins.import_conflict(session, plugin),
        remote_account=plugin.remote_account,
        enabled_at=plugin.enabled_at,
        shadow=plugin.in_shadow,
        shadow_since=plugin.shadow_since,
        last_success_at=plugin.last_success_at,
        last_error=plugin.last_error,
        last_error_at=plugin.last_error_at,
        stock_mode=plugin.stock_mode,
        stock_window_seconds=plugin.stock_window_seconds,
        stock_buffer=plugin.stock_buffer,
        created_at=plugin.created_at,
    )


def toggle_states(hub: Hub, plugin: Plugin) -> list[schemas.ToggleState]:
    info = hub.info_for(plugin)
    return [
        schemas.ToggleState(**support.model_dump(), on=support.toggle in plugin.toggles)
        for support in toggle_support(info)
    ]


def plugin_health(session: Session, plugin: Plugin) -> schemas.PluginHealth:
    since = utcnow() - dt.timedelta(hours=24)
    stats = executions.hourly_stats(session, plugin.id, since=since)
    calls = sum(hour.calls for hour in stats)
    failures = calls - sum(hour.successes for hour in stats)
    queue = ledger.depth(session, plugin.id)
    return schemas.PluginHealth(
        plugin_id=plugin.id,
        name=plugin.name,
        connector=plugin.connector,
        state=plugin.state,
        last_success_at=plugin.last_success_at,
        calls_24h=calls,
        error_rate_24h=round(failures / calls, 4) if calls else 0.0,
        queue_depth=sum(queue.values()),
        queue=queue,
        open_notifications=len(notifications.open_notifications(session, plugin_id=plugin.id)),
        import_conflict=plugins.import_conflict(session, plugin),
    )


def backfill_out(
    run: Backfill | BackfillProgress,
    plugin_id: int,
    created_at: dt.datetime,
    finished_at: dt.datetime | None,
    total: int | None,
) -> schemas.BackfillOut:
    done = run.imported + run.unchanged + run.skipped
    if run.state is BackfillState.DONE:
        progress: float | None = 1.0
    elif run.read_fraction is not None:  # a bulk export: how far its result is imported
        progress = run.read_fraction
    elif total:
        progress = min(1.0, done / total)
    else:
        progress = None
    return schemas.BackfillOut(
        id=run.id,
        plugin_id=plugin_id,
        state=run.state,
        start=run.start,
        end=run.end,
        pages=run.pages,
        imported=run.imported,
        unchanged=run.unchanged,
        skipped=run.skipped,
        skips=list(run.skips),
        total_estimate=total,
        progress=progress,
        route=run.route,
        export_read=run.export_offset,
        export_size=run.export_size,
        created_at=created_at,
        finished_at=finished_at,
    )


def backfill_row_out(run: Backfill) -> schemas.BackfillOut:
    return backfill_out(run, run.plugin_id, run.created_at, run.finished_at, run.total_estimate)


def spec_of(hub: Hub, plugin: Plugin) -> ConnectorInfo:
    """The plugin's connector description; a clear problem when it is not installed."""
    try:
        return hub.info_for(plugin)
    except UnknownConnector as exc:
        raise Conflict(
            f"plugin {plugin.name!r} uses connector {plugin.connector!r}, which is not "
            f"installed: {exc}"
        ) from None


# ------------------------------------------------------------ counts for the dashboard


def dashboard_counts(session: Session) -> dict[str, int]:
    """Totals shown on the dashboard, counted by the database (never loaded)."""

    def count(entity: Any, *conditions: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(entity).where(*conditions)) or 0)

    return {
        "orders": count(Order),
        "missing": count(Order, Order.missing_product.is_(True), Order.status == OrderStatus.OPEN),
        "products": count(Product),
        "channels": count(Channel),
    }


def latest_orders(session: Session, limit: int = 10) -> list[Order]:
    return list(session.scalars(select(Order).order_by(Order.id.desc()).limit(limit)))


def order_numbers(session: Session, order_ids: set[int]) -> dict[int, str]:
    """Order numbers for the orders a page lists."""
    if not order_ids:
        return {}
    rows = session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids)))
    return {order_id: number for order_id, number in rows}


def customer_export_panel(hub: Hub, session: Session, plugin: Plugin) -> dict[str, object] | None:
    """The dry-run count the Export all customers button confirms, and the latest run."""
    connector = hub.connector_for(plugin)
    if Toggle.EXPORT_CUSTOMERS not in plugin.toggles or not (
        isinstance(connector, type) and issubclass(connector, SeedsCustomers)
    ):
        return None
    latest = session.scalar(
        select(CustomerExport)
        .where(CustomerExport.plugin_id == plugin.id)
        .order_by(CustomerExport.id.desc())
        .limit(1)
    )
    return {"preview": customer_exports.preview(session, plugin.id).sentence(), "run": latest}
