"""Feedback where the user looks (issue 16, part 4): a form's answer shows in the
section of the page the form is in."""

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
