"""Shadow mode in the engine (issue 15, part 6), against Fake Market: a plugin in shadow
judges orders without creating them, compares stock without pushing it, and keeps every
other kind of work that writes waiting (unclaimed, not kicked) until it goes live; going
live makes it import from that moment and runs what waited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.sync.conftest import Shop
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.errors import Conflict
from tradewind.sync import decisions, ledger, shadow
from tradewind.sync.decisions import Decision
from tradewind.sync.handlers import HANDLERS, SHADOW, handler_for
from tradewind.sync.handlers.shadow import CompareStock
from tradewind.sync.models import RUNS_IN_SHADOW, SHADOW_WAITS, WorkKind
from tradewind.sync.schedule import sweep
from tradewind.sync.shadow import WaitingWork

# Every kind of work that writes to the platform, or makes customers or shipments here.
WRITES = {
    WorkKind.PUSH_STOCK,
    WorkKind.PUSH_SHIPMENT,
    WorkKind.CANCEL_SHIPMENT,
    WorkKind.EXPORT_ALL_CUSTOMERS,
    WorkKind.EXPORT_ORDER,
    WorkKind.CANCEL_ORDER,
    WorkKind.EXPORT_RETURN,
    WorkKind.EXPORT_CUSTOMER,
    WorkKind.EXPORT_PRODUCT,
    WorkKind.IMPORT_CUSTOMERS,
    WorkKind.RUN_HOOK,
    WorkKind.COMMIT_TAX,
    WorkKind.REFUND_TAX,
    WorkKind.PUSH_FULFILMENT,
    WorkKind.IMPORT_SHIPMENTS,
    WorkKind.GAP_REPORT,
}
# Every kind that runs in shadow: it reads the platform or keeps Tradewind's own books
# (and the webhook subscriptions, without which a plugin in shadow would hear nothing).
READS = {
    WorkKind.WEBHOOK,
    WorkKind.IMPORT_ORDER,
    WorkKind.POLL_ORDERS,
    WorkKind.PROBE_ORDERS,
    WorkKind.CHECK_AUTH,
    WorkKind.BACKFILL,
    WorkKind.SYNC_PRODUCTS,
    WorkKind.REFRESH_LOCATIONS,
    WorkKind.ENSURE_WEBHOOKS,
    WorkKind.SYNC_LISTINGS,
    WorkKind.GET_RATES,
    WorkKind.CALCULATE_TAX,
    WorkKind.TRACK_SHIPMENT,
    WorkKind.POLL_TRACKING,
    WorkKind.POLL_FULFILMENT,
    WorkKind.CHECK_SILENCE,
}


def _in_shadow(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, shop.plugin_id)
        plugin.shadow_since = utcnow() - dt.timedelta(hours=1)


def _run(shop: Shop, kind: WorkKind, *keys: str) -> None:
    with shop.hub.db.unit_of_work() as session:
        for key in keys:
            ledger.enqueue(session, shop.plugin_id, kind, key)
    shop.harness.run(shop.plugin_id)


def _orders(shop: Shop) -> int:
    with shop.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_every_kind_of_work_that_writes_waits_or_is_compared_in_shadow() -> None:
    assert set(SHADOW) == {WorkKind.PUSH_STOCK}
    assert isinstance(handler_for(WorkKind.PUSH_STOCK, in_shadow=True), CompareStock)
    assert WRITES - {WorkKind.PUSH_STOCK} == SHADOW_WAITS
    assert RUNS_IN_SHADOW.isdisjoint(SHADOW_WAITS)
    # A new kind of work must be put on one side or the other here, knowingly.
    assert set(WorkKind) == WRITES | READS and not WRITES & READS
    for kind in WorkKind:
        assert handler_for(kind, in_shadow=False) is HANDLERS[kind]


def test_orders_are_judged_not_created_and_stock_is_compared_not_pushed(shop: Shop) -> None:
    _in_shadow(shop)
    shop.market.add_order("A1")
    shop.market.add_order("A2", sku="NOPE", quantity=2)
    shop.market.add_order("A3", financial_status="pending")
    _run(shop, WorkKind.IMPORT_ORDER, "A1", "A2", "A3")
    _run(shop, WorkKind.PUSH_STOCK, *(str(i) for i in shop.products.values()))
    assert _orders(shop) == 0
    assert shop.market.calls["POST /inventory"] == 0
    with shop.hub.db.read() as session:
        found = shadow.report(session, shop.plugin_id)
        latest = decisions.latest(session, shop.plugin_id, "A1")
        assert latest is not None and latest.decision is Decision.WOULD_IMPORT
        assert latest.code == "shadow" and "Go live" in decisions.fix_for(latest.code)
    assert (found.orders_seen, found.would_import) == (3, 2)
    assert [(s.external_id, s.code) for s in found.skipped] == [("A3", "unpaid")]
    assert (found.unmatched_lines, found.unmatched_skus) == (1, ("NOPE",))
    # MUG and PLATE at loc-1, the mapped location; Fake Market cannot be asked its stock.
    assert [
        (d.sku, d.location_ref, d.would_push, d.platform_quantity) for d in found.stock_differences
    ] == [
        ("MUG", "loc-1", 20, None),
        ("PLATE", "loc-1", 20, None),
    ]


def test_work_that_writes_waits_unkicked_and_runs_once_live(shop: Shop) -> None:
    _in_shadow(shop)
    _run(shop, WorkKind.PUSH_SHIPMENT, "1", "2")
    assert sum(count for call, count in shop.market.calls.items() if "GET" not in call) == 0
    with shop.hub.db.read() as session:
        assert ledger.depth(session, shop.plugin_id) == {WorkKind.PUSH_SHIPMENT: 2}
        found = shadow.report(session, shop.plugin_id)
    assert found.writes_waiting == (WaitingWork("push_shipment", 2),)
    kicked: list[int] = []
    assert shop.plugin_id not in sweep(shop.hub, lambda plugin, _: kicked.append(plugin)).kicked
    with shop.hub.db.unit_of_work() as session:
        plugins.go_live(session, shop.plugin_id)
    assert shop.plugin_id in sweep(shop.hub, lambda plugin, _: kicked.append(plugin)).kicked
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:  # run now (no such shipments: closed as refused)
        assert WorkKind.PUSH_SHIPMENT not in ledger.depth(session, shop.plugin_id)


def test_going_live_sets_the_enable_time_and_orders_import_from_then(shop: Shop) -> None:
    _in_shadow(shop)
    shop.market.add_order("B1", placed_at=utcnow() - dt.timedelta(minutes=5))
    _run(shop, WorkKind.IMPORT_ORDER, "B1")
    before = utcnow()
    with shop.hub.db.unit_of_work() as session:
        live = plugins.go_live(session, shop.plugin_id)
        assert not live.in_shadow and live.enabled_at is not None and live.enabled_at >= before
    shop.market.add_order("B2")
    _run(shop, WorkKind.IMPORT_ORDER, "B1", "B2")
    with shop.hub.db.read() as session:
        old = decisions.latest(session, shop.plugin_id, "B1")
        new = decisions.latest(session, shop.plugin_id, "B2")
        assert old is not None and new is not None
        assert (old.decision, old.code) == (Decision.SKIPPED, "placed_before_enabled")
        assert new.decision is Decision.IMPORTED
    assert _orders(shop) == 1


def test_only_a_plugin_never_live_enters_shadow(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session, pytest.raises(Conflict, match="live since"):
        plugins.enter_shadow(session, shop.plugin_id)
    with shop.hub.db.unit_of_work() as session, pytest.raises(Conflict, match="not in shadow"):
        plugins.go_live(session, shop.plugin_id)
