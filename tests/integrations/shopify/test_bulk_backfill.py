"""Sync historical orders by bulk operation: a range of more orders than the plugin's
``bulk_threshold`` is read by one ``bulkOperationRunQuery`` (no REST pages), polled by
its id, its JSONL streamed in chunks from the saved read position; a short range still
pages. A bulk order maps to the very record a REST page gives; a row that does not map
is skipped with its reason; progress follows the read position."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World
from tests.sync.conftest import time_passes
from tradewind.app import actions
from tradewind.app.configure import configure_plugin
from tradewind.app.present import backfill_row_out
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import OrderQuery
from tradewind.core.orders.models import Order
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.integrations.shopify import bulk as shopify_bulk
from tradewind.sandbox.shopify.bulk import Status
from tradewind.sync.models import Backfill, BackfillState
from tradewind.sync.runtime import CallBuffer, open_connector


def _history(world: World, count: int) -> list[dict[str, Any]]:
    """``count`` orders placed before the plugin was enabled, that only a backfill brings
    in (their webhooks are dropped and the poll leaves them out)."""
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    placed = [world.sandbox.place_order(world.shop, [("MUG", 1)]) for _ in range(count)]
    with world.hub.db.unit_of_work() as session:
        plugin = session.get(type(world.plugin()), world.plugin_id)
        assert plugin is not None
        plugin.enabled_at = utcnow() + dt.timedelta(seconds=30)
    return placed


def _threshold(world: World, value: int) -> None:
    configure_plugin(world.hub, ShopifyConnector.info, world.plugin_id, {"bulk_threshold": value})


def _backfill(world: World) -> int:
    run = actions.start_backfill(
        world.hub, world.plugin_id, utcnow() - dt.timedelta(hours=1), utcnow()
    )
    return run.id


def _run(world: World, run_id: int) -> Backfill:
    with world.hub.db.read() as session:
        found = session.get(Backfill, run_id)
        assert found is not None
        session.expunge(found)
        return found


def _finish(world: World, run_id: int, rounds: int = 40) -> Backfill:
    """Drain, letting the export's poll delays pass, until the run is over."""
    for _ in range(rounds):
        world.settle()
        found = _run(world, run_id)
        if found.state is not BackfillState.RUNNING:
            return found
        time_passes(world.hub)
    raise AssertionError("the backfill did not finish")


def _bulk_starts(world: World) -> list[str]:
    return [
        request.body["query"]
        for request in world.sandbox.requests(world.shop, "graphql.json")
        if "bulkOperationRunQuery" in str((request.body or {}).get("query"))
    ]


def _order_lists(world: World) -> int:
    return sum(
        1
        for request in world.sandbox.requests(world.shop, "orders.json")
        if request.method == "GET"
    )


def _imported(world: World, external_ids: list[str]) -> dict[str, int]:
    with world.hub.db.read() as session:
        rows = session.execute(
            select(Order.external_id, func.count())
            .where(Order.plugin_id == world.plugin_id, Order.external_id.in_(external_ids))
            .group_by(Order.external_id)
        ).all()
    return {str(external): int(count) for external, count in rows}


def test_a_long_range_is_read_by_one_bulk_operation_not_pages(world: World) -> None:
    placed = _history(world, 12)
    _threshold(world, 5)
    world.settle()
    lists_before = _order_lists(world)
    run_id = _backfill(world)
    done = _finish(world, run_id)

    assert done.state is BackfillState.DONE
    assert (done.route, done.total_estimate) == ("bulk", 12)
    assert done.imported == 12 and done.skipped == 0
    assert len(_bulk_starts(world)) == 1
    assert _order_lists(world) == lists_before  # no orders.json page was read
    ids = [str(order["id"]) for order in placed]
    assert _imported(world, ids) == dict.fromkeys(ids, 1)
    assert done.export_id is not None and done.export_status == "completed"
    assert done.export_size and done.export_offset == done.export_size
    assert backfill_row_out(done).progress == 1.0


def test_a_short_range_still_pages(world: World) -> None:
    placed = _history(world, 3)
    world.settle()
    run_id = _backfill(world)
    done = _finish(world, run_id)
    assert (done.state, done.route, done.imported) == (BackfillState.DONE, "pages", 3)
    assert _bulk_starts(world) == []
    ids = [str(order["id"]) for order in placed]
    assert _imported(world, ids) == dict.fromkeys(ids, 1)


def test_an_export_finished_while_tradewind_was_away_is_polled_not_started_again(
    world: World,
) -> None:
    _history(world, 4)
    _threshold(world, 1)
    world.settle()
    runner = world.sandbox.sandbox.bulk
    runner.hold()  # the operation stays CREATED until stepped
    try:
        run_id = _backfill(world)
        world.settle()
        started = _run(world, run_id)
        assert started.export_id is not None and started.export_status == "running"
        assert started.read_fraction is None
        # Tradewind is away; the export finishes meanwhile
        runner.step(2)
        op = int(started.export_id.rsplit("/", 1)[1])
        assert runner.wait_for(op, Status.COMPLETED) is Status.COMPLETED
    finally:
        runner.release()
    done = _finish(world, run_id)
    assert done.state is BackfillState.DONE and done.imported == 4
    assert done.export_id == started.export_id
    assert len(_bulk_starts(world)) == 1
    polls = [
        request
        for request in world.sandbox.requests(world.shop, "graphql.json")
        if "BulkPoll" in str((request.body or {}).get("query"))
    ]
    assert polls and all(p.body["variables"]["id"] == started.export_id for p in polls)


def test_a_lost_start_answer_adopts_the_running_export(world: World) -> None:
    """The mutation went through but its answer never came back: the next try finds the
    same query in progress and follows that operation rather than failing or starting a
    second."""
    _history(world, 3)
    runner = world.sandbox.sandbox.bulk
    runner.hold()
    try:
        plugin = world.plugin()
        connector = open_connector(world.hub, plugin, CallBuffer())
        assert isinstance(connector, ShopifyConnector)
        query = OrderQuery(
            field="created_at", since=utcnow() - dt.timedelta(hours=1), until=utcnow()
        )
        first = connector.start_order_export(query)
        again = connector.start_order_export(query)
        assert again.id == first.id and again.status == "running"
        other = OrderQuery(field="created_at", since=utcnow() - dt.timedelta(days=2))
        with pytest.raises(Exception, match="another bulk query"):
            connector.start_order_export(other)
        connector.close()
    finally:
        runner.release()
    assert len(_bulk_starts(world)) == 3


def test_a_poison_row_is_skipped_with_its_reason_and_the_rest_imported(world: World) -> None:
    placed = _history(world, 4)
    _threshold(world, 1)
    world.settle()
    victim = f'"gid://shopify/Order/{placed[1]["id"]}"'.encode()

    def garble(body: bytes) -> bytes:
        rows = body.split(b"\n")
        return b"\n".join(
            re.sub(rb'"processedAt":"[^"]*"', b'"processedAt":"last tuesday"', row)
            if row.startswith(b'{"id":' + victim)
            else row
            for row in rows
        )

    runner = world.sandbox.sandbox.bulk
    runner.hold()
    try:
        run_id = _backfill(world)
        world.settle()
        export_id = _run(world, run_id).export_id
        assert export_id is not None
        op = int(export_id.rsplit("/", 1)[1])
        runner.step(2)
        assert runner.wait_for(op, Status.COMPLETED) is Status.COMPLETED
        runner.tamper(op, garble)
    finally:
        runner.release()
    done = _finish(world, run_id)
    assert (done.state, done.imported, done.skipped) == (BackfillState.DONE, 3, 1)
    (skip,) = done.skips
    assert skip["id"] == str(placed[1]["id"])
    assert skip["reason"].startswith("unreadable order: ValueError")
    ids = [str(order["id"]) for i, order in enumerate(placed) if i != 1]
    assert _imported(world, ids) == dict.fromkeys(ids, 1)


def test_a_bulk_order_is_the_record_a_rest_page_gives(world: World) -> None:
    """Every field the import reads, for an order fulfilled in part, one refunded with a
    restock, one cancelled, one held for review, and one of a guest."""
    shipped = world.sandbox.place_order(world.shop, [("MUG", 2), ("PLATE", 1)], tags="vip, gift")
    groups = world.admin("GET", f"orders/{shipped['id']}/fulfillment_orders")
    world.admin(
        "POST",
        "fulfillments",
        {
            "fulfillment": {
                "tracking_info": {"number": "1Z999", "company": "UPS"},
                "line_items_by_fulfillment_order": [
                    {
                        "fulfillment_order_id": groups["fulfillment_orders"][0]["id"],
                        "fulfillment_order_line_items": [
                            {
                                "id": groups["fulfillment_orders"][0]["line_items"][0]["id"],
                                "quantity": 1,
                            }
                        ],
                    }
                ],
            }
        },
    )
    refunded = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.admin(
        "POST",
        f"orders/{refunded['id']}/refunds",
        {
            "refund": {
                "note": "broken",
                "refund_line_items": [
                    {
                        "line_item_id": refunded["line_items"][0]["id"],
                        "quantity": 1,
                        "restock_type": "return",
                        "location_id": world.location_id(),
                    }
                ],
            }
        },
    )
    cancelled = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.admin("POST", f"orders/{cancelled['id']}/cancel", {"reason": "customer"})
    held = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.sandbox.hold_order(world.shop, held["id"], notes="card checks")
    world.sandbox.place_order(world.shop, [("PLATE", 2)], guest=True)

    connector = open_connector(world.hub, world.plugin(), CallBuffer())
    assert isinstance(connector, ShopifyConnector)
    query = OrderQuery(field="created_at", since=utcnow() - dt.timedelta(hours=1), until=utcnow())
    listed = connector.list_orders(query, None, Priority.BACKGROUND)
    paged = {record.external_id: record for record in listed.records}
    export = connector.start_order_export(query)
    op = int(export.id.rsplit("/", 1)[1])
    assert world.sandbox.sandbox.bulk.wait_for(op, Status.COMPLETED) is Status.COMPLETED
    export = connector.order_export(export.id)
    assert export.url is not None and export.size
    chunks = list(connector.read_order_export(export.url, 0, 2))
    connector.close()
    assert [len(chunk.records) for chunk in chunks] == [2, 2, 1]
    assert chunks[-1].end == export.size
    bulk = {record.external_id: record for chunk in chunks for record in chunk.records}
    assert set(bulk) == set(paged) and len(bulk) == 5
    for external_id, record in paged.items():
        assert bulk[external_id] == record, external_id
    assert bulk[str(held["id"])].review_hold.startswith("high_risk_of_fraud")
    assert bulk[str(shipped["id"])].fulfillments[0].lines[0].quantity == 1
    assert bulk[str(refunded["id"])].refunds[0].lines[0].restock


def test_reading_from_a_saved_position_neither_repeats_nor_skips(world: World) -> None:
    placed = [world.sandbox.place_order(world.shop, [("MUG", 1), ("PLATE", 1)]) for _ in range(5)]
    connector = open_connector(world.hub, world.plugin(), CallBuffer())
    assert isinstance(connector, ShopifyConnector)
    query = OrderQuery(field="created_at", since=utcnow() - dt.timedelta(hours=1), until=utcnow())
    export = connector.start_order_export(query)
    op = int(export.id.rsplit("/", 1)[1])
    assert world.sandbox.sandbox.bulk.wait_for(op, Status.COMPLETED) is Status.COMPLETED
    url = connector.order_export(export.id).url
    assert url is not None
    first = next(connector.read_order_export(url, 0, 2))
    rest = list(connector.read_order_export(url, first.end, 2))
    connector.close()
    seen = [r.external_id for r in first.records] + [
        r.external_id for chunk in rest for r in chunk.records
    ]
    assert seen == [str(order["id"]) for order in placed]


def test_a_row_that_does_not_map_is_skipped_with_its_reason(world: World) -> None:
    rows = [
        b'{"id":"gid://shopify/Order/1","legacyResourceId":"1","name":"#1",'
        b'"createdAt":"2026-12-01T10:00:00Z","updatedAt":"2026-12-01T10:00:00Z",'
        b'"displayFinancialStatus":"PAID","displayFulfillmentStatus":"UNFULFILLED"}\n',
        b'{"id":"gid://shopify/LineItem/11","sku":"MUG","quantity":1,'
        b'"__parentId":"gid://shopify/Order/1"}\n',
        b'{"id":"gid://shopify/Order/2","legacyResourceId":"2","name":"#2"}\n',  # no dates
        b"{not json\n",
        b'{"id":"gid://shopify/Order/3","legacyResourceId":"3","name":"#3",'
        b'"createdAt":"2026-12-01T10:00:00Z","displayFinancialStatus":"PENDING"}\n',
    ]
    positions = [sum(len(row) for row in rows[:index]) for index in range(len(rows))]
    chunks = list(shopify_bulk._chunks(iter(zip(positions, rows, strict=True)), 500))
    (chunk,) = chunks
    assert [record.external_id for record in chunk.records] == ["1", "3"]
    assert chunk.records[0].lines[0].sku == "MUG"
    reasons = dict(chunk.skipped)
    assert reasons["2"].startswith("unreadable order: KeyError")
    assert reasons[f"byte {positions[3]}"].startswith("unreadable line")
    assert chunk.end == sum(len(row) for row in rows)
