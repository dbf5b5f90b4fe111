"""Fixing what is flagged where it is flagged (issue 16, part 2), in the browser: a guest
order's missing buyer data fixed from its notification resolves the notification, and
the order shows what was typed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import Served, sign_in
from tests.fakes import FakeConnector
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vocabulary import Toggle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_fixing_a_guest_orders_buyer_data_resolves_its_notification(
    page: Any, served: Served
) -> None:
    from playwright.sync_api import expect

    stamp = uuid.uuid4().hex[:6]
    with served.hub.db.unit_of_work() as session:
        channel = factories.channel(session, f"Guests {stamp}")
        plugin = factories.plugin(served.hub, session, f"guests-{stamp}", channel_id=channel.id)
        order_id = orders.import_order(
            session,
            plugin.id,
            factories.order_in(f"G{stamp}", ("MUG", 1), email="", shipping_address=None),
        ).order.id
        # The order is in; the plugin (no store behind it) has nothing more to sync.
        plugins.set_toggle(session, FakeConnector.info, plugin.id, Toggle.IMPORT_ORDERS, False)

    sign_in(page)
    page.goto("/notifications")
    notice = page.locator("[data-notification]", has_text=f"order #G{stamp}")
    expect(notice).to_have_count(1)
    notice.locator("summary", has_text="Fix the buyer data").click()
    form = notice.locator("form[action$='/contact']")
    for name, value in {
        "email": f"guest-{stamp}@example.com",
        "ship_first_name": "Grace",
        "ship_last_name": "Hopper",
        "ship_address1": "1 Navy Way",
        "ship_city": "Arlington",
        "ship_postal_code": "22201",
        "ship_country_code": "US",
    }.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()

    expect(page.locator("[data-notification]", has_text=f"order #G{stamp}")).to_have_count(0)
    with served.hub.db.read() as session:
        still = notifications.open_notifications(
            session, kind=NotificationKind.MISSING_CUSTOMER_FIELDS
        )
        assert all(n.subject != f"order #G{stamp}" for n in still)
    page.goto(f"/orders/{order_id}")
    expect(page.locator("#missing-fields")).to_have_count(0)
    expect(page.locator("#customer")).to_contain_text("1 Navy Way")
    expect(page.locator("#customer")).to_contain_text(f"guest-{stamp}@example.com")
