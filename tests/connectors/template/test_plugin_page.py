"""The plugin page of a template plugin: its template and version, its hooks and pulls
with their last runs, a dry run of any of them (secrets redacted, nothing written), and
the upgrade to a newer version with what changes in the settings; Create Custom tries an
edited template with an existing plugin's credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.connectors.template.conftest import REST_STOREFRONT, SOURCE
from tests.connectors.template.test_engine import _poll
from tests.fakeplatform import TOKEN
from tests.sync.conftest import Shop
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import templates
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.server import create_app


@pytest.fixture
def admin(store: Shop) -> Iterator[Browser]:
    with store.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    with TestClient(create_app(store.hub)) as client:
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        yield browser


def _orders(store: Shop) -> int:
    with store.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_the_page_shows_each_hook_and_pull_with_its_last_runs(admin: Browser, store: Shop) -> None:
    page = admin.get(f"/plugins/{store.plugin_id}")
    assert 'id="template"' in page.text
    assert f"rest_storefront {REST_STOREFRONT.version}</p>" in page.text
    assert page.text.count("not run yet") == 4  # get_order, push_stock, orders, locations
    store.market.add_order("W1", sku="MUG")
    _poll(store)
    store.harness.run(store.plugin_id)
    page = admin.get(f"/plugins/{store.plugin_id}")
    assert page.text.count("not run yet") == 2  # get_order (the poll reads pages), locations
    assert "orders.page · HTTP 200" in page.text
    assert "push_stock." in page.text  # the imported order's reservation went out


def test_a_dry_run_from_the_page_shows_the_mapped_order_and_writes_nothing(
    admin: Browser, store: Shop
) -> None:
    store.market.add_order("D7", sku="PLATE")
    tried = admin.htmx(
        f"/plugins/{store.plugin_id}/try", {"name": "get_order", "input": '{"id": "D7"}'}
    )
    assert tried.status_code == 200
    assert "get_order.order" in tried.text and '"external_id": "D7"' in tried.text
    assert "Bearer [redacted]" in tried.text and TOKEN not in tried.text
    assert _orders(store) == 0
    broken = admin.htmx(f"/plugins/{store.plugin_id}/try", {"name": "get_order", "input": "{"})
    assert 'role="alert"' in broken.text and "input: Expecting property name" in broken.text
    unknown = admin.htmx(f"/plugins/{store.plugin_id}/try", {"name": "get_rates"})
    assert "has no hook or pull &#39;get_rates&#39;" in unknown.text


def test_create_custom_tries_the_edited_template_with_the_plugins_credentials(
    admin: Browser, store: Shop
) -> None:
    source = SOURCE
    editor = admin.get("/integrations/custom")
    assert f'<option value="{store.plugin_id}">rest-store (rest_storefront)</option>' in (
        editor.text
    )
    store.market.add_order("E1", sku="MUG")
    edited = source.replace('"external_id": $o.id,', '"external_id": "edited-" & $o.id,')
    assert edited != source
    tried = admin.htmx(
        "/integrations/custom/try",
        {
            "plugin_id": store.plugin_id,
            "name": "get_order",
            "input": '{"id": "E1"}',
            "source": edited,
        },
    )
    assert '"external_id": "edited-E1"' in tried.text
    other = admin.htmx(
        "/integrations/custom/try",
        {
            "plugin_id": store.plugin_id,
            "name": "get_order",
            "source": source.replace("id: rest_storefront", "id: another"),
        },
    )
    assert "the template is &#39;another&#39;; the plugin runs &#39;rest_storefront&#39;" in (
        other.text
    )


def test_a_newer_version_is_offered_with_its_settings_and_upgraded(
    admin: Browser, store: Shop
) -> None:
    source = SOURCE
    newer = source.replace("id: rest_storefront", "id: my_store").replace(
        f"version: {REST_STOREFRONT.version}", "version: 1.0.0"
    )
    templates.save_custom(store.hub, newer)
    with store.hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, store.plugin_id)
        plugin.connector, plugin.connector_version = "my_store", "1.0.0"
    major = newer.replace("version: 1.0.0", "version: 2.0.0").replace(
        "settings:\n", "settings:\n  region: {type: string, default: eu}\n", 1
    )
    templates.save_custom(store.hub, major)
    page = admin.get(f"/plugins/{store.plugin_id}")
    assert "Version 2.0.0 is available (this plugin runs 1.0.0)" in page.text
    assert "New settings: region" in page.text and 'name="confirm_major"' in page.text
    refused = admin.post(f"/plugins/{store.plugin_id}/upgrade")
    assert refused.status_code == 303
    assert "is a major version" in admin.get(refused.headers["location"]).text
    done = admin.post(f"/plugins/{store.plugin_id}/upgrade", {"confirm_major": "true"})
    assert "Upgraded from 1.0.0 to 2.0.0." in admin.get(done.headers["location"]).text
    with store.hub.db.read() as session:
        assert plugins.get_plugin(session, store.plugin_id).connector_version == "2.0.0"
