"""The orders list in a browser (issue 16, part 1): in a browser whose zone is 14 hours
ahead of UTC (so today there is not today in UTC), "Today" shows exactly today's orders
in that zone with no zone chosen (the browser's is taken); the Total column sorts both
ways; Export CSV downloads the filtered list; a bulk cancel asks first, and does
nothing when the question is dismissed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.browser.conftest import Served, screenshot, sign_in
from tradewind.core.orders import service as orders
from tradewind.core.orders.listing import Placed, placed_range
from tradewind.core.orders.models import OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ZONE = "Pacific/Kiritimati"  # UTC+14


@pytest.fixture
def zoned_page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(
        base_url=served.url,
        viewport={"width": 1280, "height": 900},
        timezone_id=ZONE,
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def placed(served: Served) -> tuple[int, dict[str, int]]:
    """A channel of its own: two orders today in the zone, one a minute before it."""
    stamp = int(time.time() * 1000) % 1_000_000
    start, _ = placed_range(Placed.TODAY, ZoneInfo(ZONE))
    with served.hub.db.unit_of_work() as session:
        channel_id = factories.channel(session, f"Zoned {stamp}").id
        made = {
            name: factories.placed_order(
                session,
                channel_id,
                f"Z{stamp}-{name}",
                start + dt.timedelta(minutes=minutes),
                price=price,
            ).id
            for name, minutes, price in (("A", 1, "40"), ("B", 2, "15"), ("Y", -1, "99"))
        }
    return channel_id, {f"Z{stamp}-{name}": order_id for name, order_id in made.items()}


def _shown(page: Any) -> list[str]:
    return list(
        page.locator("#orders-table tbody tr[data-order] a[href^='/orders/']").all_inner_texts()
    )


def test_today_sort_export_and_bulk_cancel(
    zoned_page: Any, served: Served, placed: tuple[int, dict[str, int]]
) -> None:
    page = zoned_page
    channel_id, made = placed
    a, b, _ = made
    sign_in(page)
    page.goto(f"/orders?channel_id={channel_id}")
    assert sorted(_shown(page)) == sorted(made)
    page.select_option("#placed", "today")
    page.click("#order-filters button[type=submit]")
    page.wait_for_url("**placed=today**")
    assert _shown(page) == [b, a]  # newest first
    assert f"times in {ZONE}" in page.inner_text("#orders-summary")
    title = page.locator("tr[data-order] time").first.get_attribute("title")
    assert title is not None and title.endswith("UTC")
    screenshot(page, "orders-today")

    page.click("a[data-sort=total]")
    page.wait_for_url("**sort=total**")
    assert _shown(page) == [b, a]  # 15, then 40
    page.click("a[data-sort=total]")
    page.wait_for_url("**sort=-total**")
    assert _shown(page) == [a, b]

    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["number"] for row in rows] == [a, b]  # the filter and the sort, not Y

    page.check(f"tr[data-order='{made[a]}'] input[name=order_id]")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#bulk-cancel")
    assert asked and "Cancel 1 selected order(s)?" in asked[0]
    with served.hub.db.read() as session:
        assert orders.get_order(session, made[a]).status is OrderStatus.OPEN
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-cancel")
    page.wait_for_selector("text=Cancelled: 1 order(s)")
    with served.hub.db.read() as session:
        assert orders.get_order(session, made[a]).status is OrderStatus.CANCELLED
        assert orders.get_order(session, made[b]).status is OrderStatus.OPEN
    assert "placed=today" in page.url  # back on the same list
    screenshot(page, "orders-bulk-cancelled")
