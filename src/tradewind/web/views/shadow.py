"""Shadow mode on the plugin page: the go-live report (an htmx fragment), Go live, and
Run in shadow for a plugin not yet live."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from tradewind.app import actions
from tradewind.app.calls import connector_calls
from tradewind.auth.service import SessionUser
from tradewind.sync.decisions import fix_for
from tradewind.web.app import fragment, redirect
from tradewind.web.session import hub_of, reader, writer

router = APIRouter(include_in_schema=False)


@router.get("/plugins/{plugin_id}/go-live-report")
def go_live_report(
    request: Request, plugin_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    report = actions.go_live_report(hub_of(request), plugin_id)
    return fragment(request, "fragments/go_live_report.html", r=report, fix_for=fix_for)


@router.post("/plugins/{plugin_id}/go-live")
def go_live(request: Request, plugin_id: int, _user: SessionUser = Depends(writer)) -> Response:
    with connector_calls():
        plugin = actions.go_live(hub_of(request), plugin_id)
    at = f"{plugin.enabled_at:%Y-%m-%d %H:%M:%S}" if plugin.enabled_at else "now"
    return redirect(
        request, f"/plugins/{plugin_id}", f"Plugin is live: orders placed from {at} UTC import."
    )


@router.post("/plugins/{plugin_id}/shadow")
def enter_shadow(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    actions.enter_shadow(hub_of(request), plugin_id)
    return redirect(request, f"/plugins/{plugin_id}", "Plugin is in shadow: nothing is written.")
