"""The plugin page and its settings form with secrets: a blank field keeps a secret, its
Clear box clears it, and credentials no key opens show as such (never a 500)."""

from __future__ import annotations

from tests import factories
from tests.fakes import FakeConnector
from tests.web.conftest import Browser
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.vault import Vault, generate_key


def plugin_with_hook_secret(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        plugins.update_plugin_settings(
            session, hub.vault, FakeConnector.info, plugin.id, {"webhook_secret": "hook-1234"}
        )
        plugins.activate(session, plugin.id)
        return plugin.id


def stored(hub: Hub, plugin_id: int) -> dict[str, str]:
    with hub.db.read() as session:
        return plugins.read_credentials(hub.vault, plugins.get_plugin(session, plugin_id))


def test_a_blank_secret_is_kept_and_a_ticked_clear_box_clears(admin: Browser, hub: Hub) -> None:
    plugin_id = plugin_with_hook_secret(hub)
    page = admin.get(f"/plugins/{plugin_id}")
    assert page.status_code == 200 and 'name="clear_webhook_secret"' in page.text
    assert 'name="clear_api_token"' not in page.text  # required: it can be replaced, not cleared
    saved = admin.post(
        f"/plugins/{plugin_id}/settings",
        data={
            "setting_shop": "uk-store",
            "setting_api_token": "",
            "setting_webhook_secret": "",
            "clear_webhook_secret": "on",
            "setting_base_url": "http://127.0.0.1:9",
            "setting_poll_minutes": "10",
        },
    )
    assert saved.status_code == 303
    assert stored(hub, plugin_id) == {"api_token": "tok-secret-1234"}


def test_credentials_no_key_opens_show_on_the_plugin_page(admin: Browser, hub: Hub) -> None:
    plugin_id = plugin_with_hook_secret(hub)
    hub.vault = Vault([generate_key()])  # the key that sealed them is gone
    page = admin.get(f"/plugins/{plugin_id}")
    assert page.status_code == 200
    assert "credentials unreadable" in page.text
    assert "Credentials cannot be decrypted" in page.text
    assert "set (cannot be decrypted)" in page.text
