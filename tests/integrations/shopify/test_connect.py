"""Connecting (issue 5, point 1): a strict store URL, test connection with the scopes the
toggles need, OAuth with state and HMAC checks, expiring tokens refreshed once under the
credential lock, sandbox hosts only when allowed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from tests.sync.conftest import Harness
from tradewind.app import actions
from tradewind.connectors import Capability, Rejected
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.testing import CallList, suite_context
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.errors import Invalid
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector, scopes
from tradewind.integrations.shopify.client import OAUTH_EXPIRES, OAUTH_REFRESH, OAUTH_TOKEN
from tradewind.integrations.shopify.settings import ShopifySettings
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.settings import Settings
from tradewind.sync.runtime import PluginCredentials
from tradewind.vocabulary import Toggle


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("acme.myshopify.com", "enter https://acme.myshopify.com"),
        ("http://acme.myshopify.com", "enter https://acme.myshopify.com"),
        ("https://admin.shopify.com/store/acme", "enter https://acme.myshopify.com"),
        ("acme", "enter https://acme.myshopify.com"),
        ("https://acme.example.com", "enter https://acme.example.com.myshopify.com"),
        ("ftp://???", "enter it as https://your-store.myshopify.com"),
    ],
)
def test_a_wrong_store_url_is_refused_with_the_right_form(typed: str, hint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ShopifySettings(store_url=typed, access_token="shpat_x")
    assert hint in str(caught.value) or "your-store" in str(caught.value)


def test_the_right_store_url_and_a_way_to_connect_are_required() -> None:
    settings = ShopifySettings(
        store_url="https://Acme.myshopify.com/",
        access_token="shpat_x",
    )
    assert settings.shop == "acme.myshopify.com"
    with pytest.raises(ValidationError, match="access token, or an app's client id"):
        ShopifySettings(store_url="https://acme.myshopify.com")


def _needed(toggles: frozenset[Toggle], uses: frozenset[Capability] = frozenset()) -> set[str]:
    return set(scopes.needed(toggles, uses, ShopifyConnector.info.topics_for(toggles)))


def test_missing_scopes_follow_toggles_rules_and_webhook_topics() -> None:
    """Stock and mapping need the base scopes; the webhooks always kept (orders, refunds,
    fulfilments, inventory) need theirs; each toggle and each rule adds its own."""
    granted = {"read_products", "write_inventory", "read_locations"}
    hooks = ["read_fulfillments", "read_orders"]
    assert scopes.missing(granted, _needed(frozenset())) == hooks
    granted |= set(hooks)
    # Import Orders listens for holds being released (fulfillment_orders/hold_released).
    held = "read_merchant_managed_fulfillment_orders"
    assert scopes.missing(granted, _needed(frozenset({Toggle.IMPORT_ORDERS}))) == [held]
    granted.add(held)
    customers = frozenset({Toggle.IMPORT_CUSTOMERS})  # its toggle and its webhook topics
    assert scopes.missing(granted, _needed(customers)) == ["read_customers"]
    for rule in (Capability.CLOSE_ORDERS, Capability.CANCEL_ORDERS):
        assert scopes.missing(granted, _needed(frozenset(), frozenset({rule}))) == ["write_orders"]
    assert (
        scopes.missing(
            granted | {"write_orders"}, _needed(frozenset(), frozenset({Capability.CLOSE_ORDERS}))
        )
        == []
    )  # write implies read
    asked = scopes.requested(
        ShopifyConnector.info.toggles,
        ShopifyConnector.info.capabilities,
        ShopifyConnector.info.topics_for(ShopifyConnector.info.toggles),
    )
    assert "read_fulfillments" in asked and "read_orders" not in asked  # write_orders has it


def _hub(tmp_path: Path, sqlite_url: str, *, allow: bool = True) -> Hub:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_keys=(Fernet.generate_key().decode(),),
        allow_sandbox_hosts=allow,
    )
    return Hub(settings, registry=ConnectorRegistry.of(ShopifyConnector))


def test_test_connection_reads_the_shop_and_names_scopes_the_token_lacks(
    tmp_path: Path, sqlite_url: str
) -> None:
    with ShopifySandbox() as sandbox, _hub(tmp_path, sqlite_url) as hub:
        sandbox.create_shop("narrow", token="shpat_all")
        narrow = sandbox.issue_token(
            "narrow",
            scopes=["read_products", "write_inventory", "read_locations", "read_fulfillments"],
        )
        with hub.db.unit_of_work() as session:
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                ShopifyConnector.info,
                name="narrow",
                config={
                    "store_url": "https://narrow.myshopify.com",
                    "access_token": narrow,
                    "sandbox_url": sandbox.base_url,
                },
            )
            plugins.set_toggle(
                session, ShopifyConnector.info, plugin.id, Toggle.IMPORT_ORDERS, True
            )
        report = actions.test_connection(hub, plugin.id)
        assert not report.ok
        assert report.missing_scopes == ("read_merchant_managed_fulfillment_orders", "read_orders")
        assert "narrow" in report.account
        with hub.db.unit_of_work() as session:
            plugins.update_plugin_settings(
                session, hub.vault, ShopifyConnector.info, plugin.id, {"access_token": "shpat_all"}
            )
        assert actions.test_connection(hub, plugin.id).ok


def test_sandbox_hosts_need_the_explicit_setting(tmp_path: Path, sqlite_url: str) -> None:
    settings = ShopifySettings(
        store_url="https://xy.myshopify.com",
        access_token="t",
        sandbox_url="http://127.0.0.1:9",
    )
    context = suite_context(httpx2.HTTPTransport())
    refused = type(context)(**{**context.__dict__, "allow_sandbox_hosts": False})
    with pytest.raises(Rejected, match="does not allow sandbox hosts"):
        ShopifyConnector(settings, refused)


def test_oauth_connects_refreshes_once_and_refuses_forged_callbacks(
    tmp_path: Path, sqlite_url: str
) -> None:
    with ShopifySandbox(auto_approve=True) as sandbox, _hub(tmp_path, sqlite_url) as hub:
        sandbox.create_shop("oauthy", token="shpat_unused", app_key="key-1", app_secret="secret-1")
        with hub.db.unit_of_work() as session:
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                ShopifyConnector.info,
                name="oauthy",
                config={
                    "store_url": "https://oauthy.myshopify.com",
                    "client_id": "key-1",
                    "client_secret": "secret-1",
                    "sandbox_url": sandbox.base_url,
                },
            )
        url = actions.begin_authorization(hub, plugin.id)
        assert "state=" in url and "client_id=key-1" in url
        landing = httpx2.get(url, follow_redirects=False).headers["location"]
        params = {k: v[0] for k, v in parse_qs(urlsplit(landing).query).items()}
        forged = {**params, "hmac": "0" * 64}
        with pytest.raises(Invalid, match="signature"):
            actions.finish_authorization(hub, forged)  # and the state is now spent
        url = actions.begin_authorization(hub, plugin.id)
        landing = httpx2.get(url, follow_redirects=False).headers["location"]
        params = {k: v[0] for k, v in parse_qs(urlsplit(landing).query).items()}
        resumed = actions.finish_authorization(hub, params)
        assert resumed.state is PluginState.ACTIVE
        with pytest.raises(Invalid, match="not one Tradewind issued, or was used"):
            actions.finish_authorization(hub, params)
        assert actions.test_connection(hub, plugin.id).ok
        store = PluginCredentials(hub, plugin.id)
        first = dict(store.get())
        assert first[OAUTH_REFRESH] and first[OAUTH_EXPIRES]
        store.update({OAUTH_EXPIRES: str(time.time() - 1)})  # the token has lapsed
        with hub.db.read() as session:
            loaded = plugins.get_plugin(session, plugin.id)
        settings = plugins.plugin_settings(hub.vault, ShopifyConnector.info, loaded)
        calls = CallList()
        workers = []
        for _ in range(4):  # four workers find the token expired at once
            context = suite_context(httpx2.HTTPTransport(), recorder=calls)
            context = type(context)(**{**context.__dict__, "credentials": store})
            workers.append(ShopifyConnector(settings, context))  # type: ignore[arg-type]
        threads = [threading.Thread(target=w.client.token) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refreshes = [call for call in calls.calls if call.operation == "oauth.token"]
        assert len(refreshes) == 1
        after = dict(store.get())
        assert after[OAUTH_TOKEN] != first[OAUTH_TOKEN]
        assert after[OAUTH_REFRESH] != first[OAUTH_REFRESH]  # the rotated one was saved
        assert actions.test_connection(hub, plugin.id).ok


def _oauth_plugin(hub: Hub, sandbox: ShopifySandbox, shop: str, **extra: str) -> int:
    with hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session,
            hub.vault,
            ShopifyConnector.info,
            name=shop,
            config={
                "store_url": f"https://{shop}.myshopify.com",
                "client_id": "key-1",
                "client_secret": "secret-1",
                "sandbox_url": sandbox.base_url,
                **extra,
            },
        )
        return plugin.id


def _authorize(hub: Hub, plugin_id: int) -> None:
    """The merchant clicks Authorize (or Reauthorize), approves, and is sent back."""
    url = actions.begin_authorization(hub, plugin_id)
    landing = httpx2.get(url, follow_redirects=False).headers["location"]
    actions.finish_authorization(
        hub, {k: v[0] for k, v in parse_qs(urlsplit(landing).query).items()}
    )


def test_a_store_connected_by_oauth_first_ends_as_activating_does(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Seed 002: "+ Add Store, authorise when redirected". Connecting is activating: the
    plugin is active since now, its locations are read (so they can be mapped) and its
    webhooks registered. A plugin a person deactivated stays inactive when reauthorized."""
    with ShopifySandbox(auto_approve=True) as sandbox, _hub(tmp_path, sqlite_url) as hub:
        sandbox.create_shop("firsty", token="shpat_unused", app_key="key-1", app_secret="secret-1")
        plugin_id = _oauth_plugin(hub, sandbox, "firsty")
        _authorize(hub, plugin_id)
        with hub.db.read() as session:
            plugin = plugins.get_plugin(session, plugin_id)
            assert plugin.state is PluginState.ACTIVE and plugin.enabled_at is not None
        Harness(hub).run(plugin_id)
        with hub.db.read() as session:
            mappings = links.location_mappings(session, plugin_id)
        assert [m.name for m in mappings] == ["Shop location"]  # ready to be mapped
        topics = {hook["topic"] for hook in sandbox.state("firsty")["webhooks"]}
        assert topics >= {"orders/create", "app/uninstalled"}, "\n".join(
            str((r.body, r.status)) for r in sandbox.requests("firsty", "webhooks")
        )
        with hub.db.unit_of_work() as session:
            plugins.deactivate(session, plugin_id)
        _authorize(hub, plugin_id)
        with hub.db.read() as session:
            assert plugins.get_plugin(session, plugin_id).state is PluginState.INACTIVE


def test_reauthorizing_replaces_a_stored_admin_token(tmp_path: Path, sqlite_url: str) -> None:
    """A completed authorization is the credential the plugin uses: the pasted admin token
    it replaces is cleared (it was revoked; sending it again would undo the grant)."""
    with ShopifySandbox(auto_approve=True) as sandbox, _hub(tmp_path, sqlite_url) as hub:
        sandbox.create_shop("pasted", token="shpat_admin", app_key="key-1", app_secret="secret-1")
        plugin_id = _oauth_plugin(hub, sandbox, "pasted", access_token="shpat_admin")
        assert actions.test_connection(hub, plugin_id).ok
        sandbox.revoke_token("shpat_admin")
        assert not actions.test_connection(hub, plugin_id).ok
        _authorize(hub, plugin_id)
        assert actions.test_connection(hub, plugin_id).ok  # with the grant, not the old token
        with hub.db.read() as session:
            plugin = plugins.get_plugin(session, plugin_id)
            shown = plugins.describe_settings(hub.vault, ShopifyConnector.info, plugin)
            assert plugin.state is PluginState.ACTIVE
        assert shown["access_token"] == "not set"
