"""A plugin's settings read and written back: secrets are write-only, so their masks mean
"keep", ``null`` (or an empty string) means "clear" — through the API, the UI form and the
CLI alike (one rule, ``plugins.apply_setting_changes``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.api.conftest import Api, make_token
from tradewind.auth.models import TokenScope
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.integrations.vendure import VendureConnector
from tradewind.server import create_app
from tradewind.settings import Settings

ACCESS_TOKEN = "shpat_0123456789abcdefJ3NV"
CLIENT_SECRET = "shpss_fedcba9876543210UTRM"
VENDURE_KEY = "vendure-admin-key-7Q2X"
VENDURE_SIGNING = "whsec_" + base64.b64encode(b"vendure-signing-key-32-bytes-long").decode()


def public(host: str, port: int) -> Sequence[str]:
    """Every name is a public address here; nothing in these tests connects anywhere."""
    return ["93.184.216.34"]


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_keys=(Fernet.generate_key().decode(),),
    )
    registry = ConnectorRegistry.of(ShopifyConnector, VendureConnector)
    with Hub(settings, registry=registry, resolver=public) as built:
        yield built


@pytest.fixture
def api(hub: Hub) -> Iterator[Api]:
    with TestClient(create_app(hub)) as client:
        yield Api(client, make_token(hub, TokenScope.READ_WRITE))


def stored(hub: Hub, plugin_id: int) -> dict[str, str]:
    with hub.db.read() as session:
        return plugins.read_credentials(hub.vault, plugins.get_plugin(session, plugin_id))


def shopify(api: Api) -> dict[str, Any]:
    created = api.post(
        "/plugins",
        json={
            "connector": "shopify",
            "name": "acme",
            "settings": {
                "store_url": "https://acme.myshopify.com",
                "access_token": ACCESS_TOKEN,
                "client_id": "app-client-id",
                "client_secret": CLIENT_SECRET,
            },
        },
    )
    assert created.status_code == 201, created.text
    plugin: dict[str, Any] = created.json()
    return plugin


def signed_order(plugin_id: int, secret: str) -> tuple[str, bytes, dict[str, str]]:
    body = json.dumps({"id": 4242, "name": "#1001"}).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "delivery-1",
        "Content-Type": "application/json",
    }
    return f"/hooks/{plugin_id}/orders/create", body, headers


def test_a_shopify_plugin_read_and_written_back_keeps_its_secrets(api: Api, hub: Hub) -> None:
    plugin = shopify(api)
    before = stored(hub, plugin["id"])
    shown = api.get(f"/plugins/{plugin['id']}").json()["settings"]
    assert shown["access_token"] == "set (…J3NV)" and shown["webhook_secret"] == "not set"

    again = api.patch(f"/plugins/{plugin['id']}", json={"settings": shown})
    assert again.status_code == 200, again.text
    assert again.json()["settings"] == shown
    assert stored(hub, plugin["id"]) == before  # not "set (…J3NV)", not "not set"

    # Genuine webhooks (signed with the client secret) are still accepted.
    with hub.db.unit_of_work() as session:
        plugins.activate(session, plugin["id"])
    path, body, headers = signed_order(plugin["id"], CLIENT_SECRET)
    delivered = api.client.post(path, content=body, headers=headers)
    assert delivered.status_code == 200, delivered.text


def test_a_vendure_plugin_read_and_written_back_is_accepted_unchanged(api: Api, hub: Hub) -> None:
    created = api.post(
        "/plugins",
        json={
            "connector": "vendure",
            "name": "vendure",
            "settings": {
                "base_url": "https://vendure.example",
                "api_key": VENDURE_KEY,
                "webhook_secret": VENDURE_SIGNING,
            },
        },
    )
    assert created.status_code == 201, created.text
    plugin = created.json()
    before = stored(hub, plugin["id"])
    again = api.patch(f"/plugins/{plugin['id']}", json={"settings": plugin["settings"]})
    assert again.status_code == 200, again.text
    assert stored(hub, plugin["id"]) == before


def test_null_or_empty_clears_a_secret_and_a_required_one_cannot_be_cleared(
    api: Api, hub: Hub
) -> None:
    plugin = shopify(api)
    path = f"/plugins/{plugin['id']}"
    set_hook = api.patch(path, json={"settings": {"webhook_secret": "hook-signing-key-91"}})
    assert set_hook.json()["settings"]["webhook_secret"] == "set (…y-91)"

    cleared = api.patch(path, json={"settings": {"webhook_secret": None}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["settings"]["webhook_secret"] == "not set"
    assert "webhook_secret" not in stored(hub, plugin["id"])

    emptied = api.patch(path, json={"settings": {"access_token": ""}})
    assert emptied.json()["settings"]["access_token"] == "not set"
    assert "access_token" not in stored(hub, plugin["id"])
    assert stored(hub, plugin["id"])["client_secret"] == CLIENT_SECRET

    # Without a token and a client secret there is no way to connect: refused, kept.
    refused = api.patch(path, json={"settings": {"client_secret": None}})
    assert refused.status_code == 422
    assert stored(hub, plugin["id"])["client_secret"] == CLIENT_SECRET


def test_the_settings_form_keeps_a_blank_secret_and_clears_a_ticked_one(api: Api, hub: Hub) -> None:
    from tradewind.web.forms import form_fields as _fields  # the form's own parser
    from tradewind.web.forms import settings_from_form as _settings_from_form

    plugin = shopify(api)
    fields = _fields(ShopifyConnector.info.settings)
    form: Any = {
        "setting_store_url": "https://acme.myshopify.com",
        "setting_access_token": "",  # blank: keep
        "setting_client_id": "app-client-id",
        "setting_client_secret": "",
        "clear_client_secret": "on",  # ticked: clear
    }
    changes = _settings_from_form(form, fields, for_update=True)
    assert "access_token" not in changes and changes["client_secret"] is None
    with hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session, hub.vault, ShopifyConnector.info, plugin["id"], changes
        )
    kept = stored(hub, plugin["id"])
    assert kept["access_token"] == ACCESS_TOKEN and "client_secret" not in kept


def test_the_cli_clears_a_secret_given_empty(api: Api, hub: Hub) -> None:
    plugin = shopify(api)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["plugins", "configure", "acme", "--set", "access_token="],
        obj=CliState(hub_factory=lambda: hub),
    )
    assert result.exit_code == 0, result.output
    assert "access_token" not in stored(hub, plugin["id"])
    assert stored(hub, plugin["id"])["client_secret"] == CLIENT_SECRET
