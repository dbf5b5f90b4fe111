"""Authorize / Reauthorize through the API against the Shopify sandbox: the API hands out
the platform's URL, the merchant approves there, and the public callback completes the
grant — once: a replayed callback is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from tests.api.conftest import make_token
from tradewind.auth.models import TokenScope
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.server import create_app

SHOP, KEY, SECRET = "oauth-shop", "tw-oauth-app", "tw-oauth-secret"


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox() as running:
        running.create_shop(SHOP, token="shpat_unused")
        running.create_app(KEY, SECRET, title="Tradewind", auto_approve=True)
        yield running


def test_authorize_then_callback_completes_the_grant(sandbox: ShopifySandbox, hub: Hub) -> None:
    hub.registry = ConnectorRegistry.of(ShopifyConnector)
    with TestClient(create_app(hub)) as client:
        _authorize_flow(client, sandbox, hub)


def _authorize_flow(client: TestClient, sandbox: ShopifySandbox, hub: Hub) -> None:
    headers = {"Authorization": f"Bearer {make_token(hub, TokenScope.READ_WRITE)}"}
    created = client.post(
        "/api/v1/plugins",
        headers=headers,
        json={
            "connector": "shopify",
            "name": "oauth store",
            "settings": {
                "store_url": f"https://{SHOP}.myshopify.com",
                "client_id": KEY,
                "client_secret": SECRET,
                "sandbox_url": sandbox.base_url,
            },
        },
    )
    assert created.status_code == 201, created.text
    plugin = created.json()
    assert plugin["settings"]["access_token"] == "not set"
    url = client.post(f"/api/v1/plugins/{plugin['id']}/authorize", headers=headers).json()[
        "authorization_url"
    ]
    target = urlsplit(url)
    assert dict(parse_qsl(target.query))["client_id"] == KEY
    # The merchant's browser at the platform (auto-approved), sent back to Tradewind.
    approved = httpx2.get(
        f"{sandbox.base_url}{target.path}?{target.query}",
        headers={"Host": f"{SHOP}.myshopify.com"},
    )
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["location"])
    assert back.path == "/oauth/callback"
    done = client.get(f"/oauth/callback?{back.query}", follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/plugins/{plugin['id']}?authorized=1"
    stored = client.get(f"/api/v1/plugins/{plugin['id']}", headers=headers).json()
    assert stored["credentials"]["oauth_access_token"].startswith("set (…")
    assert "shpat" not in str(stored["credentials"])
    assert stored["state"] == "active"
    replayed = client.get(f"/oauth/callback?{back.query}", follow_redirects=False)
    assert replayed.status_code == 403 and "was used" in replayed.text
    forged = dict(parse_qsl(back.query))
    forged["hmac"] = "0" * 64
    again = client.post(f"/api/v1/plugins/{plugin['id']}/authorize", headers=headers).json()
    fresh = dict(parse_qsl(urlsplit(again["authorization_url"]).query))
    forged["state"] = fresh["state"]
    tampered = client.get("/oauth/callback", params=forged, follow_redirects=False)
    assert tampered.status_code == 403 and "Authorization failed" in tampered.text
