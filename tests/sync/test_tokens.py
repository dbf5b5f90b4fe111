"""Tokens with a known expiry, forecast: an authorized plugin holding a refresh token is
said to renew by itself; one without is told — on its page, and by an *Authorization
ending* notification a week ahead — to reauthorize before its token ends; the notice
resolves once the plugin can renew again."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.connectors.template.test_oauth_flow import CLIENT_ID, CLIENT_SECRET, Acme
from tests.web.conftest import PASSWORD, Browser
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync import tokens
from tradewind.sync.runtime import PluginCredentials

DAY = 86_400


@pytest.fixture
def plugin(settings: Settings) -> Iterator[tuple[Hub, int]]:
    with Hub(settings, registry=ConnectorRegistry.of(Acme)) as hub:
        with hub.db.unit_of_work() as session:
            made = plugins.add_plugin(
                session,
                hub.vault,
                Acme.info,
                name="acme",
                config={
                    "api_url": "https://api.acme.example",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                },
            )
            plugins.activate(session, made.id)
            auth.create_user(session, "clerk", PASSWORD, Role.ADMIN)
        yield hub, made.id


def _notices(hub: Hub) -> list[Notification]:
    with hub.db.read() as session:
        return list(
            session.scalars(
                select(Notification).where(
                    Notification.kind == NotificationKind.AUTHORIZATION_EXPIRING
                )
            )
        )


def _sweep_check(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        return tokens.notify_expiring(hub, session, utcnow())


def test_a_token_that_renews_is_said_to_and_not_notified(plugin: tuple[Hub, int]) -> None:
    hub, plugin_id = plugin
    held = {"access_token": "at", "refresh_token": "rt", "expires_at": str(time.time() + 3600)}
    PluginCredentials(hub, plugin_id).update(held)
    with hub.db.read() as session:
        found = tokens.forecast(hub, plugins.get_plugin(session, plugin_id))
    assert found is not None and found.renews
    assert _sweep_check(hub) == 0 and _notices(hub) == []


def test_an_authorization_ending_without_renewal_is_told_ahead_and_on_its_page(
    plugin: tuple[Hub, int],
) -> None:
    hub, plugin_id = plugin
    credentials = PluginCredentials(hub, plugin_id)
    credentials.update({"access_token": "at", "expires_at": str(time.time() + 30 * DAY)})
    assert _sweep_check(hub) == 0  # a month away: not yet
    credentials.update({"expires_at": str(time.time() + 3 * DAY + 3600)})
    assert _sweep_check(hub) == 1
    (notice,) = _notices(hub)
    assert "in 3 day(s)" in notice.message and "reauthorize" in notice.message
    with TestClient(create_app(hub)) as client:
        browser = Browser(client)
        assert browser.login("clerk").status_code == 303
        page = browser.get(f"/plugins/{plugin_id}").text
    assert 'id="token-forecast"' in page and "cannot be renewed" in page

    credentials.update({"refresh_token": "rt-2"})  # reauthorized: it renews again
    assert _sweep_check(hub) == 0
    (notice,) = _notices(hub)
    assert notice.resolved_at is not None


def test_a_plugin_without_an_expiring_token_has_no_forecast(plugin: tuple[Hub, int]) -> None:
    hub, plugin_id = plugin
    with hub.db.read() as session:
        assert tokens.forecast(hub, plugins.get_plugin(session, plugin_id)) is None
