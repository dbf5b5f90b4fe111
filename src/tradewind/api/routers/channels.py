"""Channels: logical sales destinations."""

from __future__ import annotations

from fastapi import Depends, Request, Response, status
from sqlalchemy.orm import Session

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.core.channels import service as channels
from tradewind.core.channels.models import Channel
from tradewind.core.plugins import service as plugins

router = resource_router("channels")


def channel_out(session: Session, channel: Channel) -> schemas.ChannelOut:
    plugin_ids = [plugin.id for plugin in plugins.plugins_of_channel(session, channel.id)]
    return schemas.ChannelOut(
        id=channel.id,
        name=channel.name,
        description=channel.description,
        plugin_ids=plugin_ids,
        created_at=channel.created_at,
    )


@router.get("/channels", response_model=Page[schemas.ChannelOut])
def list_channels(
    request: Request, page: PageParams = Depends(page_params)
) -> Page[schemas.ChannelOut]:
    with hub_of(request).db.read() as session:
        rows = [c for c in channels.list_channels(session) if c.id > page.after_id]
        return paginate(
            rows[: page.limit + 1], page.limit, lambda c: channel_out(session, c), lambda c: c.id
        )


@router.post(
    "/channels",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ChannelOut,
    responses=responses(409),
)
def create_channel(request: Request, body: schemas.ChannelIn) -> schemas.ChannelOut:
    with hub_of(request).db.unit_of_work() as session:
        channel = channels.create_channel(session, body.name, body.description)
        return channel_out(session, channel)


@router.get("/channels/{channel_id}", response_model=schemas.ChannelOut, responses=responses(404))
def get_channel(request: Request, channel_id: int) -> schemas.ChannelOut:
    with hub_of(request).db.read() as session:
        return channel_out(session, channels.get_channel(session, channel_id))


@router.delete(
    "/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_channel(request: Request, channel_id: int) -> Response:
    """Refused while the channel has orders; its plugins are detached."""
    with hub_of(request).db.unit_of_work() as session:
        channels.delete_channel(session, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
