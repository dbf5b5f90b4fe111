"""Silence is an alarm: webhooks quiet for longer than the plugin's own usual rate
allows, while the platform shows orders changed meanwhile, raise *Webhooks silent*, have
the subscriptions checked and the reconciliation poll run (which imports what was
missed); a quiet store is no alarm, and deliveries arriving again resolve it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update

from tests.sync.conftest import Shop
from tradewind.db import utcnow
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sync import ledger, schedule, silence
from tradewind.sync.models import InboxDelivery, SyncSchedule, SyncWork, WorkKind


def _history(shop: Shop, *, per_hour: int, hours: int, until: dt.datetime) -> None:
    """Deliveries at ``per_hour`` an hour for ``hours`` hours, the last at ``until``."""
    start = until - dt.timedelta(hours=hours)
    step = dt.timedelta(hours=1) / per_hour
    rows = [
        {
            "plugin_id": shop.plugin_id,
            "delivery_id": f"d{until.timestamp():.0f}-{n}",
            "topic": "orders/updated",
            "headers": {},
            "body": b"{}",
            "received_at": start + step * n,
            "processed_at": start + step * n,
            "outcome": "order",
        }
        for n in range(per_hour * hours + 1)
    ]
    with shop.hub.db.unit_of_work() as session:
        session.execute(insert(InboxDelivery), rows)


def _check_now(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.CHECK_SILENCE, "silence")
    shop.harness.run(shop.plugin_id)


def _silent_notices(shop: Shop) -> list[Notification]:
    with shop.hub.db.read() as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.kind == NotificationKind.WEBHOOKS_SILENT)
            )
        )


def test_the_usual_rate_sets_how_long_a_silence_must_be(shop: Shop) -> None:
    now = utcnow()
    _history(shop, per_hour=12, hours=48, until=now - dt.timedelta(minutes=20))
    with shop.hub.db.read() as session:
        assert silence.silent(session, shop.plugin_id, now) is None  # 20 min: not yet
        found = silence.silent(session, shop.plugin_id, now + dt.timedelta(minutes=15))
        assert found is not None and round(found.usual_per_hour) == 12
        assert found.window == dt.timedelta(minutes=30)  # 6 deliveries' worth


def test_a_silence_while_orders_change_is_told_repaired_and_caught_up(shop: Shop) -> None:
    now = utcnow()
    _history(shop, per_hour=12, hours=48, until=now - dt.timedelta(hours=3))
    shop.market.add_order("QUIET1")  # changed on the platform, its webhook never came
    _check_now(shop)
    (notice,) = _silent_notices(shop)
    assert "usually 12.0 an hour" in notice.message and "#QUIET1" in notice.message
    with shop.hub.db.read() as session:
        from tradewind.core.orders import service as orders

        assert orders.find_imported(session, shop.plugin_id, "QUIET1") is not None  # the poll
        kinds = {w.kind for w in session.scalars(select(SyncWork))}
        assert WorkKind.POLL_ORDERS in kinds

    _history(shop, per_hour=1, hours=1, until=utcnow())  # deliveries arrive again
    _check_now(shop)
    (notice,) = _silent_notices(shop)
    assert notice.resolved_at is not None


def test_a_quiet_store_is_not_an_alarm(shop: Shop) -> None:
    _history(shop, per_hour=12, hours=48, until=utcnow() - dt.timedelta(hours=3))
    _check_now(shop)  # nothing changed on the platform either
    assert _silent_notices(shop) == []


def test_a_plugin_without_enough_webhooks_to_judge_is_not_judged(shop: Shop) -> None:
    now = utcnow()
    for n in range(4):  # one every 12 hours: six would take three days
        _history(shop, per_hour=1, hours=0, until=now - dt.timedelta(hours=5 + 12 * n))
    with shop.hub.db.read() as session:
        assert silence.silent(session, shop.plugin_id, now) is None


def test_the_check_is_scheduled_for_plugins_importing_by_webhook(shop: Shop) -> None:
    shop.harness.sweep()
    with shop.hub.db.unit_of_work() as session:
        (row,) = session.scalars(
            select(SyncSchedule).where(SyncSchedule.stream == schedule.SILENCE_STREAM)
        )
        assert row.next_run_at > utcnow()  # nothing to judge at once
        session.execute(
            update(SyncSchedule)
            .where(SyncSchedule.stream == schedule.SILENCE_STREAM)
            .values(next_run_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert shop.harness.sweep().polls_queued >= 1
    with shop.hub.db.read() as session:
        kinds = {w.kind for w in session.scalars(select(SyncWork))}
        assert WorkKind.CHECK_SILENCE in kinds
