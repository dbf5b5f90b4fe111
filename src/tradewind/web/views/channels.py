"""Channels: the list, creating and deleting one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from tradewind.auth.service import SessionUser
from tradewind.core.channels import service as channels
from tradewind.core.plugins import service as plugins
from tradewind.vocabulary import ServiceCapability
from tradewind.web.app import page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)
from tradewind.web.views import shipping as shipping_views

router = APIRouter(include_in_schema=False)


@router.get("/channels")
def channel_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = [
            (channel, plugins.plugins_of_channel(session, channel.id))
            for channel in channels.list_channels(session)
        ]
        services = {
            channel.id: shipping_views.channel_services(session, channel.id) for channel, _ in rows
        }
    return page(
        request, "channels.html", rows=rows, services=services, capabilities=list(ServiceCapability)
    )


@router.post("/channels")
def channel_create(
    request: Request,
    name: str = Form(..., max_length=128),
    description: str = Form("", max_length=2000),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        channel = channels.create_channel(session, name, description)
    return redirect(request, "/channels", f"Channel {channel.name!r} created.")


@router.post("/channels/{channel_id}/delete")
def channel_delete(
    request: Request, channel_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        channels.delete_channel(session, channel_id)
    return redirect(request, "/channels", "Channel deleted.")


# ------------------------------------------------------------------------------ plugins
