"""`tradewind plugins add --shadow`, `shadow`, `go-live-report` and `go-live`: the same
actions as the API's and the UI's, with bad requests refused in one line (exit 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.test_cli import bad, ok
from tests.fakeplatform import TOKEN, FakeMarketServer
from tests.fakes import FakeConnector
from tests.sync.conftest import Harness
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind


@pytest.fixture
def loopback_hub(settings: Settings) -> Iterator[Hub]:
    opened = settings.model_copy(update={"allow_sandbox_hosts": True})
    with Hub(opened, registry=ConnectorRegistry.of(FakeConnector)) as built:
        yield built


def test_a_plugin_made_in_shadow_reports_and_goes_live_from_the_cli(loopback_hub: Hub) -> None:
    hub = loopback_hub
    with FakeMarketServer() as market:
        settings = ["--set", "shop=fake-shop", "--set", f"api_token={TOKEN}"]
        settings += ["--set", f"base_url={market.url}"]
        assert "in shadow: nothing is written" in ok(
            hub, "plugins", "add", "fake", "shop", *settings, "--shadow"
        )
        assert "shadow (nothing is written)" in ok(hub, "plugins", "show", "shop")
        ok(hub, "channels", "add", "Web")
        ok(hub, "plugins", "attach", "shop", "Web")
        ok(hub, "plugins", "toggle", "shop", "import_orders", "on")
        ok(hub, "plugins", "activate", "shop")
        market.market.add_order("S1", sku="NOPE")
        with hub.db.unit_of_work() as session:
            plugin_id = plugins.plugin_by_ref(session, "shop").id
            ledger.enqueue(session, plugin_id, WorkKind.IMPORT_ORDER, "S1")
        Harness(hub).run(plugin_id)
        report = ok(hub, "plugins", "go-live-report", "shop")
        assert "shop: in shadow since" in report
        assert "1 order(s) would import, 0 skipped (of 1 seen)" in report
        assert "1 line(s) match no product by SKU or barcode: NOPE" in report
        assert "is live since" in ok(hub, "plugins", "go-live", "shop")
        assert "shop: live" in ok(hub, "plugins", "go-live-report", "shop")
        assert "not in shadow" in bad(hub, "plugins", "go-live", "shop")
        assert "only a plugin not yet live" in bad(hub, "plugins", "shadow", "shop")
        ok(hub, "plugins", "add", "fake", "later", *settings)
        assert "later is in shadow" in ok(hub, "plugins", "shadow", "later")
        assert "no plugin named" in bad(hub, "plugins", "go-live-report", "nope")
