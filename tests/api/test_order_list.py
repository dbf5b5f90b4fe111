"""The orders list in the API (issue 16, part 1): the UI's filters (``placed_from``,
``placed_to``, ``placed`` in a ``tz``, statuses, flagged, search), ``sort`` with cursor
pages per sort, the count, the streamed CSV export and the bulk actions."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests import factories
from tests.api.conftest import Api
from tests.api.test_resources import problem_of
from tradewind.app import orders as order_actions
from tradewind.core.orders import listing
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import ImportOptions
from tradewind.core.plugins.models import PluginState, PluginToggle
from tradewind.hub import Hub
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.vocabulary import FinancialStatus, Toggle

BASE = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def made(hub: Hub) -> dict[str, int]:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Wholesale").id
        factories.product(session, "MUG")
        found = {
            number: factories.placed_order(
                session,
                channel,
                number,
                BASE + dt.timedelta(days=day),
                price=price,
                email=f"{number.lower()}@example.com",
                **extra,
            ).id
            for number, day, price, extra in (
                ("A1", 0, "30", {}),
                ("A2", 1, "5", {"sku": "UNKNOWN-SKU"}),
                ("A3", 2, "12", {"financial_status": FinancialStatus.PAID}),
                ("A4", 3, "20", {}),
            )
        }
        return {"channel": channel, **found}


def _numbers(api: Api, **params: object) -> list[str]:
    answer = api.get("/orders", params=params)
    assert answer.status_code == 200, answer.text
    return [item["number"] for item in answer.json()["items"]]


def test_filters_by_placed_range_status_flag_and_search(api: Api, made: dict[str, int]) -> None:
    assert _numbers(api) == ["A4", "A3", "A2", "A1"]
    day = dt.timedelta(days=1)
    assert _numbers(
        api, placed_from=(BASE + day).isoformat(), placed_to=(BASE + 3 * day).isoformat()
    ) == ["A3", "A2"]
    assert _numbers(api, placed_from="2026-11-22T12:00:00") == ["A4", "A3"]  # no offset: UTC
    assert _numbers(api, financial_status="paid") == ["A3"]
    assert _numbers(api, flagged="missing_product") == ["A2"]
    assert _numbers(api, search="unknown-sku") == ["A2"]
    assert _numbers(api, search="a1@") == ["A1"]
    counted = api.get("/orders", params={"channel_id": made["channel"], "limit": 1})
    assert counted.headers["x-total-count"] == "4"
    assert len(counted.json()["items"]) == 1


def test_placed_today_is_a_day_in_the_zone_given(api: Api, hub: Hub) -> None:
    zone = ZoneInfo("Pacific/Kiritimati")
    start, _ = listing.placed_range(listing.Placed.TODAY, zone)
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Tz").id
        factories.placed_order(session, channel, "T1", start + dt.timedelta(minutes=5))
        factories.placed_order(session, channel, "Y1", start - dt.timedelta(minutes=5))
    assert _numbers(api, placed="today", tz="Pacific/Kiritimati") == ["T1"]
    assert _numbers(api, placed="yesterday", tz="Pacific/Kiritimati") == ["Y1"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("total", ["A2", "A3", "A4", "A1"]),
        ("-total", ["A1", "A4", "A3", "A2"]),
        ("number", ["A1", "A2", "A3", "A4"]),
        ("placed_at", ["A1", "A2", "A3", "A4"]),
        ("-customer", ["A4", "A3", "A2", "A1"]),  # guests: by email
    ],
)
def test_each_sort_pages_by_cursor_without_skipping(
    api: Api, made: dict[str, int], sort: str, expected: list[str]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/orders", params=params).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A cursor belongs to its sort.
        other = "number" if sort != "number" else "total"
        problem_of(api.get("/orders", params={"sort": other, "cursor": cursor}), 422)
    assert seen == expected


def test_bad_input_is_a_problem_not_a_500(api: Api) -> None:
    for params in (
        {"sort": "colour"},
        {"tz": "Mars/Olympus"},
        {"placed": "today", "placed_from": "2026-11-01T00:00:00Z"},
        {"placed_from": "2026-11-02T00:00:00Z", "placed_to": "2026-11-01T00:00:00Z"},
        {"cursor": "not-a-cursor"},
        {"flagged": "sad"},
    ):
        problem_of(api.get("/orders", params=params), 422)


def test_the_csv_export_is_every_filtered_order(api: Api, made: dict[str, int], hub: Hub) -> None:
    answer = api.get("/orders/export.csv", params={"sort": "total"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == order_actions.CSV_HEADER
    assert [row[1] for row in rows[1:]] == ["A2", "A3", "A4", "A1"]
    filtered = api.get("/orders/export.csv", params={"financial_status": "paid"}).text
    assert [row["number"] for row in csv.DictReader(io.StringIO(filtered))] == ["A3"]
    local = list(
        csv.DictReader(
            io.StringIO(
                api.get("/orders/export.csv", params={"search": "A1", "tz": "Asia/Tokyo"}).text
            )
        )
    )
    assert local[0]["placed_at_local"] == "2026-11-20T21:00:00+09:00"
    # Streamed: a chunk per keyset batch, every order once.
    chunks = list(order_actions.export_csv(hub, listing.OrderFilter(), batch=3))
    assert len(chunks) == 3  # the header, 3 orders, 1 order
    assert "".join(chunks).count("@example.com") == 4


def test_the_export_needs_a_token(api: Api) -> None:
    assert api.client.get("/api/v1/orders/export.csv").status_code == 401


def test_bulk_actions_need_write_and_say_what_they_left(
    api: Api, reader_api: Api, made: dict[str, int], hub: Hub
) -> None:
    body = {"order_ids": [made["A1"], made["A2"]], "reason": "duplicate"}
    problem_of(reader_api.post("/orders/bulk/cancel", json=body), 403)
    done = api.post("/orders/bulk/cancel", json=body).json()
    assert done == {"done": ["A1", "A2"], "skipped": {}}
    again = api.post("/orders/bulk/cancel", json={"order_ids": [made["A1"]]}).json()
    assert again["skipped"] == {"A1": "already cancelled"}
    assert _numbers(api, status="cancelled") == ["A2", "A1"]
    # A plugin of the channel exporting orders: the retry queues the order's export.
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, "exporter", channel_id=made["channel"])
        plugin.state = PluginState.ACTIVE
        session.add(PluginToggle(plugin_id=plugin.id, toggle=Toggle.EXPORT_ORDERS))
        plugin_id = plugin.id
    retried = api.post("/orders/bulk/retry-export", json={"order_ids": [made["A3"], made["A1"]]})
    assert retried.json() == {"done": ["A3"], "skipped": {"A1": "cancelled"}}
    with hub.db.read() as session:
        queued = session.scalars(
            select(SyncWork.key).where(
                SyncWork.plugin_id == plugin_id, SyncWork.kind == WorkKind.EXPORT_ORDER
            )
        ).all()
    assert str(made["A3"]) in queued
    problem_of(api.post("/orders/bulk/explode", json={"order_ids": [1]}), 422)
    problem_of(api.post("/orders/bulk/cancel", json={"order_ids": []}), 422)


def test_bulk_rematch_matches_the_lines_that_wait(api: Api, hub: Hub) -> None:
    """POST /orders/bulk/rematch matches an open order's lines to the catalog as it is now."""
    with hub.db.unit_of_work() as session:
        factories.product(session, "LAMP")
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Barcodes").id
        plugin = factories.plugin(hub, session, "by-barcode", channel_id=channel)
        # The plugin matches by barcode only: its LAMP line waits while a LAMP exists.
        waiting = orders.import_order(
            session,
            plugin.id,
            factories.order_in("U001", ("LAMP", 1)),
            ImportOptions(match_by=("barcode",)),
        ).order.id
    matched = api.post("/orders/bulk/rematch", json={"order_ids": [waiting]})
    assert matched.json() == {"done": ["#U001"], "skipped": {}}
    with hub.db.read() as session:
        assert not orders.get_order(session, waiting).missing_product
    again = api.post("/orders/bulk/rematch", json={"order_ids": [waiting]}).json()
    assert again["skipped"] == {"#U001": "every line is matched"}
