"""The order doctor in a browser (issue 15, part 3): an order that did not import because
Import Orders is off is asked about on the orders list (the search found nothing) and on
the plugin page; the answer shows inline, its button switches Import Orders on, the order
imports, and the support details copy to the clipboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Served, screenshot, sign_in
from tradewind.app import actions
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def shop(served: Served) -> Iterator[tuple[Any, str, int]]:
    """A Shopify sandbox shop and a running plugin on one channel, Import Orders off."""
    from tradewind.integrations.shopify import ShopifyConnector
    from tradewind.sandbox.shopify import ShopifySandbox

    with ShopifySandbox(time_scale=10_000) as sandbox:
        name = f"doctor-{int(time.time() * 1000) % 100000}"
        made = sandbox.create_shop(name, token=f"shpat_{name}", app_key="k", app_secret="s")
        sandbox.add_product(name, "Mug", [{"sku": "MUG", "price": "12.00", "available": 9}])
        with served.hub.db.unit_of_work() as session:
            channel = channels.create_channel(session, f"Doctor {name}")
            plugin = plugins.add_plugin(
                session,
                served.hub.vault,
                ShopifyConnector.info,
                name=name,
                config={
                    "store_url": f"https://{name}.myshopify.com",
                    "access_token": made.token,
                    "client_id": "k",
                    "client_secret": "s",
                    "sandbox_url": sandbox.base_url,
                },
            )
            plugins.attach(session, plugin.id, channel.id)
            plugin_id = plugin.id
        actions.activate(served.hub, plugin_id)
        yield sandbox, name, plugin_id


def _imported(served: Served, plugin_id: int, external_id: str) -> bool:
    with served.hub.db.read() as session:
        return orders.find_imported(session, plugin_id, external_id) is not None


def test_the_doctor_box_explains_and_fixes_a_missing_order(
    browser: Any, served: Served, shop: tuple[Any, str, int]
) -> None:
    from playwright.sync_api import expect

    sandbox, name, plugin_id = shop
    placed = sandbox.place_order(name, [("MUG", 1)])
    number = str(placed["name"])
    context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page)
        # The orders list: the search finds nothing, so the box offers to ask why.
        page.goto(f"/orders?plugin_id={plugin_id}&q={number.replace('#', '%23')}")
        expect(page.locator("#orders-table")).to_contain_text("No orders match.")
        box = page.locator("#doctor")
        expect(box).to_contain_text(f"Why didn't order {number} import?")
        expect(box.locator("input[name=order]")).to_have_value(number)
        box.locator("button:has-text('Why didn')").click()
        verdict = page.locator("#doctor-verdict")
        expect(verdict).to_contain_text("Import Orders is off")
        expect(page.locator('[data-check="import_orders"]')).to_contain_text("failed")
        expect(page.locator('[data-check="channels"]')).to_contain_text("not applicable")
        expect(page.locator("#alerts")).not_to_contain_text("Import Orders")  # inline only

        # The same on the plugin page, then its button fixes it.
        page.goto(f"/plugins/{plugin_id}")
        page.fill("#doctor-form input[name=order]", number)
        page.click("#doctor-form button[type=submit]")
        expect(verdict).to_contain_text("Import Orders is off")
        page.click("#doctor-copy")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert f"Order on the platform: {number}" in copied and name in copied
        screenshot(page, "doctor-box")
        page.click("#doctor-action button:has-text('Switch Import Orders on')")
        expect(page.locator("#doctor-answer")).to_contain_text("Import Orders is on")
        deadline = time.monotonic() + 30
        while not _imported(served, plugin_id, str(placed["id"])):
            assert time.monotonic() < deadline, "the order never imported"
            time.sleep(0.2)
        page.fill("#doctor-form input[name=order]", number)
        page.click("#doctor-form button[type=submit]")
        expect(verdict).to_contain_text("is in Tradewind")
    finally:
        context.close()
