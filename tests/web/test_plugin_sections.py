"""The plugin page fits on a screen (issue 16, part 3): an index of its sections, the 3
newest alerts and a link to the rest, executions filtered, paged and summarised, the
channel's stock with the last push, and charts with dated, readable labels."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.fakes import FakeConnector
from tests.web.conftest import Browser
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.executions import Execution
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.models import StockSyncState
from tradewind.web.views.plugin_panels import EXECUTIONS_PER_PAGE, STOCK_PRODUCTS_PER_PAGE


@pytest.fixture
def plugin_id(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session,
            hub.vault,
            FakeConnector.info,
            name="sections",
            config={"shop": "sections", "api_token": "tok-sections-1"},
        )
        return plugin.id


def _last_hour() -> dt.datetime:
    """Ten past the start of the previous hour: inside the charts' 24 hours, one slot."""
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    return hour - dt.timedelta(minutes=50)


def _executions(hub: Hub, plugin_id: int, rows: list[tuple[str, str, float]]) -> None:
    """(operation, outcome, duration) rows a second apart, the last one newest."""
    start = _last_hour()
    with hub.db.unit_of_work() as session:
        for index, (operation, outcome, duration) in enumerate(rows):
            session.add(
                Execution(
                    plugin_id=plugin_id,
                    operation=operation,
                    started_at=start + dt.timedelta(seconds=index),
                    duration_ms=duration,
                    outcome=outcome,
                    http_status=200 if outcome == "success" else 500,
                    error="" if outcome == "success" else f"boom {index}",
                )
            )


def test_the_index_links_every_section_and_the_old_anchors_stay(
    admin: Browser, plugin_id: int
) -> None:
    text = admin.get(f"/plugins/{plugin_id}").text
    index = re.search(r'<nav class="page-index".*?</nav>', text, re.S)
    assert index is not None
    targets = re.findall(r'href="([^"]+)">([^<]+)</a>', index.group(0))
    assert [label for _, label in targets] == [
        "Overview",
        "Sync",
        "Order rules",
        "Stock",
        "Mappings",
        "Executions",
        "Guide",
    ]
    for href, _ in targets[:-1]:
        assert f'id="{href[1:]}"' in text, href
    assert targets[-1][0] == f"/plugins/{plugin_id}/guide"
    for kept in ("locations", "backfills", "rules", "products", "channels", "stock", "history"):
        assert f'id="{kept}"' in text, kept


def test_only_the_three_newest_alerts_show_with_a_link_to_the_rest(
    hub: Hub, admin: Browser, plugin_id: int
) -> None:
    with hub.db.unit_of_work() as session:
        for number in range(5):
            notifications.raise_notification(
                session,
                NotificationKind.PLATFORM_UNAVAILABLE,
                subject=f"problem {number}",
                message=f"problem number {number}",
                plugin_id=plugin_id,
            )
        notifications.raise_notification(
            session, NotificationKind.PLATFORM_UNAVAILABLE, subject="other", message="elsewhere"
        )
    text = admin.get(f"/plugins/{plugin_id}").text
    notes = re.search(r'<div id="plugin-notes">.*?</div>\s*(?:<p>.*?</p>)?</div>', text, re.S)
    assert notes is not None
    assert len(re.findall(r"data-notification=", notes.group(0))) == 3
    more = re.search(r'<a href="([^"]+)" id="more-notes">([^<]+)</a>', text)
    assert more is not None and more.group(2) == "2 more"
    assert more.group(1) == f"/notifications?plugin_id={plugin_id}"
    listed = admin.get(more.group(1)).text
    assert len(re.findall(r"data-notification=", listed)) == 5
    assert "elsewhere" not in listed and "elsewhere" in admin.get("/notifications").text


def test_executions_filter_by_outcome_and_operation_with_a_summary(
    hub: Hub, admin: Browser, plugin_id: int
) -> None:
    rows = [("orders.read", "success", float(ms)) for ms in range(10, 110, 10)]
    rows += [("stock.push", "failed", 500.0), ("stock.push", "success", 40.0)]
    _executions(hub, plugin_id, rows)
    summary = admin.get(f"/plugins/{plugin_id}/executions").text
    assert 'data-calls="12" data-failures="1"' in summary
    failed = admin.get(f"/plugins/{plugin_id}/executions", params={"outcome": "failed"}).text
    assert 'data-calls="1" data-failures="1"' in failed
    assert "boom 10" in failed and "orders.read" not in failed
    reads = admin.get(
        f"/plugins/{plugin_id}/executions", params={"outcome": "ok", "operation": "orders.read"}
    ).text
    assert 'data-calls="10" data-failures="0"' in reads
    # 10, 20 … 100 ms: the inclusive median is 55, the 95th percentile 95.5.
    assert "p50 55 ms · p95 96 ms" in reads
    assert "stock.push</td>" not in reads
    # The page itself takes the same query (no JavaScript) and offers the operations.
    page = admin.get(f"/plugins/{plugin_id}", params={"outcome": "failed"}).text
    assert 'data-calls="1" data-failures="1"' in page
    assert '<option value="stock.push"' in page and '<option value="failed" selected' in page


def test_filtered_executions_put_the_pages_address_in_the_address_bar(
    hub: Hub, admin: Browser, plugin_id: int
) -> None:
    """The filter (and the pager) answers with HX-Push-Url: the plugin page's own address
    for that view, the page's other parameters kept, so it can be linked and reloaded."""
    _executions(
        hub, plugin_id, [(f"op.{n}", "failed", 1.0) for n in range(EXECUTIONS_PER_PAGE + 1)]
    )
    filtered = admin.client.get(
        f"/plugins/{plugin_id}/executions",
        params={"outcome": "failed", "operation": "", "page": "2"},
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"http://testserver/plugins/{plugin_id}?decision=skipped&page=1",
        },
    )
    pushed = filtered.headers["hx-push-url"]
    assert pushed == f"/plugins/{plugin_id}?decision=skipped&outcome=failed&page=2#history"
    reloaded = admin.get(pushed.split("#")[0]).text
    assert '<option value="failed" selected' in reloaded and "Page 2 of 2" in reloaded
    cleared = admin.client.get(
        f"/plugins/{plugin_id}/executions", params={"outcome": ""}, headers={"HX-Request": "true"}
    )
    assert cleared.headers["hx-push-url"] == f"/plugins/{plugin_id}#history"


def test_executions_are_paged_newest_first(hub: Hub, admin: Browser, plugin_id: int) -> None:
    total = EXECUTIONS_PER_PAGE + 3
    _executions(hub, plugin_id, [(f"op.{n}", "success", 1.0) for n in range(total)])
    first = admin.get(f"/plugins/{plugin_id}/executions").text
    assert first.count("data-execution=") == EXECUTIONS_PER_PAGE
    assert f"Page 1 of 2 · {total} executions" in first
    assert f"op.{total - 1}</td>" in first and "op.0</td>" not in first
    following = re.search(r'hx-get="(/plugins/\d+/executions\?[^"]+)"[^>]*rel="next"', first)
    assert following is not None
    second = admin.get(following.group(1).replace("&amp;", "&")).text
    assert second.count("data-execution=") == 3
    assert "op.0</td>" in second and "Page 2 of 2" in second and 'rel="next"' not in second
    assert 'rel="prev"' in second


def test_the_channel_stock_lists_available_and_the_last_push_per_location(
    hub: Hub, admin: Browser, plugin_id: int
) -> None:
    pushed_at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        plugin.stock_buffer = 1
        warehouse = inventory.create_warehouse(session, "MAIN")
        links.sync_locations(session, plugin_id, [("loc-1", "Back room"), ("loc-2", "Shop")])
        links.map_location(session, plugin_id, "loc-1", warehouse_id=warehouse.id)
        mug = catalog.create_product(session, ProductIn(sku="MUG", title="Mug"))
        cup = catalog.create_product(session, ProductIn(sku="CUP", title="Cup"))
        catalog.create_product(session, ProductIn(sku="LOOSE", title="Not on the channel"))
        inventory.receive(session, mug.id, warehouse.id, 10)
        links.link_product(session, plugin_id, mug.id, "v-mug")
        session.add(
            StockSyncState(
                plugin_id=plugin_id,
                product_id=mug.id,
                location_ref="loc-1",
                pushed=7,
                platform_quantity=6,
                pushed_at=pushed_at,
            )
        )
        links.link_product(session, plugin_id, cup.id, "v-cup")
    text = admin.get(f"/plugins/{plugin_id}/channel-stock").text
    rows = re.findall(r'<tr data-product="([^"]+)" data-location="([^"]+)"', text)
    assert rows == [("CUP", "loc-1"), ("MUG", "loc-1")]  # the mapped location only
    mug_row = re.search(r'data-product="MUG".*?</tr>', text, re.S)
    assert mug_row is not None
    cells = dict(re.findall(r'<td class="([a-z-]+)">(.*?)</td>', mug_row.group(0), re.S))
    assert cells["available"] == "9"  # 10 on hand less the buffer of 1
    assert cells["pushed"].startswith("7") and "to send" in cells["pushed"]
    assert cells["held"] == "6"
    assert "2026-12-01 09:30 UTC" in cells["pushed-at"]
    cup_row = re.search(r'data-product="CUP".*?</tr>', text, re.S)
    assert cup_row is not None and "never" in cup_row.group(0)
    assert "LOOSE" not in text
    assert 'id="channel-stock"' in admin.get(f"/plugins/{plugin_id}").text


def test_the_channel_stock_is_paged(hub: Hub, admin: Browser, plugin_id: int) -> None:
    with hub.db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, "MAIN")
        links.sync_locations(session, plugin_id, [("loc-1", "Back room")])
        links.map_location(session, plugin_id, "loc-1", warehouse_id=warehouse.id)
        for n in range(STOCK_PRODUCTS_PER_PAGE + 2):
            product = catalog.create_product(session, ProductIn(sku=f"P{n:03}", title="P"))
            links.link_product(session, plugin_id, product.id, f"v-{n}")
    first = admin.get(f"/plugins/{plugin_id}/channel-stock").text
    assert first.count("<tr data-product=") == STOCK_PRODUCTS_PER_PAGE
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = admin.get(f"/plugins/{plugin_id}/channel-stock", params={"stock_page": 2}).text
    assert re.findall(r'data-product="([^"]+)"', second) == [
        f"P{STOCK_PRODUCTS_PER_PAGE:03}",
        f"P{STOCK_PRODUCTS_PER_PAGE + 1:03}",
    ]


def test_the_charts_have_dated_hour_labels_and_a_tooltip_per_point(
    hub: Hub, admin: Browser, plugin_id: int
) -> None:
    _executions(hub, plugin_id, [("orders.read", "success", 20.0), ("orders.read", "failed", 80.0)])
    text = admin.get(f"/plugins/{plugin_id}").text
    hour = _last_hour().replace(minute=0)
    label = f"{hour:%b} {hour.day} {hour:%H:00}"
    charts = re.findall(r'<svg class="chart".*?</svg>', text, re.S)
    assert len(charts) == 2
    success, latency = charts
    assert f"<title>{label}: 50.0%</title>" in success
    assert f"<title>p95 {label}:" in latency and f"<title>p50 {label}:" in latency
    for chart in charts:  # the hour axis is dated
        ticks = re.findall(r'<text[^>]*class="tick"[^>]*>([^<]+)</text>', chart)
        dated = [t for t in ticks if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} \d\d:00", t)]
        assert len(dated) >= 4, ticks
    css = admin.get("/static/app.css").text
    assert "svg.chart .tick { font-size: 11px;" in css
    assert re.search(r"\.chart-wrap svg\.chart \{ min-width: 560px; \}", css)
    assert 'viewBox="0 0 560 180"' in success  # drawn no smaller than its own units


def test_every_htmx_request_but_the_bell_poll_shows_the_busy_indicator(
    admin: Browser, plugin_id: int
) -> None:
    text = admin.get(f"/plugins/{plugin_id}").text
    body = re.search(r"<body[^>]*>", text)
    assert body is not None and 'hx-indicator="#busy"' in body.group(0)
    assert re.search(
        r'<div id="busy" class="htmx-indicator" role="status"[^>]*>Working…</div>', text
    )
    bell = re.search(r'<span hx-get="/fragments/bell"[^>]*>', text)
    assert bell is not None and 'hx-indicator="#bell-quiet"' in bell.group(0)
    assert 'id="bell-quiet"' in text
    css = admin.get("/static/app.css").text
    assert ".htmx-request .htmx-indicator, .htmx-request.htmx-indicator { opacity: 1;" in css
