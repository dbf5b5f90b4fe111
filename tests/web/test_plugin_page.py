"""What the plugin page and the API tell about a plugin's work (issue 10, point 13): a
failed execution keeps the platform's own words, not only an outcome; a toggle says
what it does where the platform makes that differ."""

from __future__ import annotations

import html

from tests.api.conftest import make_token
from tests.fakeplatform import TOKEN, FakeMarketServer
from tests.fakes import FakeConnector
from tests.web.conftest import Browser
from tradewind.app import actions
from tradewind.auth.models import TokenScope
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector


def test_a_failed_call_shows_its_error_on_the_plugin_page_and_in_the_api(
    hub: Hub, admin: Browser
) -> None:
    with FakeMarketServer() as market:
        with hub.db.unit_of_work() as session:
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                FakeConnector.info,
                name="failing-shop",
                config={"shop": "failing-shop", "api_token": TOKEN, "base_url": market.url},
            )
        market.market.fail_next(422)  # answers {"error": "injected 422"}
        report = actions.test_connection(hub, plugin.id)
    assert not report.ok
    error = "shop.read: HTTP 422 — injected 422"
    page = admin.get(f"/plugins/{plugin.id}")
    assert page.status_code == 200 and error in page.text
    token = make_token(hub, TokenScope.READ)
    listed = admin.client.get(
        "/api/v1/executions",
        params={"plugin_id": plugin.id, "outcome": "rejected"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert listed.status_code == 200, listed.text
    (failed,) = listed.json()["items"]
    assert (failed["operation"], failed["http_status"], failed["error"]) == (
        "shop.read",
        422,
        error,
    )


def test_the_toggles_say_what_they_do_on_the_platform(hub: Hub, admin: Browser) -> None:
    """Shopify cannot tell Export Shipments from Export Tracking: the switch says so."""
    hub.registry = ConnectorRegistry.of(FakeConnector, ShopifyConnector)
    with hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session,
            hub.vault,
            ShopifyConnector.info,
            name="notes",
            config={"store_url": "https://notes.myshopify.com", "access_token": "shpat_x"},
        )
    page = admin.get(f"/plugins/{plugin.id}")
    assert page.status_code == 200
    assert "Export Tracking already sends each shipment" in html.unescape(page.text)
    # Shopify can take returns as refunds: the rule is offered, and off until ticked.
    assert 'name="export_returns" value="true" >' in page.text
    form = {"pos_orders": "match", "match_by": "sku,barcode", "statuses": ["open"]}
    form |= {"financial_statuses": ["paid"], "fulfillment_statuses": ["unfulfilled"]}
    saved = admin.post(f"/plugins/{plugin.id}/rules", {**form, "export_returns": "true"})
    assert saved.status_code == 303
    with hub.db.read() as session:
        assert plugins.import_rules(plugins.get_plugin(session, plugin.id)).export_returns
    assert 'name="export_returns" value="true" checked' in admin.get(f"/plugins/{plugin.id}").text
