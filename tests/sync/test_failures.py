"""The failure policy, one case at a time, each followed by recovery on the same flow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.fakeplatform import TOKEN
from tests.sync.conftest import Shop, time_passes
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.db import utcnow
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import drain
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import SyncWork, WorkKind, WorkState


def _ask_for(shop: Shop, order_id: str, delivery: str) -> None:
    shop.market.add_order(order_id)
    answer = Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook(order_id, delivery=delivery)
    )
    assert answer.status == 200


def _work(shop: Shop) -> SyncWork:
    with shop.hub.db.read() as session:
        return session.scalars(select(SyncWork).order_by(SyncWork.id.desc())).first()  # type: ignore[return-value]


def _imported(shop: Shop, order_id: str) -> bool:
    with shop.hub.db.read() as session:
        return orders.find_imported(session, shop.plugin_id, order_id) is not None


def _open(shop: Shop, kind: NotificationKind) -> list[notifications.Notification]:
    with shop.hub.db.read() as session:
        return notifications.open_notifications(session, plugin_id=shop.plugin_id, kind=kind)


def test_rate_limited_waits_for_retry_after_without_counting_an_attempt(shop: Shop) -> None:
    shop.market.fail_next(429, retry_after=7)
    _ask_for(shop, "r1", "d1")
    before = utcnow()
    shop.harness.run(shop.plugin_id)
    after = utcnow()
    work = _work(shop)
    assert (work.state, work.attempts, work.throttled) == (WorkState.PENDING, 0, 1)
    retry_after = dt.timedelta(seconds=7)  # counted from the answer, however slow the run
    assert before + retry_after <= work.not_before <= after + retry_after
    assert shop.harness.run(shop.plugin_id) == 0  # not before its time
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "r1")
    with shop.hub.db.read() as session:
        outcomes = [e.outcome for e in executions.recent(session, shop.plugin_id)]
        assert outcomes[-1] == "rate_limited" and outcomes[0] == "success"


def test_persistent_throttling_becomes_a_notification_that_clears(shop: Shop) -> None:
    shop.market.fail_next(429, times=drain.THROTTLE_NOTICE_AFTER, retry_after=30)
    _ask_for(shop, "r2", "d2")
    for _ in range(drain.THROTTLE_NOTICE_AFTER):
        time_passes(shop.hub)
        shop.harness.run(shop.plugin_id, rounds=1)
    assert _open(shop, NotificationKind.RATE_LIMITED)
    assert not _imported(shop, "r2")
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "r2")
    assert _open(shop, NotificationKind.RATE_LIMITED) == []


def test_unavailable_backs_off_marks_failing_never_disables_and_recovers(shop: Shop) -> None:
    shop.market.fail_next(503, times=drain.FAILING_AFTER_ATTEMPTS)
    _ask_for(shop, "u1", "d3")
    delays = []
    for attempt in range(1, drain.FAILING_AFTER_ATTEMPTS + 1):
        shop.harness.run(shop.plugin_id, rounds=1)
        work = _work(shop)
        assert work.attempts == attempt and "HTTP 503" in work.last_error
        delays.append((work.not_before - utcnow()).total_seconds())
        time_passes(shop.hub)
    assert delays[0] < delays[1] < delays[2] <= drain.BACKOFF_CAP_SECONDS * 1.25
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is PluginState.FAILING
    (note,) = _open(shop, NotificationKind.PLATFORM_UNAVAILABLE)
    assert "nothing is lost" in note.message
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "u1")
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is PluginState.ACTIVE
    assert _open(shop, NotificationKind.PLATFORM_UNAVAILABLE) == []


def test_an_outage_holds_until_the_platform_answers_and_its_notice_reopens(shop: Shop) -> None:
    """#10 item 23: a batch that never calls the platform (a webhook turned into work)
    proves nothing about an outage: the plugin stays failing and *platform unavailable*
    stays open until a call is answered. When the outage comes back, the same notice
    reopens instead of a new one being raised (a 503 burst made eleven, open ≤ 1 s each)."""
    shop.market.fail_next(503, times=1000, path_prefix="/orders")

    def fail_three_times(order_id: str, delivery: str) -> None:
        _ask_for(shop, order_id, delivery)
        for _ in range(drain.FAILING_AFTER_ATTEMPTS):
            time_passes(shop.hub)
            shop.harness.run(shop.plugin_id, rounds=1)

    fail_three_times("o1", "d-o1")
    (note,) = _open(shop, NotificationKind.PLATFORM_UNAVAILABLE)
    inbox = Inbox(shop.hub)
    for number in range(3):  # webhooks keep arriving; their work needs no platform call
        headers, body = shop.market.webhook("", delivery=f"app-{number}", topic="app/scopes")
        assert inbox.accept(shop.plugin_id, "app/scopes", headers, body).status == 200
        assert shop.harness.run(shop.plugin_id) == 1  # the webhook; the import waits
        with shop.hub.db.read() as session:
            assert plugins.get_plugin(session, shop.plugin_id).state is PluginState.FAILING
        assert [n.id for n in _open(shop, NotificationKind.PLATFORM_UNAVAILABLE)] == [note.id]
    shop.market.clear_faults()
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "o1")
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is PluginState.ACTIVE
    assert _open(shop, NotificationKind.PLATFORM_UNAVAILABLE) == []
    shop.market.fail_next(503, times=1000, path_prefix="/orders")  # the outage is back
    fail_three_times("o2", "d-o2")
    (again,) = _open(shop, NotificationKind.PLATFORM_UNAVAILABLE)
    assert again.id == note.id and again.occurrences > note.occurrences
    assert again.read_at is None
    with shop.hub.db.read() as session:
        every = session.scalars(
            select(notifications.Notification).where(
                notifications.Notification.kind == NotificationKind.PLATFORM_UNAVAILABLE
            )
        ).all()
    assert len(every) == 1


def test_lost_authorization_pauses_work_and_resumes_it_by_itself(shop: Shop) -> None:
    shop.market.token = "rotated-elsewhere"
    _ask_for(shop, "a1", "d4")
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        plugin = plugins.get_plugin(session, shop.plugin_id)
        assert plugin.state is PluginState.NEEDS_REAUTHORIZATION
        assert "HTTP 401" in plugin.last_error
    (note,) = _open(shop, NotificationKind.AUTHORIZATION_LOST)
    assert note.action.value == "reauthorize"
    _ask_for(shop, "a2", "d5")  # more work arrives while paused: kept, not run
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert not _imported(shop, "a1") and not _imported(shop, "a2")
    with shop.hub.db.read() as session:
        kinds = {
            w.kind
            for w in session.scalars(select(SyncWork).where(SyncWork.state == WorkState.PENDING))
        }
        assert kinds == {WorkKind.IMPORT_ORDER, WorkKind.CHECK_AUTH}
    shop.market.token = TOKEN  # the merchant fixed it on the platform side
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "a1") and _imported(shop, "a2")
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is PluginState.ACTIVE
    assert _open(shop, NotificationKind.AUTHORIZATION_LOST) == []


def test_a_rejected_record_is_recorded_and_the_rest_continues(shop: Shop) -> None:
    _ask_for(shop, "ok-1", "d6")
    shop.market.add_order("broken", currency="EURO")  # the platform sends garbage for it
    Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook("broken", delivery="d7")
    )
    _ask_for(shop, "ok-2", "d8")
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "ok-1") and _imported(shop, "ok-2")
    with shop.hub.db.read() as session:
        failed = session.scalars(select(SyncWork).where(SyncWork.state == WorkState.FAILED)).all()
        assert [w.key for w in failed] == ["broken"]
        assert "currency" in failed[0].last_error
    (note,) = _open(shop, NotificationKind.RECORD_REJECTED)
    assert "import_order broken" in note.subject


def test_an_import_conflict_holds_order_import_until_the_channels_are_fixed(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        other = channels.create_channel(session, "Second")
        plugins.attach(session, shop.plugin_id, other.id)
    _ask_for(shop, "c1", "d9")
    shop.harness.run(shop.plugin_id)
    assert not _imported(shop, "c1")
    work = _work(shop)
    assert work.state is WorkState.PENDING and work.attempts == 0
    with shop.hub.db.unit_of_work() as session:
        plugins.detach(session, shop.plugin_id, other.id)
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop, "c1")


def test_every_call_is_an_execution_with_hourly_success_rate_and_latency(shop: Shop) -> None:
    shop.market.fail_next(503)
    _ask_for(shop, "e1", "d10")
    shop.harness.run(shop.plugin_id)
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        (hour,) = executions.hourly_stats(
            session, shop.plugin_id, since=utcnow() - dt.timedelta(hours=1)
        )
        assert (hour.calls, hour.successes) == (2, 1)
        assert 0 < hour.p50_ms <= hour.p95_ms
        recent = executions.recent(session, shop.plugin_id)
        assert {(e.operation, e.outcome, e.http_status) for e in recent} == {
            ("orders.get", "success", 200),
            ("orders.get", "unavailable", 503),
        }
        assert executions.purge(session, now=utcnow() + dt.timedelta(days=31)) == 1
        assert executions.purge(session, now=utcnow() + dt.timedelta(days=121)) == 1
