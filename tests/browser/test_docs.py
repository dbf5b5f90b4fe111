"""The API documentation an integrator reads: reachable from the UI, rendered from our
OpenAPI 3.1 document by the vendored Swagger UI, with no request leaving this machine."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Served, screenshot, sign_in

pytestmark = [pytest.mark.browser]


def test_the_api_docs_render_every_operation(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    sign_in(page)
    page.get_by_role("link", name="API docs").click()
    expect(page).to_have_url(f"{served.url}/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    screenshot(page, "api-docs")
    assert page.get_by_text("Unable to render this definition").count() == 0
    # Every route of the API, not an empty shell. Swagger UI renders a large document as
    # it comes into view: a window tall enough to show it all.
    page.set_viewport_size({"width": 1280, "height": 30_000})
    expect(operations.nth(39)).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/orders").first).to_be_visible()
    assert hosts == {urlsplit(served.url).netloc}  # vendored: no CDN
