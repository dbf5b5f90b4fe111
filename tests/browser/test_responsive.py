"""The UI on a phone and from a keyboard (issue 16, part 5): at 390×844 no page in the menu
scrolls sideways (a wide table scrolls inside its card), the menu folds away behind a
button that works from the keyboard, and the bell stays on screen; every page starts with
a skip link; axe-core finds no WCAG 2.1 A/AA violation on any page in the menu, a plugin
page and an order page, in light and dark; the favicon is served.

axe-core is the vendored copy in ``tests/browser/vendor`` (no CDN, no npm at test time)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Served, screenshot, sign_in
from tests.fakes import FakeConnector
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The API docs are Swagger UI's own page (vendored, not our layout): only the pages the
# UI's templates draw are held to these checks.
NOT_OURS = ("/api/v1/docs",)


@dataclass(frozen=True)
class Subjects:
    plugin_id: int
    shopify_id: int  # its guide has tables and wrapped numbered steps
    order_id: int
    product_id: int
    customer_id: int | None


@pytest.fixture(scope="module")
def subjects(served: Served) -> Subjects:
    """Plugins (inactive: they call nobody) on a channel, one with two locations, and an
    order with a line."""
    from tradewind.integrations.shopify import ShopifyConnector

    with served.hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Phone shop")
        plugin = plugins.add_plugin(
            session,
            served.hub.vault,
            FakeConnector.info,
            name="phone-shop",
            config={"shop": "phone-shop", "api_token": "tok-phone-1234"},
        )
        plugins.attach(session, plugin.id, channel.id)
        # Two of the platform's locations: the mapping table's inputs must be labelled.
        links.sync_locations(session, plugin.id, [("loc-1", "Back room"), ("loc-2", "Shop")])
        shopify = plugins.add_plugin(
            session,
            served.hub.vault,
            ShopifyConnector.info,
            name="phone-shopify",
            config={
                "store_url": "https://phone-shopify.myshopify.com",
                "access_token": "shpat_phone_1234",
            },
        )
        order = orders.create_manual_order(
            session,
            channel.id,
            OrderIn(
                external_id="PHONE-1",
                number="#PHONE-1",
                email="ada@example.com",
                lines=[
                    OrderLineIn(
                        external_id="PHONE-1-0", sku="MUG", quantity=2, unit_price=Decimal("12")
                    )
                ],
            ),
        )
        mug = catalog.product_by_ref(session, "MUG")
        return Subjects(plugin.id, shopify.id, order.id, mug.id, order.customer_id)


@pytest.fixture
def signed_in(browser: Any, served: Served) -> Iterator[Any]:
    """A signed-in browser context; each test opens its pages in it."""
    context = browser.new_context(base_url=served.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page)
    page.close()
    try:
        yield context
    finally:
        context.close()


def _menu(context: Any) -> list[str]:
    page = context.new_page()
    page.goto("/")
    links = page.eval_on_selector_all("nav#nav a[href^='/']", "found => found.map(a => a.pathname)")
    page.close()
    assert len(links) >= 12, links
    return [link for link in links if link not in NOT_OURS]


def _pages(context: Any, subjects: Subjects) -> list[str]:
    """Every page in the menu, a plugin page and an order page, and the pages they lead to
    that a merchant works in: guides, a product, a customer, the new plugin and order forms."""
    found = [
        *_menu(context),
        f"/plugins/{subjects.plugin_id}",
        f"/orders/{subjects.order_id}",
        f"/plugins/{subjects.plugin_id}/guide",
        f"/plugins/{subjects.shopify_id}",
        f"/plugins/{subjects.shopify_id}/guide",
        f"/products/{subjects.product_id}",
        "/plugins/new?connector=shopify",
        "/orders/new",
        "/integrations/custom",
        "/settings/webhooks/events",
    ]
    if subjects.customer_id is not None:
        found.append(f"/customers/{subjects.customer_id}")
    return found


def _open(page: Any, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("networkidle")


def test_no_page_scrolls_sideways_on_a_phone(signed_in: Any, subjects: Subjects) -> None:
    page = signed_in.new_page()
    page.set_viewport_size(PHONE)
    wide = {}
    for path in _pages(signed_in, subjects):
        _open(page, path)
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        if widths["scroll"] != widths["inner"]:
            wide[path] = widths
            screenshot(page, "phone-too-wide" + path.replace("/", "-"))
    screenshot(page, "phone-order")
    assert wide == {}


def test_the_menu_folds_on_a_phone_and_opens_from_the_keyboard(signed_in: Any) -> None:
    from playwright.sync_api import expect

    page = signed_in.new_page()
    page.set_viewport_size(PHONE)
    _open(page, "/")
    orders_link = page.locator("nav#nav").get_by_role("link", name="Orders", exact=True)
    expect(orders_link).to_be_hidden()
    bell = page.locator("#bell")
    expect(bell).to_be_visible()
    box = bell.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    toggle = page.locator(".menu-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(orders_link).to_be_visible()
    screenshot(page, "phone-menu-open")
    orders_link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/orders")
    expect(page.locator("nav#nav").get_by_role("link", name="Orders", exact=True)).to_be_hidden()

    # On a wide screen the menu is simply there.
    page.set_viewport_size(DESKTOP)
    expect(page.locator("nav#nav").get_by_role("link", name="Orders", exact=True)).to_be_visible()
    expect(page.locator(".menu-toggle")).to_be_hidden()


def test_the_first_tab_stop_skips_to_the_content(signed_in: Any) -> None:
    page = signed_in.new_page()
    for path in ("/", "/orders"):
        _open(page, path)
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "({text: document.activeElement.textContent.trim(),"
            " href: document.activeElement.getAttribute('href'),"
            " visible: document.activeElement.getBoundingClientRect().width > 0})"
        )
        assert focused == {"text": "Skip to content", "href": "#main", "visible": True}, path
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"


def test_every_page_is_served_with_its_favicon(signed_in: Any, served: Served) -> None:
    failed: list[str] = []
    page = signed_in.new_page()
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    _open(page, "/")
    icon = page.get_attribute("link[rel=icon]", "href")
    assert icon
    for path in (icon, "/favicon.ico"):
        answer = page.request.get(path)
        assert answer.status == 200, path
        assert answer.headers["content-type"].startswith("image/"), path
    signed_out = page.context.browser.new_context(base_url=served.url)
    try:
        login = signed_out.new_page()
        login.goto("/login")
        assert login.get_attribute("link[rel=icon]", "href") == icon
        assert login.request.get("/favicon.ico").status == 200
    finally:
        signed_out.close()
    assert failed == []


def _violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(result => result.violations.map(v => v.id + ': ' + v.nodes.slice(0, 4)"
        ".map(n => n.target.join(' ') + ' — ' + n.failureSummary.split('\\n').slice(1)"
        ".join(' ')).join(' | ')))",
        WCAG_21_AA,
    )
    return list(found)


@pytest.mark.parametrize(
    ("scheme", "viewport"),
    [("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE)],
    ids=["light", "dark", "phone"],
)
def test_axe_finds_no_wcag_21_aa_violation(
    browser: Any,
    served: Served,
    subjects: Subjects,
    scheme: str,
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(base_url=served.url, viewport=viewport, color_scheme=scheme)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page)
        report = {}
        for path in _pages(context, subjects):
            _open(page, path)
            found = _violations(page)
            if found:
                report[path] = found
                screenshot(page, f"axe-{scheme}-{viewport['width']}" + path.replace("/", "-"))
        assert report == {}, "\n".join(
            f"{path}: {violation}" for path, found in report.items() for violation in found
        )
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_sign_in_page_passes_too(
    browser: Any, served: Served, viewport: dict[str, int]
) -> None:
    context = browser.new_context(base_url=served.url, viewport=viewport)
    try:
        page = context.new_page()
        _open(page, "/login")
        assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]
        assert _violations(page) == []
        # No menu to skip here: the user name field has the focus from the start.
        assert page.evaluate("document.activeElement.name") == "username"
    finally:
        context.close()
