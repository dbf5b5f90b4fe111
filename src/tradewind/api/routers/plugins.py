"""Plugins: configured connections, and everything a person asks of one — channels,
toggles, test connection, authorize, sync now, sync products, backfills, locations,
product mapping, stock mode and import rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Depends, Query, Request, Response, status
from sqlalchemy import select

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app import actions, configure
from tradewind.app.calls import connector_calls
from tradewind.app.present import (
    backfill_out,
    backfill_row_out,
    plugin_health,
    plugin_out,
    spec_of,
    toggle_states,
)
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.plugins.schemas import ImportRules
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound
from tradewind.monitoring import executions
from tradewind.sync import runtime
from tradewind.sync.models import Backfill, CustomerExport, ProductSync, WorkKind
from tradewind.vocabulary import Toggle

router = resource_router("plugins")


@router.get("/plugins", response_model=Page[schemas.PluginOut])
def list_plugins(
    request: Request,
    page: PageParams = Depends(page_params),
    connector: str | None = Query(default=None, max_length=64),
    state: PluginState | None = None,
    channel_id: int | None = None,
) -> Page[schemas.PluginOut]:
    hub = hub_of(request)
    with hub.db.read() as session:
        rows = [
            plugin
            for plugin in plugins.list_plugins(session, connector=connector)
            if plugin.id > page.after_id
            and (state is None or plugin.state is state)
            and (channel_id is None or channel_id in plugin.channel_ids)
        ]
        return paginate(
            rows[: page.limit + 1],
            page.limit,
            lambda p: plugin_out(hub, session, p),
            lambda p: p.id,
        )


@router.post(
    "/plugins",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PluginOut,
    responses=responses(404, 409),
)
def create_plugin(request: Request, body: schemas.PluginIn) -> schemas.PluginOut:
    """Settings are checked by the connector's schema; secrets are sealed and never echoed."""
    hub = hub_of(request)
    try:
        spec = hub.registry.info(body.connector)
    except UnknownConnector as exc:
        raise Invalid(str(exc), fields={"connector": "unknown"}) from None
    plugin_id = configure.create_plugin(
        hub,
        spec,
        name=body.name,
        config=body.settings,
        channel_ids=body.channel_ids,
        shadow=body.shadow,
    )
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.get("/plugins/{plugin_id}", response_model=schemas.PluginOut, responses=responses(404))
def get_plugin(request: Request, plugin_id: int) -> schemas.PluginOut:
    hub = hub_of(request)
    runtime.check_credentials(hub, plugin_id)  # credentials no key opens: paused, and said
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.patch("/plugins/{plugin_id}", response_model=schemas.PluginOut, responses=responses(404))
def update_plugin(
    request: Request, plugin_id: int, body: schemas.PluginSettingsIn
) -> schemas.PluginOut:
    """Change settings. Secrets are write-only: a secret's mask as this API shows it ("set
    (…abcd)", "not set") keeps it, so a settings document read and sent back changes
    nothing; ``null`` or ``""`` clears it; any other value replaces it."""
    hub = hub_of(request)
    with hub.db.read() as session:
        spec = spec_of(hub, plugins.get_plugin(session, plugin_id))
    configure.configure_plugin(hub, spec, plugin_id, body.settings)
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.get(
    "/plugins/{plugin_id}/health", response_model=schemas.PluginHealth, responses=responses(404)
)
def get_health(request: Request, plugin_id: int) -> schemas.PluginHealth:
    """State, last success, 24-hour error rate and queue depth (the dashboard's row)."""
    with hub_of(request).db.read() as session:
        return plugin_health(session, plugins.get_plugin(session, plugin_id))


@router.post(
    "/plugins/{plugin_id}/activate",
    response_model=schemas.PluginOut,
    responses=responses(404, 502),
)
def activate(request: Request, plugin_id: int) -> schemas.PluginOut:
    """Start the plugin: read its locations, register its webhooks, send its stock."""
    hub = hub_of(request)
    with connector_calls():
        actions.activate(hub, plugin_id)
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.post(
    "/plugins/{plugin_id}/deactivate", response_model=schemas.PluginOut, responses=responses(404)
)
def deactivate(request: Request, plugin_id: int) -> schemas.PluginOut:
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        return plugin_out(hub, session, plugins.deactivate(session, plugin_id))


# ------------------------------------------------------------------------- channels


@router.get(
    "/plugins/{plugin_id}/channels",
    response_model=schemas.AttachmentOut,
    responses=responses(404),
)
def get_channels(request: Request, plugin_id: int) -> schemas.AttachmentOut:
    with hub_of(request).db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        return schemas.AttachmentOut(
            channel_ids=plugin.channel_ids,
            import_conflict=plugins.import_conflict(session, plugin),
        )


@router.put(
    "/plugins/{plugin_id}/channels",
    response_model=schemas.AttachmentOut,
    responses=responses(404),
)
def set_channels(
    request: Request, plugin_id: int, body: schemas.ChannelIdsIn
) -> schemas.AttachmentOut:
    """The plugin's Channels field. With Import Orders on, anything but exactly one channel
    is answered with the import conflict (and order import stops until it is fixed)."""
    with hub_of(request).db.unit_of_work() as session:
        result = plugins.set_channels(session, plugin_id, body.channel_ids)
        return schemas.AttachmentOut(
            channel_ids=result.channel_ids, import_conflict=result.import_conflict
        )


@router.post(
    "/plugins/{plugin_id}/channels",
    response_model=schemas.AttachmentOut,
    responses=responses(404),
)
def attach(request: Request, plugin_id: int, body: schemas.ChannelIdIn) -> schemas.AttachmentOut:
    with hub_of(request).db.unit_of_work() as session:
        result = plugins.attach(session, plugin_id, body.channel_id)
        return schemas.AttachmentOut(
            channel_ids=result.channel_ids, import_conflict=result.import_conflict
        )


@router.delete(
    "/plugins/{plugin_id}/channels/{channel_id}",
    response_model=schemas.AttachmentOut,
    responses=responses(404),
)
def detach(request: Request, plugin_id: int, channel_id: int) -> schemas.AttachmentOut:
    with hub_of(request).db.unit_of_work() as session:
        result = plugins.detach(session, plugin_id, channel_id)
        return schemas.AttachmentOut(
            channel_ids=result.channel_ids, import_conflict=result.import_conflict
        )


# -------------------------------------------------------------------------- toggles


@router.get(
    "/plugins/{plugin_id}/toggles",
    response_model=list[schemas.ToggleState],
    responses=responses(404),
)
def get_toggles(request: Request, plugin_id: int) -> list[schemas.ToggleState]:
    """The 12 toggles: on or off, supported or not (with the reason), and prerequisites."""
    hub = hub_of(request)
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        spec_of(hub, plugin)
        return toggle_states(hub, plugin)


@router.put(
    "/plugins/{plugin_id}/toggles/{toggle}",
    response_model=schemas.ToggleResultOut,
    responses=responses(404, 409),
)
def set_toggle(
    request: Request, plugin_id: int, toggle: Toggle, body: schemas.ToggleIn
) -> schemas.ToggleResultOut:
    """Switching on also switches on its prerequisites; off also switches off what needs
    it. The answer names both."""
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        spec = spec_of(hub, plugins.get_plugin(session, plugin_id))
        result = plugins.set_toggle(session, spec, plugin_id, toggle, body.on)
    return schemas.ToggleResultOut(
        toggle=result.toggle,
        on=result.on,
        also_enabled=result.also_enabled,
        also_disabled=result.also_disabled,
        message=result.message(),
    )


# -------------------------------------------------------------------------- actions


@router.post(
    "/plugins/{plugin_id}/test",
    response_model=schemas.ConnectionReportOut,
    responses=responses(404, 502),
)
def test_connection(request: Request, plugin_id: int) -> schemas.ConnectionReportOut:
    """Check the credentials now; a plugin waiting for reauthorization resumes when they work."""
    with connector_calls():
        report = actions.test_connection(hub_of(request), plugin_id)
    return schemas.ConnectionReportOut(
        ok=report.ok,
        account=report.account,
        detail=report.detail,
        missing_scopes=list(report.missing_scopes),
    )


@router.post(
    "/plugins/{plugin_id}/authorize",
    response_model=schemas.AuthorizeOut,
    responses=responses(404, 502),
)
def authorize(request: Request, plugin_id: int) -> schemas.AuthorizeOut:
    """Authorize or Reauthorize: the platform URL to send the merchant to. The platform
    returns to `/oauth/callback`, which completes the grant (state + signature checked)."""
    with connector_calls():
        url = actions.begin_authorization(hub_of(request), plugin_id)
    return schemas.AuthorizeOut(authorization_url=url)


@router.post(
    "/plugins/{plugin_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.SyncOut,
    responses=responses(404),
)
def sync_now(request: Request, plugin_id: int) -> schemas.SyncOut:
    """Sync now: a reconciliation poll of orders and a full stock push, queued at once."""
    return schemas.SyncOut(queued=actions.sync_now(hub_of(request), plugin_id))


@router.post(
    "/plugins/{plugin_id}/product-sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.ProductSyncOut,
    responses=responses(404),
)
def sync_products(request: Request, plugin_id: int) -> schemas.ProductSyncOut:
    """Sync products: map the platform's catalog by SKU then barcode (never touches stock)."""
    hub = hub_of(request)
    run = actions.sync_products(hub, plugin_id)
    with hub.db.read() as session:
        found = session.get(ProductSync, run.id)
        assert found is not None
        return schemas.ProductSyncOut.model_validate(found)


@router.post(
    "/plugins/{plugin_id}/customer-sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.SyncOut,
    responses=responses(404),
)
def sync_customers(request: Request, plugin_id: int) -> schemas.SyncOut:
    """Sync customers: read every customer of the platform now, matched by email (Import
    Customers on; it also polls for changes by itself)."""
    actions.sync_customers(hub_of(request), plugin_id)
    return schemas.SyncOut(queued=[WorkKind.IMPORT_CUSTOMERS])


@router.post(
    "/plugins/{plugin_id}/listing-sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.SyncOut,
    responses=responses(404),
)
def sync_listings(request: Request, plugin_id: int) -> schemas.SyncOut:
    """Sync listings: read how the platform shows every mapped product into the listings
    of the plugin's channels (Import Listings on)."""
    actions.sync_listings(hub_of(request), plugin_id)
    return schemas.SyncOut(queued=[WorkKind.SYNC_LISTINGS])


@router.post(
    "/plugins/{plugin_id}/product-export",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.ProductExportOut,
    responses=responses(404),
)
def export_products(request: Request, plugin_id: int) -> schemas.ProductExportOut:
    """Export all products: queue every active product for the platform (Export Products
    on; otherwise a product goes out when it is created or changed)."""
    return schemas.ProductExportOut(queued=actions.export_products(hub_of(request), plugin_id))


def _customer_export_out(run: CustomerExport) -> schemas.CustomerExportOut:
    return schemas.CustomerExportOut(
        id=run.id,
        dry_run=False,
        state=run.state,
        total=run.total,
        no_email=run.no_email,
        already_linked=run.already_linked,
        created=run.created,
        matched=run.matched,
        failed=run.failed,
        failures=run.failures,
        message=f"{run.done_count} of {run.total} done: {run.created} created, "
        f"{run.matched} matched, {run.already_linked} already linked, {run.failed} failed",
    )


@router.post(
    "/plugins/{plugin_id}/customer-exports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.CustomerExportOut,
    responses=responses(404),
)
def export_all_customers(
    request: Request, response: Response, plugin_id: int, body: schemas.CustomerExportIn
) -> schemas.CustomerExportOut:
    """Export all customers (Export Customers on): every customer matched by email in the
    store and linked, or created there, never twice. ``dry_run`` only counts. A run
    already going is answered instead of a second; poll it at the Location."""
    hub = hub_of(request)
    if body.dry_run:
        counted = actions.preview_customer_export(hub, plugin_id)
        response.status_code = status.HTTP_200_OK
        return schemas.CustomerExportOut(
            id=None,
            dry_run=True,
            state=None,
            total=counted.to_export,
            no_email=counted.no_email,
            already_linked=counted.already_linked,
            message=counted.sentence(),
        )
    run, _ = actions.export_all_customers(hub, plugin_id)
    response.headers["Location"] = f"/api/v1/plugins/{plugin_id}/customer-exports/{run.id}"
    return _customer_export_out(run)


@router.get(
    "/plugins/{plugin_id}/customer-exports/{run_id}",
    response_model=schemas.CustomerExportOut,
    responses=responses(404),
)
def customer_export(request: Request, plugin_id: int, run_id: int) -> schemas.CustomerExportOut:
    """A run of Export all customers: its state and counts so far."""
    return _customer_export_out(actions.customer_export_run(hub_of(request), plugin_id, run_id))


@router.get(
    "/plugins/{plugin_id}/product-sync",
    response_model=schemas.ProductSyncOut,
    responses=responses(404),
)
def latest_product_sync(request: Request, plugin_id: int) -> schemas.ProductSyncOut:
    """The latest Sync products run, with its unmatched list."""
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        run = session.scalar(
            select(ProductSync)
            .where(ProductSync.plugin_id == plugin_id)
            .order_by(ProductSync.id.desc())
            .limit(1)
        )
        if run is None:
            raise NotFound(f"plugin {plugin_id} has not synced products yet")
        return schemas.ProductSyncOut.model_validate(run)


# ------------------------------------------------------------------------ backfills


@router.post(
    "/plugins/{plugin_id}/backfill",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.BackfillOut,
    responses=responses(404, 409),
)
def start_backfill(
    request: Request, response: Response, plugin_id: int, body: schemas.BackfillIn
) -> schemas.BackfillOut:
    """Sync historical orders placed in [start, end): a job to poll at
    `/api/v1/backfills/{id}`."""
    hub = hub_of(request)
    run = actions.start_backfill(hub, plugin_id, body.start, body.end)
    response.headers["Location"] = f"/api/v1/backfills/{run.id}"
    with hub.db.read() as session:
        found = session.get(Backfill, run.id)
        assert found is not None
        return backfill_row_out(found)


@router.get(
    "/plugins/{plugin_id}/backfills",
    response_model=list[schemas.BackfillOut],
    responses=responses(404),
)
def list_backfills(request: Request, plugin_id: int) -> list[schemas.BackfillOut]:
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        rows = session.scalars(
            select(Backfill)
            .where(Backfill.plugin_id == plugin_id)
            .order_by(Backfill.id.desc())
            .limit(20)
        )
        return [backfill_row_out(run) for run in rows]


@router.get(
    "/backfills/{backfill_id}",
    response_model=schemas.BackfillOut,
    responses=responses(404),
    tags=["backfills"],
)
def get_backfill(request: Request, backfill_id: int) -> schemas.BackfillOut:
    with hub_of(request).db.read() as session:
        run = session.get(Backfill, backfill_id)
        if run is None:
            raise NotFound(f"no backfill with id {backfill_id}")
        return backfill_row_out(run)


@router.post(
    "/backfills/{backfill_id}/cancel",
    response_model=schemas.BackfillOut,
    responses=responses(404),
    tags=["backfills"],
)
def cancel_backfill(request: Request, backfill_id: int) -> schemas.BackfillOut:
    hub = hub_of(request)
    progress = actions.backfill_progress(hub, backfill_id)  # 404 when unknown
    actions.cancel_backfill(hub, progress.id)
    with hub.db.read() as session:
        run = session.get(Backfill, backfill_id)
        assert run is not None
        return backfill_out(run, run.plugin_id, run.created_at, run.finished_at, run.total_estimate)


# ---------------------------------------------------------------- stock and rules


@router.put(
    "/plugins/{plugin_id}/stock", response_model=schemas.PluginOut, responses=responses(404)
)
def set_stock(request: Request, plugin_id: int, body: schemas.StockSettingsIn) -> schemas.PluginOut:
    """Stock mode (off, absolute, delta), coalescing window and safety buffer."""
    hub = hub_of(request)
    actions.set_stock_mode(
        hub, plugin_id, mode=body.mode, window_seconds=body.window_seconds, buffer=body.buffer
    )
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.get("/plugins/{plugin_id}/rules", response_model=ImportRules, responses=responses(404))
def get_rules(request: Request, plugin_id: int) -> ImportRules:
    """Which platform orders the plugin imports, and how it matches lines."""
    with hub_of(request).db.read() as session:
        return plugins.import_rules(plugins.get_plugin(session, plugin_id))


@router.patch("/plugins/{plugin_id}/rules", response_model=ImportRules, responses=responses(404))
def update_rules(request: Request, plugin_id: int, body: dict[str, Any]) -> ImportRules:
    with hub_of(request).db.unit_of_work() as session:
        return plugins.update_import_rules(session, plugin_id, body)


# --------------------------------------------------------------------- monitoring


@router.get(
    "/plugins/{plugin_id}/stats",
    response_model=list[schemas.HourStatsOut],
    responses=responses(404),
)
def get_stats(
    request: Request, plugin_id: int, hours: int = Query(default=24, ge=1, le=24 * 30)
) -> list[schemas.HourStatsOut]:
    """Success rate and p50/p95 response time per hour (the plugin page's charts)."""
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        stats = executions.hourly_stats(
            session, plugin_id, since=utcnow() - dt.timedelta(hours=hours)
        )
        return [
            schemas.HourStatsOut(
                hour=hour.hour,
                calls=hour.calls,
                successes=hour.successes,
                success_rate=round(hour.success_rate, 4),
                p50_ms=hour.p50_ms,
                p95_ms=hour.p95_ms,
            )
            for hour in stats
        ]


@router.get(
    "/plugins/{plugin_id}/executions",
    response_model=Page[schemas.ExecutionOut],
    responses=responses(404),
)
def plugin_executions(
    request: Request,
    plugin_id: int,
    page: PageParams = Depends(page_params),
    outcome: str | None = Query(default=None, max_length=32),
) -> Page[schemas.ExecutionOut]:
    """The plugin's execution history, newest first."""
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        rows = executions.list_executions(
            session,
            plugin_id=plugin_id,
            outcome=outcome,
            before_id=page.after_id,
            limit=page.limit + 1,
        )
        return paginate(rows, page.limit, schemas.ExecutionOut.model_validate, lambda e: e.id)
