"""Channels (seed 000): the logical sales destinations orders belong to. Which plugins
work for a channel is the plugins' business (``core/plugins``: attachments)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.core.channels.models import Channel
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import PluginChannel
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ChannelDeleted, record


def create_channel(session: Session, name: str, description: str = "") -> Channel:
    name = name.strip()
    if not name:
        raise Invalid("a channel needs a name", fields={"name": "required"})
    if session.scalar(select(Channel).where(func.lower(Channel.name) == name.lower())):
        raise Conflict(f"channel {name!r} already exists", fields={"name": "already exists"})
    channel = Channel(name=name, description=description.strip())
    session.add(channel)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a name equal to another's except for non-ASCII case (SQLite)
        raise Conflict(
            f"channel {name!r} already exists", fields={"name": "already exists"}
        ) from None
    return channel


def get_channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel with id {channel_id}")
    return channel


def channel_by_ref(session: Session, ref: str) -> Channel:
    """A channel by name (any case) or by id."""
    channel = session.scalar(select(Channel).where(func.lower(Channel.name) == ref.strip().lower()))
    if channel is None and ref.strip().isdigit():
        channel = session.get(Channel, int(ref))
    if channel is None:
        raise NotFound(f"no channel named {ref!r}")
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.id)))


def delete_channel(session: Session, channel_id: int) -> None:
    """Delete a channel that holds no orders. Its attachments go with it; the plugins
    that lose one are told (``ChannelDeleted``: their import conflicts are re-checked in
    the same transaction)."""
    channel = get_channel(session, channel_id)
    orders = session.scalar(select(func.count()).where(Order.channel_id == channel.id)) or 0
    if orders:
        raise Conflict(f"channel {channel.name!r} has {orders} order(s) and cannot be deleted")
    plugin_ids = tuple(
        session.scalars(
            select(PluginChannel.plugin_id).where(PluginChannel.channel_id == channel.id)
        )
    )
    session.delete(channel)
    session.flush()
    record(session, ChannelDeleted(channel_id=channel_id, plugin_ids=plugin_ids))
