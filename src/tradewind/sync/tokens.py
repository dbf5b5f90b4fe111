"""Tokens with a known expiry, forecast: a plugin holding an access token that ends at
a known time either renews it by itself (a refresh token, a client-credentials grant, a
login) or will need its authorization again — said on the plugin page, and notified
``NOTICE`` ahead so that orders never stop because a token ran out unnoticed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import Capability
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind

NOTICE = dt.timedelta(days=7)
SUBJECT = "authorization"


@dataclass(frozen=True, slots=True)
class Forecast:
    expires_at: dt.datetime
    renews: bool  # the plugin gets a new token by itself

    def sentence(self, now: dt.datetime) -> str:
        left = self.expires_at - now
        when = f"{self.expires_at:%Y-%m-%d %H:%M} UTC"
        if self.renews:
            return f"Its access token ends {when}; Tradewind renews it by itself."
        if left <= dt.timedelta(0):
            return f"Its authorization ended {when}: reauthorize the plugin."
        days = left.days
        span = f"in {days} day(s)" if days else f"in {int(left.total_seconds() // 3600)} hour(s)"
        return f"Its authorization ends {when} ({span}) and cannot be renewed: reauthorize before."


def forecast(hub: Hub, plugin: Plugin) -> Forecast | None:
    """The plugin's token forecast, when its token has a known end."""
    try:
        held = plugins.read_credentials(hub.vault, plugin)
        capabilities = hub.info_for(plugin).capabilities
    except (plugins.CredentialsUnreadable, UnknownConnector):
        return None
    ends = held.get("expires_at")
    if not ends:
        return None
    try:
        expires_at = dt.datetime.fromtimestamp(float(ends), dt.UTC)
    except (ValueError, OverflowError):
        return None
    # An authorized plugin renews only with its refresh token; one that fetches its token
    # itself (client credentials, a login) always can.
    renews = bool(held.get("refresh_token")) or Capability.OAUTH not in capabilities
    return Forecast(expires_at, renews)


def notify_expiring(hub: Hub, session: Session, now: dt.datetime) -> int:
    """Notify each active plugin whose authorization ends within ``NOTICE`` and cannot be
    renewed (and resolve the notice of one that can again); returns how many were told."""
    told = 0
    for plugin in session.scalars(
        select(Plugin).where(Plugin.state.in_([PluginState.ACTIVE, PluginState.FAILING]))
    ):
        found = forecast(hub, plugin)
        if found is not None and not found.renews and found.expires_at - now <= NOTICE:
            notifications.raise_notification(
                session,
                NotificationKind.AUTHORIZATION_EXPIRING,
                plugin_id=plugin.id,
                subject=SUBJECT,
                message=f"{plugin.name}: {found.sentence(now)}",
            )
            told += 1
        else:
            notifications.resolve(
                session,
                NotificationKind.AUTHORIZATION_EXPIRING,
                plugin_id=plugin.id,
                subject=SUBJECT,
            )
    return told
