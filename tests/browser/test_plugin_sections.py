"""The plugin page's executions in a browser (issue 16, part 3): filtering puts the view's
own address in the address bar, so it can be linked, and a reload shows the same view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Served, sign_in
from tests.web.test_plugin_sections import _executions

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_executions_filter_is_in_the_address_and_survives_reload(
    page: Any, served: Served, idle_plugin: int
) -> None:
    from playwright.sync_api import expect

    _executions(
        served.hub,
        idle_plugin,
        [("orders.read", "success", 10.0), ("stock.push", "failed", 20.0)] * 3,
    )
    sign_in(page)
    page.goto(f"/plugins/{idle_plugin}")
    summary = page.locator("#exec-summary")
    expect(summary).to_have_attribute("data-calls", "6")
    page.locator("#exec-filter select[name=outcome]").select_option("failed")
    expect(summary).to_have_attribute("data-calls", "3")
    expect(page).to_have_url(f"{served.url}/plugins/{idle_plugin}?outcome=failed#history")
    page.locator("#exec-filter select[name=operation]").select_option("stock.push")
    expect(page).to_have_url(
        f"{served.url}/plugins/{idle_plugin}?outcome=failed&operation=stock.push#history"
    )
    page.reload()
    expect(summary).to_have_attribute("data-calls", "3")
    expect(page.locator("#exec-filter select[name=outcome]")).to_have_value("failed")
    expect(page.locator("#exec-filter select[name=operation]")).to_have_value("stock.push")
    expect(page.locator("#executions")).not_to_contain_text("orders.read")
    # Back goes to the view before.
    page.go_back()
    expect(page).to_have_url(f"{served.url}/plugins/{idle_plugin}?outcome=failed#history")
    expect(page.locator("#exec-filter select[name=operation]")).to_have_value("")
