"""Authorize from the plugin page sends the browser to the platform, which returns to the
hub's ``/oauth/callback`` (the same URL the API hands out)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tests.web.conftest import Browser
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox


def test_authorize_redirects_to_the_platform_and_back_to_the_callback(
    admin: Browser, hub: Hub
) -> None:
    hub.registry = ConnectorRegistry.of(ShopifyConnector)
    with ShopifySandbox() as sandbox:
        sandbox.create_shop("ui-oauth", token="shpat_unused")
        with hub.db.unit_of_work() as session:
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                ShopifyConnector.info,
                name="ui-oauth",
                config={
                    "store_url": "https://ui-oauth.myshopify.com",
                    "client_id": "key-1",
                    "client_secret": "secret-1",
                    "sandbox_url": sandbox.base_url,
                },
            )
        plain = admin.post(f"/plugins/{plugin.id}/authorize")
        assert plain.status_code == 303
        query = dict(parse_qsl(urlsplit(plain.headers["location"]).query))
        assert query["client_id"] == "key-1"
        assert query["redirect_uri"] == f"{hub.settings.base_url}/oauth/callback"
        htmx = admin.htmx(f"/plugins/{plugin.id}/authorize")
        assert htmx.status_code == 204
        assert (
            urlsplit(htmx.headers["HX-Redirect"]).path == urlsplit(plain.headers["location"]).path
        )
