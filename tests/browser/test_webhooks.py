"""Settings → Webhooks in a browser (issue 14, part 6): a merchant adds an endpoint,
keeps the secret shown once, sends a test event that the receiver verifies with that
secret, reads the delivery's attempt, rotates the secret and pauses the endpoint."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.browser.conftest import Served, screenshot, sign_in
from tests.webhooks.conftest import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def test_an_endpoint_is_added_tested_rotated_and_paused(
    page: Any, served: Served, receiver: Receiver
) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    page.click("text=Settings · Webhooks")
    expect(page.locator("h2", has_text="Endpoints")).to_be_visible()

    # A loopback receiver is accepted because this hub allows sandbox hosts; a typo is not.
    form = page.locator("form[action='/settings/webhooks']")
    form.locator("input[name=url]").fill("not a url")
    form.locator("button:has-text('Add endpoint')").click()
    expect(page.locator(".alert.error")).to_be_visible()

    form = page.locator("form[action='/settings/webhooks']")
    form.locator("input[name=url]").fill(receiver.url)
    form.locator("input[name=description]").fill("ERP")
    form.locator("input[value='order.created']").check()
    form.locator("button:has-text('Add endpoint')").click()
    shown = page.locator("code.secret")
    expect(shown).to_have_text(re.compile(r"^whsec_"))
    secret = shown.inner_text().strip()
    row = page.locator("tr", has_text=receiver.url)
    expect(row).to_contain_text("order.created")
    expect(row).to_contain_text("active")

    # The secret is shown once: reloading reads the list (the form is not sent again).
    page.reload()
    expect(page.locator("code.secret")).to_have_count(0)
    expect(page.locator("tr", has_text=receiver.url)).to_have_count(1)  # not added twice
    assert secret not in page.content()

    # A test event reaches the receiver signed with that secret.
    row = page.locator("tr", has_text=receiver.url)
    row.locator("select[name=event_type]").select_option("order.created")
    row.locator("button:has-text('Send test')").click()
    arrived = receiver.wait_for(1, timeout=30)
    assert len(arrived) == 1
    body = arrived[0].body
    verified = Webhook(secret).verify(body, arrived[0].headers)
    assert verified["type"] == "order.created"
    assert json.loads(body)["type"] == "order.created"

    # The endpoint page lists the delivery; its page shows the attempt and the answer.
    page.goto("/settings/webhooks")
    page.locator("a", has_text=receiver.url).click()
    deliveries = page.locator("tr", has_text="order.created")
    expect(deliveries.first).to_contain_text("succeeded")
    deliveries.first.locator("a").first.click()
    expect(page.locator("body")).to_contain_text(arrived[0].headers["webhook-id"])
    expect(page.locator("body")).to_contain_text("200")
    assert secret not in page.content()
    screenshot(page, "webhook-delivery")

    # Rotating asks first, then shows a new secret once; the old one signs for a day.
    page.goto("/settings/webhooks")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("tr", has_text=receiver.url).locator("button:has-text('Rotate secret')").click()
    expect(page.locator("code.secret")).to_have_count(0)  # dismissed: nothing rotated
    assert asked and "old one keeps signing for 24 hours" in asked[0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text=receiver.url).locator("button:has-text('Rotate secret')").click()
    rotated = page.locator("code.secret")
    expect(rotated).to_have_text(re.compile(r"^whsec_"))
    assert rotated.inner_text().strip() != secret
    expect(page.locator(".alert.ok")).to_contain_text("keeps signing for 24 hours")

    # Pausing sends nothing more until resumed.
    page.locator("tr", has_text=receiver.url).locator("button:has-text('Pause')").click()
    row = page.locator("tr", has_text=receiver.url)
    expect(row).to_contain_text("paused")
    expect(row.locator("button:has-text('Resume')")).to_be_visible()
    screenshot(page, "webhooks")
