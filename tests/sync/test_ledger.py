"""The ledger: coalescing, priorities, leases, completion once, recovery after a crash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests import factories
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork, WorkKind, WorkState


def _plugin(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        return factories.plugin(hub, session, import_orders=False).id


def _rows(hub: Hub) -> list[SyncWork]:
    with hub.db.read() as session:
        return list(session.scalars(select(SyncWork).order_by(SyncWork.id)))


def test_pending_work_coalesces_and_keeps_its_earliest_due_time(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, "7", delay=30)
    first = _rows(hub)[0].not_before
    before = utcnow()
    for delay in (30, 60, 5):
        with hub.db.unit_of_work() as session:
            ledger.enqueue(
                session, plugin, WorkKind.PUSH_STOCK, "7", delay=delay, payload={"n": delay}
            )
    (row,) = _rows(hub)
    assert row.payload == {"n": 5}
    # An earlier need moves it forward, to its own due time (however long this took);
    # the later ones (30, 60) never moved it back.
    assert before + dt.timedelta(seconds=5) <= row.not_before < first


def test_work_claimed_by_priority_then_due_time(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.BACKFILL, "1")
        ledger.enqueue(session, plugin, WorkKind.POLL_ORDERS, "orders")
        ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "A")
        ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, "9", delay=60)  # not due
    order = []
    while True:
        with hub.db.unit_of_work() as session:
            token, rows = ledger.claim(session, plugin, limit=100)
            if not rows:
                break
            order.append(rows[0].kind)
            ledger.complete(session, [r.id for r in rows], token)
    assert order == [WorkKind.IMPORT_ORDER, WorkKind.POLL_ORDERS, WorkKind.BACKFILL]


def test_a_due_stock_push_takes_every_pending_push_along(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, "1")
        for product in range(2, 6):
            ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, str(product), delay=30)
    with hub.db.unit_of_work() as session:
        _, rows = ledger.claim(session, plugin, limit=3)
    assert [row.key for row in rows] == ["1", "2", "3"]


def test_new_work_while_running_waits_beside_it_and_completion_happens_once(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, "1")
    with hub.db.unit_of_work() as session:
        token, (row,) = ledger.claim(session, plugin)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.PUSH_STOCK, "1")  # a change during the push
    assert sorted(r.state for r in _rows(hub)) == [WorkState.PENDING, WorkState.RUNNING]
    with hub.db.unit_of_work() as session:
        assert ledger.complete(session, [row.id], "someone-else") == 0
        assert ledger.complete(session, [row.id], token) == 1
        assert ledger.complete(session, [row.id], token) == 0


def test_work_of_a_dead_worker_returns_to_pending(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "A")
        ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "B")
    with hub.db.unit_of_work() as session:
        token_a, _ = ledger.claim(session, plugin)
        token_b, _ = ledger.claim(session, plugin)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "B")  # B asked again meanwhile
    later = utcnow() + dt.timedelta(seconds=ledger.LEASE_SECONDS + 1)
    with hub.db.unit_of_work() as session:
        assert ledger.recover_stale(session, now=later) == 2
    by_key: dict[str, list[WorkState]] = {}
    for row in _rows(hub):
        by_key.setdefault(row.key, []).append(row.state)
    assert by_key["A"] == [WorkState.PENDING]  # retried
    assert sorted(by_key["B"]) == [WorkState.DONE, WorkState.PENDING]  # the twin covers it
    with hub.db.unit_of_work() as session:  # the dead worker's late completion is refused
        assert ledger.complete(session, [r.id for r in _rows(hub)], token_a) == 0
    with hub.db.read() as session:
        attempts = session.scalar(select(func.max(SyncWork.attempts)))
        assert attempts == 1
    del token_b


def test_one_drainer_per_plugin_at_a_time(hub: Hub) -> None:
    plugin = _plugin(hub)
    with hub.db.unit_of_work() as session:
        assert ledger.acquire_lease(session, plugin, "w1", seconds=60)
    with hub.db.unit_of_work() as session:
        assert not ledger.acquire_lease(session, plugin, "w2", seconds=60)
        assert ledger.acquire_lease(session, plugin, "w1", seconds=60)  # renewal
    with hub.db.unit_of_work() as session:
        ledger.release_lease(session, plugin, "w1")
    with hub.db.unit_of_work() as session:
        assert ledger.acquire_lease(session, plugin, "w2", seconds=0)
    with hub.db.unit_of_work() as session:  # an expired lease is taken over
        assert ledger.acquire_lease(session, plugin, "w3", seconds=60)
