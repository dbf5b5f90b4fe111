"""What a merchant does in a browser, end to end, against a platform: sign in, create a
channel and a plugin, hit the import-conflict rule and resolve it, switch a dependent
toggle and see its prerequisite switch on, run a backfill and watch its progress, see a
missing-product notification and fix it by mapping the product, and see orders import."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest

from tests.browser.conftest import Platform, Served, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def eventually(page: Any, url: str, selector: str, timeout: float = 30.0) -> None:
    """Reload ``url`` until ``selector`` shows (the engine works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            screenshot(page, "failed-" + re.sub(r"\W+", "-", url.strip("/")))
            raise AssertionError(f"{selector!r} never showed on {url}")
        time.sleep(0.3)


def test_a_merchant_connects_a_platform(page: Any, served: Served, platform: Platform) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    expect(page.locator("#bell")).to_be_visible()

    # Channels: the platform's own, and a second one to show the conflict rule.
    for name in (platform.channel, f"{platform.channel} wholesale"):
        page.goto("/channels")
        page.fill("input[name=name]", name)
        page.click("text=Create channel")
        expect(page.locator(".alert.ok")).to_contain_text(f"Channel '{name}' created.")

    # Add the plugin: the connector is picked from the registry, the form comes from its
    # settings schema, secrets are password fields, and the plugin goes on both channels.
    page.goto("/plugins/new")
    with page.expect_navigation():
        page.select_option("select[name=connector]", label=platform.label)
    page.fill("input[name=name]", platform.plugin)
    for name, value in platform.settings().items():
        page.fill(f"[name=setting_{name}]", value)
    page.get_by_label(platform.channel, exact=True).check()
    page.get_by_label(f"{platform.channel} wholesale", exact=True).check()
    page.click("text=Create plugin")
    expect(page.locator(".alert.ok")).to_contain_text("created")
    plugin_url = page.url
    plugin_id = int(plugin_url.rstrip("/").rsplit("/", 1)[1].split("#")[0].split("?")[0])
    secrets = [v for k, v in platform.settings().items() if "token" in k or "secret" in k]
    assert secrets and not any(secret in page.content() for secret in secrets)
    assert "set (…" in page.content()

    # A dependent toggle switches its prerequisite on, visibly.
    tracking = page.locator('[data-toggle="import_tracking"] button')
    orders_switch = page.locator('[data-toggle="import_orders"] button')
    expect(orders_switch).to_have_attribute("aria-checked", "false")
    tracking.click()
    expect(page.locator("#toggle-message")).to_contain_text(
        "Switched on as well, because Import Tracking needs it: Import Orders."
    )
    expect(page.locator('[data-toggle="import_orders"] button')).to_have_attribute(
        "aria-checked", "true"
    )
    expect(page.locator('[data-toggle="import_orders"]')).to_have_class(re.compile("changed"))
    # A toggle the platform's API does not allow is shown disabled with its reason.
    if served.hub.registry.info(platform.key).unsupported:
        expect(page.locator(".toggle.disabled").first).to_contain_text("Not supported")
    else:
        expect(page.locator(".toggle.disabled")).to_have_count(0)

    # Import Orders on two channels: the import-conflict rule, shown and then resolved.
    page.goto(plugin_url)
    expect(page.locator("#import-conflict")).to_contain_text("exactly one channel")
    page.goto("/notifications")
    expect(page.locator('[data-kind="import_conflict"]')).to_contain_text("Order import conflict")
    page.click("text=Fix the plugin's channels")
    page.get_by_label(f"{platform.channel} wholesale", exact=True).uncheck()
    page.click("text=Save channels")
    expect(page.locator(".alert.ok")).to_contain_text("Channels saved.")
    expect(page.locator("#import-conflict")).to_have_count(0)

    # Orders placed before the plugin was connected import only through a backfill.
    platform.place_old_orders(5)
    page.click("button:has-text('Activate')")
    expect(page.locator("#plugin-state")).to_have_text("active")
    eventually(page, plugin_url, 'select[aria-label^="Warehouse for"]')
    page.locator('select[aria-label^="Warehouse for"]').first.select_option(label="MAIN")
    page.locator("#locations input[type=checkbox]").first.check()
    page.locator("#locations button:has-text('Save')").first.click()
    expect(page.locator(".alert.ok")).to_contain_text("Location mapping saved.")

    # Product mapping: Sync products maps by SKU, then barcode, and lists what it could
    # not map; a person maps the rest from the list.
    if platform.unmatched_sku:
        page.click("#products button:has-text('Sync products')")
        expect(page.locator(".alert.ok")).to_contain_text("Sync products started.")
        eventually(page, plugin_url, "#unmatched")
        row = page.locator("#unmatched tbody tr", has_text=platform.unmatched_sku)
        row.locator("input[name=product]").fill("TEAPOT-01")
        row.locator("button:has-text('Map')").click()
        expect(page.locator(".alert.ok")).to_contain_text("mapped to TEAPOT-01")
        expect(page.locator("#products")).to_contain_text("2 product(s) mapped")

    today = dt.datetime.now(dt.UTC).date()  # the form's dates are UTC days
    page.fill("#backfill-form input[name=start]", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#backfill-form input[name=end]", today.isoformat())
    page.click("#backfill-form button[type=submit]")
    progress = page.locator("#backfill progress")
    expect(progress).to_be_visible()
    expect(page.locator("#backfill [data-state]")).to_have_text("done", timeout=45_000)
    expect(page.locator("#backfill")).to_contain_text("5 imported")
    assert progress.get_attribute("value") == "1.0"

    # An order for a SKU the catalog does not know: kept, flagged, and fixed by mapping.
    platform.place_order("GHOST")
    if platform.key == "fake":  # Fake Market has no webhooks: Sync now polls it
        page.goto(plugin_url)
        page.click("button:has-text('Sync now')")
        expect(page.locator(".alert.ok")).to_contain_text("Sync now queued")
    eventually(page, "/notifications", "form.fix-map", timeout=45)
    expect(page.locator("#bell .count")).not_to_have_text("0")
    card = page.locator('[data-kind="missing_product"]')
    expect(card).to_contain_text("SKU GHOST")
    card.locator("form.fix-map input[name=product]").fill("MUG")
    card.locator("form.fix-map button").click()
    expect(page.locator(".alert.ok")).to_contain_text("SKU GHOST mapped to MUG")
    expect(page.locator("[data-notification]", has_text="SKU GHOST")).to_have_count(0)

    # The orders imported: the backfilled ones and the new one, its timeline telling why.
    page.goto(f"/orders?plugin_id={plugin_id}")
    rows = page.locator("#orders-table tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#orders-table")).not_to_contain_text("missing product")
    # Newest first: the order placed last (GHOST, since mapped) leads, a backfilled one ends.
    rows.first.locator("a").first.click()
    expect(page.locator("#timeline")).to_contain_text("mapped to product MUG")
    page.goto(f"/orders?plugin_id={plugin_id}")
    page.locator("#orders-table tbody tr a").last.click()
    expect(page.locator("#timeline")).to_contain_text("imported from plugin")
    expect(page.locator("#timeline")).not_to_contain_text("mapped to product")

    page.goto(plugin_url)
    expect(page.locator("#history svg").first).to_be_visible()
    screenshot(page, f"plugin-{platform.key}")
    page.goto("/")
    expect(page.locator("#health-table")).to_contain_text(platform.plugin)
    screenshot(page, f"dashboard-{platform.key}")


def test_the_dashboard_on_a_phone(browser: Any, served: Served) -> None:
    context = browser.new_context(base_url=served.url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        sign_in(phone)
        phone.click("button[aria-label=Menu]")
        phone.click("nav.side >> text=Orders")
        phone.wait_for_selector("text=Filter")
        phone.goto("/")
        screenshot(phone, "dashboard-phone")
    finally:
        context.close()
