"""The orders list in the UI (issue 16, part 1): newest first with numbered pages, the
merchant's days in their time zone (chosen, else the browser's), sortable columns, the
CSV export of what is filtered, and actions on the selected orders."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from tests import factories
from tests.web.conftest import Browser
from tradewind.core.orders import service as orders
from tradewind.core.orders.listing import Placed, placed_range
from tradewind.core.orders.models import OrderStatus
from tradewind.core.orders.schemas import ImportOptions
from tradewind.hub import Hub

NUMBER = re.compile(r'href="/orders/\d+">([A-Z]\d{3})<')


def _orders(hub: Hub, count: int, *, channel: str = "Wholesale") -> list[int]:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with hub.db.unit_of_work() as session:
        channel_id = factories.channel(session, channel).id
        return [
            factories.placed_order(
                session,
                channel_id,
                f"D{day:03}",
                start + dt.timedelta(hours=day),
                price=str(day + 1),
            ).id
            for day in range(count)
        ]


def test_newest_first_with_numbered_pages_first_and_last(admin: Browser, hub: Hub) -> None:
    _orders(hub, 60)
    first = admin.get("/orders?size=25").text
    newest = [f"D{day:03}" for day in reversed(range(60))]
    assert NUMBER.findall(first) == newest[:25]
    assert "60 orders · page 1 of 3" in first
    last = re.search(r'href="([^"]+)">Last »', first)
    assert last is not None
    third = admin.get(last.group(1).replace("&amp;", "&")).text
    assert NUMBER.findall(third) == newest[50:]
    assert 'aria-current="page">3<' in third and "« First" in third
    assert NUMBER.findall(admin.get("/orders?size=25&page=2").text) == newest[25:50]
    assert NUMBER.findall(admin.get("/orders?size=999").text) == newest[:50]  # sizes: 25/50/100


def test_a_column_sorts_both_ways(admin: Browser, hub: Hub) -> None:
    _orders(hub, 5)
    ascending = admin.get("/orders?sort=total").text
    assert NUMBER.findall(ascending) == ["D000", "D001", "D002", "D003", "D004"]
    assert 'aria-sort="ascending"' in ascending
    flip = re.search(r'href="([^"]+)" data-sort="total"', ascending)
    assert flip is not None and "sort=-total" in flip.group(1)
    assert NUMBER.findall(admin.get("/orders?sort=-total").text)[0] == "D004"


def _around_midnight(hub: Hub, zone: ZoneInfo) -> None:
    """One order just after the zone's midnight today, one just before it."""
    start, _ = placed_range(Placed.TODAY, zone)
    with hub.db.unit_of_work() as session:
        channel_id = factories.channel(session, "Tz").id
        factories.placed_order(session, channel_id, "T001", start + dt.timedelta(minutes=1))
        factories.placed_order(session, channel_id, "Y001", start - dt.timedelta(minutes=1))


def test_today_is_the_browsers_day_until_a_zone_is_chosen(admin: Browser, hub: Hub) -> None:
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    _around_midnight(hub, kiritimati)
    admin.client.cookies.set("tw_tz", "Pacific%2FKiritimati")  # as tz.js sends it
    today = admin.get("/orders?placed=today").text
    assert NUMBER.findall(today) == ["T001"]
    assert NUMBER.findall(admin.get("/orders?placed=yesterday").text) == ["Y001"]
    # The local time is shown, the UTC one in the tooltip.
    shown = re.search(r'<time datetime="[^"]+" title="([^"]+ UTC)">([^<]+)</time>', today)
    assert shown is not None and shown.group(2).endswith("+14")
    assert "times in Pacific/Kiritimati" in today
    # A zone chosen wins over the browser's: in UTC, both are on the same UTC day or not.
    assert admin.post("/account/time-zone", {"zone": "Pacific/Pago_Pago"}).status_code == 303
    pago = admin.get("/orders?placed=today").text
    assert "times in Pacific/Pago_Pago" in pago
    assert "T001" not in NUMBER.findall(pago)  # 25 hours behind Kiritimati: not its today
    refused = admin.post("/account/time-zone", {"zone": "Mars/Olympus"})
    assert refused.status_code == 422


def test_the_time_zone_setting_is_in_the_menu_of_every_page(admin: Browser) -> None:
    """Issue 16: the time zone was linked from the orders list only."""
    for path in ("/", "/products", "/settings/webhooks", "/account"):
        shown = admin.get(path).text
        assert 'id="nav-time-zone"' in shown and 'href="/account/time-zone"' in shown, path
    chosen = admin.get("/account/time-zone").text
    assert re.search(r'<a href="/account/time-zone" id="nav-time-zone" class="active">', chosen)
    assert admin.post("/account/time-zone", {"zone": "Europe/Oslo"}).status_code == 303
    assert re.search(r'id="who-time-zone">Europe/Oslo</a>', admin.get("/").text)


def test_a_custom_range_is_whole_local_days(admin: Browser, hub: Hub) -> None:
    _orders(hub, 30)  # D000 at 1 Nov 00:00 UTC, one an hour
    page = admin.get("/orders?placed=custom&placed_from=2026-11-01&placed_to=2026-11-01").text
    assert NUMBER.findall(page) == [f"D{h:03}" for h in reversed(range(24))]


def test_the_export_is_every_filtered_order_as_csv(
    admin: Browser, hub: Hub, viewer: Browser
) -> None:
    _orders(hub, 60)
    with hub.db.unit_of_work() as session:
        factories.placed_order(
            session,
            factories.channel(session, "Retail").id,
            "X001",
            dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
            email="x@example.com",
            name=("Xe", "Li"),
        )
    page = admin.get("/orders?q=D0&sort=total").text
    link = re.search(r'href="(/orders/export\.csv[^"]*)" id="export-csv"', page)
    assert link is not None
    answer = admin.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["number"] for row in rows] == [f"D{n:03}" for n in range(60)]  # all pages
    assert viewer.get("/orders/export.csv?q=X0").text.count("X001") == 1
    anonymous = admin.client.__class__(admin.client.app)
    assert anonymous.get("/orders/export.csv", follow_redirects=False).status_code == 303


def test_bulk_cancel_retry_export_and_rematch(admin: Browser, hub: Hub, viewer: Browser) -> None:
    ids = _orders(hub, 3)
    with hub.db.unit_of_work() as session:
        factories.product(session, "LAMP")
    with hub.db.unit_of_work() as session:
        channel_id = factories.channel(session, "Barcodes").id
        plugin = factories.plugin(hub, session, "by-barcode", channel_id=channel_id)
        # The plugin matches by barcode only: its LAMP line waits while a LAMP exists.
        waiting = orders.import_order(
            session,
            plugin.id,
            factories.order_in("U001", ("LAMP", 1)),
            ImportOptions(match_by=("barcode",)),
        ).order
        assert waiting.missing_product
    data = {"action": "cancel", "order_id": [str(i) for i in ids[:2]], "back": "/orders?q=D"}
    assert viewer.post("/orders/bulk", data).status_code == 403
    missing_csrf = admin.client.post("/orders/bulk", data=data, follow_redirects=False)
    assert missing_csrf.status_code == 403
    done = admin.post("/orders/bulk", data)
    assert done.status_code == 303 and done.headers["location"] == "/orders?q=D"
    assert "Cancelled: 2 order(s)" in admin.get(done.headers["location"]).text
    with hub.db.read() as session:
        states = [orders.get_order(session, i).status for i in ids]
    assert states == [OrderStatus.CANCELLED, OrderStatus.CANCELLED, OrderStatus.OPEN]
    again = admin.post("/orders/bulk", {"action": "cancel", "order_id": str(ids[0])})
    assert "already cancelled" in admin.get(again.headers["location"]).text
    # No plugin exports orders for the channel: the export is left, with why.
    retry = admin.post("/orders/bulk", {"action": "retry_export", "order_id": str(ids[2])})
    assert "no single plugin" in admin.get(retry.headers["location"]).text
    imported = admin.post("/orders/bulk", {"action": "retry_export", "order_id": str(waiting.id)})
    assert "imported from a platform" in admin.get(imported.headers["location"]).text
    matched = admin.post("/orders/bulk", {"action": "rematch", "order_id": str(waiting.id)})
    shown = admin.get(matched.headers["location"]).text
    assert "Matched again: 1 order(s) (#U001)" in shown
    with hub.db.read() as session:
        assert not orders.get_order(session, waiting.id).missing_product
    unmatched = admin.post("/orders/bulk", {"action": "rematch", "order_id": str(waiting.id)})
    assert "every line is matched" in admin.get(unmatched.headers["location"]).text
    nothing = admin.post("/orders/bulk", {"action": "rematch", "back": "/orders"})
    assert "Select at least one order" in admin.get(nothing.headers["location"]).text
