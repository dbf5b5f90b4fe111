"""Shadow mode in a browser (issue 15, part 6): a Shopify plugin is created in shadow from
the Add plugin form, its page says *Shadow — nothing is written* and shows the go-live
report of the orders the store took meanwhile, and Go live makes it live."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Served, screenshot, sign_in
from tradewind.app import actions
from tradewind.core.channels import service as channels
from tradewind.core.plugins import service as plugins
from tradewind.sync import shadow
from tradewind.vocabulary import Toggle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def store() -> Iterator[tuple[Any, str, str]]:
    """A Shopify sandbox shop selling MUG; its token."""
    from tradewind.sandbox.shopify import ShopifySandbox

    with ShopifySandbox(time_scale=10_000) as sandbox:
        name = f"shadow-{int(time.time() * 1000) % 100000}"
        made = sandbox.create_shop(name, token=f"shpat_{name}", app_key="k", app_secret="s")
        assert made.token is not None
        sandbox.add_product(name, "Mug", [{"sku": "MUG", "price": "12.00", "available": 9}])
        yield sandbox, name, made.token


def _report(served: Served, plugin_id: int) -> shadow.GoLiveReport:
    with served.hub.db.read() as session:
        return shadow.report(session, plugin_id)


def test_a_plugin_made_in_shadow_shows_its_report_and_goes_live(
    page: Any, served: Served, store: tuple[Any, str, str]
) -> None:
    from playwright.sync_api import expect

    from tradewind.integrations.shopify import ShopifyConnector

    sandbox, name, token = store
    with served.hub.db.unit_of_work() as session:
        channels.create_channel(session, f"Shadow {name}")
    sign_in(page)
    page.goto("/plugins/new")
    with page.expect_navigation():
        page.select_option("select[name=connector]", label="Shopify")
    page.fill("input[name=name]", name)
    settings = {
        "store_url": f"https://{name}.myshopify.com",
        "access_token": token,
        "client_id": "k",
        "client_secret": "s",
        "sandbox_url": sandbox.base_url,
    }
    for field, value in settings.items():
        page.fill(f"[name=setting_{field}]", value)
    page.get_by_label(f"Shadow {name}", exact=True).check()
    page.check("#shadow")
    page.click("text=Create plugin")
    expect(page.locator(".alert.ok")).to_contain_text("created")
    expect(page.locator("#shadow-badge")).to_have_text("Shadow — nothing is written")
    plugin_id = int(page.url.rstrip("/").rsplit("/", 1)[1].split("#")[0].split("?")[0])

    with served.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, plugin_id, Toggle.IMPORT_ORDERS, True)
    actions.activate(served.hub, plugin_id)
    sandbox.place_order(name, [("MUG", 1), ("NOPE-1", 1)])
    deadline = time.monotonic() + 30
    while _report(served, plugin_id).would_import < 1:
        assert time.monotonic() < deadline, "the shadow plugin never saw the order"
        time.sleep(0.2)

    page.goto("/plugins")
    expect(page.locator(f"tr:has(a[href='/plugins/{plugin_id}'])")).to_contain_text("shadow")
    page.goto(f"/plugins/{plugin_id}")
    card = page.locator("#go-live-report")
    expect(page.locator("#shadow-badge")).to_be_visible()
    expect(card.locator('[data-figure="would_import"]')).to_contain_text("1 order(s) would import")
    expect(card.locator('[data-figure="unmatched"]')).to_contain_text("1 line(s)")
    expect(card.locator('[data-figure="unmatched"]')).to_contain_text("NOPE-1")
    screenshot(page, "shadow-go-live-report")
    page.click("#go-live")
    expect(page.locator(".alert.ok")).to_contain_text("Plugin is live")
    expect(page.locator("#shadow-badge")).to_have_count(0)
    expect(page.locator("#go-live-report")).to_have_count(0)
    expect(page.locator("#plugin-state")).to_have_text("active")
    with served.hub.db.read() as session:
        live = plugins.get_plugin(session, plugin_id)
        assert not live.in_shadow and live.enabled_at is not None
