"""Shadow mode: a plugin not yet live runs in shadow (reads, writes nothing), its
go-live report, and going live."""

from __future__ import annotations

from fastapi import Request

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app import actions
from tradewind.app.calls import connector_calls
from tradewind.app.present import plugin_out
from tradewind.app.schemas import GoLiveReportOut, PluginOut
from tradewind.core.plugins import service as plugins

router = resource_router("plugins")


@router.get(
    "/plugins/{plugin_id}/go-live-report",
    response_model=GoLiveReportOut,
    responses=responses(404),
)
def go_live_report(request: Request, plugin_id: int) -> GoLiveReportOut:
    """What the plugin would have done in shadow: orders that would import and those
    skipped (with the import decisions' reason codes), lines no product matches by SKU
    or barcode, buyers missing fields, and the stock it would push per SKU and location
    against what the platform holds now."""
    return GoLiveReportOut.model_validate(actions.go_live_report(hub_of(request), plugin_id))


@router.post(
    "/plugins/{plugin_id}/go-live", response_model=PluginOut, responses=responses(404, 409, 502)
)
def go_live(request: Request, plugin_id: int) -> PluginOut:
    """Leave shadow: the enable time is now (orders placed before it import only through
    backfill), and the plugin starts as Activate starts it — its stock is sent."""
    hub = hub_of(request)
    with connector_calls():
        actions.go_live(hub, plugin_id)
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))


@router.post("/plugins/{plugin_id}/shadow", response_model=PluginOut, responses=responses(404, 409))
def enter_shadow(request: Request, plugin_id: int) -> PluginOut:
    """Run a plugin that was never live in shadow (409 once it is live)."""
    hub = hub_of(request)
    actions.enter_shadow(hub, plugin_id)
    with hub.db.read() as session:
        return plugin_out(hub, session, plugins.get_plugin(session, plugin_id))
