"""The dashboard and its live plugin-health fragment."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tradewind.app import present, schemas
from tradewind.auth.service import SessionUser
from tradewind.core.channels import service as channels
from tradewind.core.plugins import service as plugins
from tradewind.monitoring import notifications
from tradewind.web.app import fragment, page
from tradewind.web.session import (
    hub_of,
    reader,
)

router = APIRouter(include_in_schema=False)


def _health_rows(request: Request) -> list[schemas.PluginHealth]:
    with hub_of(request).db.read() as session:
        return [present.plugin_health(session, p) for p in plugins.list_plugins(session)]


@router.get("/")
def dashboard(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    hub = hub_of(request)
    with hub.db.read() as session:
        recent = present.latest_orders(session)
        open_count = len(notifications.open_notifications(session))
        channel_names = {c.id: c.name for c in channels.list_channels(session)}
        counts = present.dashboard_counts(session)
    return page(
        request,
        "dashboard.html",
        health=_health_rows(request),
        recent=recent,
        open_count=open_count,
        channel_names=channel_names,
        counts=counts,
    )


@router.get("/fragments/health")
def health_fragment(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    return fragment(request, "fragments/health.html", health=_health_rows(request))
