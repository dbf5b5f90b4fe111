"""A template from writing to running, in a browser: Create Custom with a mistake shows
the problem at its line, the fix saves; the catalogue installs it (the settings form
comes from the template), its connection is tested and it is activated; the plugin
page's Try it runs a hook and shows the mapped order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Served, screenshot, sign_in
from tests.connectors.template.conftest import SOURCE
from tests.fakeplatform import TOKEN, FakeMarketServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORNER_SHOP = SOURCE.replace("id: rest_storefront", "id: corner_shop").replace(
    "display_name: REST storefront", "display_name: Corner shop"
)
MISTAKE = CORNER_SHOP.replace("{{ settings.store_url }}", "{{ settings.store_ur }}")


def test_create_custom_install_test_activate_and_try(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    assert MISTAKE != CORNER_SHOP
    sign_in(page)
    page.click("nav >> text=Integrations")
    page.click("text=Create Custom")
    page.fill("textarea#source", MISTAKE)
    page.click("button:has-text('Save')")
    expect(page.locator("#problems")).to_contain_text(
        "line 11, column 10: environments.live.base_url: unknown setting 'store_ur' "
        "(did you mean 'store_url'?)"
    )
    expect(page.locator("textarea#source")).to_have_value(MISTAKE)  # nothing typed is lost
    page.fill("textarea#source", CORNER_SHOP)
    page.click("button:has-text('Check')")
    expect(page.locator("#check-ok")).to_contain_text("A valid template: corner_shop 1.0.0")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert.ok")).to_contain_text("Corner shop 1.0.0 saved.")

    with FakeMarketServer() as store:
        store.market.add_order("C-100", sku="MUG")
        page.fill("input[name=q]", "corner")
        page.click("button:has-text('Search')")
        page.locator('[data-template="corner_shop"] >> text=Install').click()
        page.fill("input[name=name]", "corner-shop")
        page.fill("[name=setting_store_url]", store.url)
        page.fill("[name=setting_api_token]", TOKEN)
        page.click("text=Create plugin")
        expect(page.locator(".alert.ok")).to_contain_text("created")
        assert TOKEN not in page.content()

        page.click("button:has-text('Test connection')")
        expect(page.locator("#test-result")).to_contain_text("Connection works")
        page.click("button:has-text('Activate')")
        expect(page.locator("#plugin-state")).to_have_text("active")

        expect(page.locator("#template")).to_contain_text("corner_shop 1.0.0 · uploaded")
        page.select_option("#try-form select[name=name]", "get_order")
        page.fill("#try-input", '{"id": "C-100"}')
        page.click("#try-form button:has-text('Dry run')")
        expect(page.locator("#dry-run-output")).to_contain_text('"external_id": "C-100"')
        expect(page.locator("#dry-run")).to_contain_text("Bearer [redacted]")
        assert TOKEN not in page.content()
        screenshot(page, "template-plugin-dry-run")
