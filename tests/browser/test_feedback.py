"""Feedback where the user looks (issue 16, part 4): a form's answer shows in the
section of the page the form is in; an htmx form's error shows under the form, in view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Served, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_forms_answer_shows_next_to_the_form(page: Any, served: Served) -> None:
    """A form whose answer comes back to its section (here the Shipments page's shipping
    processes) shows the message in that section, not at the top of the page."""
    from playwright.sync_api import expect

    sign_in(page)
    page.goto("/shipments")
    form = page.locator("#process-form")
    form.locator("input[name=name]").fill(f"Route {id(page)}")
    form.locator("button[type=submit]").click()
    flash = page.locator("#flash")
    expect(flash).to_contain_text("added: map locations to it")
    assert page.locator("#processes #flash").count() == 1  # in the section, not on top
    assert page.locator("#alerts #flash").count() == 0


def _in_view(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box)


def test_an_htmx_forms_error_shows_next_to_it_in_view(
    page: Any, served: Served, idle_plugin: int
) -> None:
    """An invalid backfill range (it ends before it starts), far down the plugin page:
    its error shows under the form, on screen, not in the alerts atop the page; and the
    Test connection button's refusal (the page's form token gone stale) under it too."""
    from playwright.sync_api import expect

    sign_in(page)
    page.goto(f"/plugins/{idle_plugin}")
    form = page.locator("#backfill-form")
    form.locator("input[name=start]").fill("2026-02-01")
    form.locator("input[name=end]").fill("2026-01-01")
    form.locator("button[type=submit]").click()
    answer = page.locator("#backfill-form-answer")
    expect(answer).to_contain_text("ends before it starts")
    assert page.evaluate("window.scrollY") > 500  # the form is far below the page's top
    _in_view(page, "#backfill-form-answer .alert")
    expect(page.locator("#alerts")).to_be_empty()
    # A valid range clears the last answer (a plugin without Import Orders: said why).
    form.locator("input[name=start]").fill("2026-01-01")
    form.locator("input[name=end]").fill("2026-01-02")
    form.locator("button[type=submit]").click()
    expect(answer).to_contain_text("does not have Import Orders on")
    expect(answer).not_to_contain_text("ends before it starts")

    page.evaluate("""() => document.body.setAttribute("hx-headers", '{"X-CSRF-Token": "stale"}')""")
    page.locator("#test-connection").click()
    refused = page.locator("#test-connection-answer")
    expect(refused).to_contain_text("expired")
    _in_view(page, "#test-connection-answer .alert")
    expect(page.locator("#alerts")).to_be_empty()
