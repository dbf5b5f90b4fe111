"""Orders in: webhooks (verified, stored, de-duplicated, re-read), reconciliation polls
with an overlap, filters, and backfills that checkpoint, skip and never stop."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.sync.conftest import Harness, Shop
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.db import utcnow
from tradewind.server import create_app
from tradewind.sync import ledger
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import Backfill, BackfillState, InboxDelivery, SyncWork, WorkKind
from tradewind.vocabulary import FinancialStatus, OrderStatus


def _orders(shop: Shop) -> dict[str, Order]:
    with shop.hub.db.read() as session:
        return {o.external_id or "": o for o in orders.list_orders(session, limit=10_000)}


def test_a_webhook_is_verified_stored_and_the_order_re_read(shop: Shop) -> None:
    shop.market.add_order("5001", quantity=2)
    client = TestClient(create_app(shop.hub))
    headers, body = shop.market.webhook("5001", delivery="d-1", topic="orders/create")
    response = client.post(f"/hooks/{shop.plugin_id}/orders/create", content=body, headers=headers)
    assert response.status_code == 200
    for _ in range(2):  # Shopify-style duplicate deliveries
        again = client.post(f"/hooks/{shop.plugin_id}/orders/create", content=body, headers=headers)
        assert again.json() == {"detail": "already received"}
    shop.harness.run(shop.plugin_id)
    assert list(_orders(shop)) == ["5001"]
    assert shop.market.calls["GET /orders/5001"] == 1
    with shop.hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(InboxDelivery)) == 1


@pytest.mark.parametrize(
    ("mutate", "status", "detail"),
    [
        (lambda h, b: ({**h, "X-Fake-Signature": "AAAA"}, b), 401, "signature"),
        (lambda h, b: (h, b + b"x"), 401, "signature"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "X-Fake-Delivery"}, b),
            400,
            "malformed",
        ),
    ],
    ids=["bad-signature", "tampered-body", "no-delivery-id"],
)
def test_bad_webhooks_are_refused_and_store_nothing(shop: Shop, mutate, status, detail) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(shop.hub))
    headers, body = mutate(*shop.market.webhook("1", delivery="d-1"))
    response = client.post(f"/hooks/{shop.plugin_id}/orders/updated", content=body, headers=headers)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    with shop.hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(InboxDelivery)) == 0
        assert session.scalar(select(func.count()).select_from(SyncWork)) == 0


def test_oversized_and_unknown_plugin_webhooks_are_refused(shop: Shop) -> None:
    client = TestClient(create_app(shop.hub))
    headers, _ = shop.market.webhook("1", delivery="d-1")
    huge = b"x" * (shop.hub.settings.webhook_max_bytes + 1)
    assert (
        client.post(f"/hooks/{shop.plugin_id}/t", content=huge, headers=headers).status_code == 413
    )
    assert client.post("/hooks/9999/t", content=b"{}", headers=headers).status_code == 404


def test_late_and_reordered_webhooks_leave_the_latest_state(shop: Shop) -> None:
    shop.market.add_order("5002")
    inbox = Inbox(shop.hub)
    created = shop.market.webhook("5002", delivery="d-create", topic="orders/create")
    shop.market.touch("5002", financial_status="refunded", status="cancelled")
    cancelled = shop.market.webhook("5002", delivery="d-cancel", topic="orders/cancelled")
    # the cancellation arrives first, the creation late
    assert inbox.accept(shop.plugin_id, "orders/cancelled", *cancelled).status == 200
    shop.harness.run(shop.plugin_id)
    assert "5002" not in _orders(shop)  # a cancelled order that was never imported stays out
    assert inbox.accept(shop.plugin_id, "orders/create", *created).status == 200
    shop.harness.run(shop.plugin_id)
    assert "5002" not in _orders(shop)  # the re-read sees the truth, not the stale payload


def test_updates_and_cancellations_flow_into_the_imported_order(shop: Shop) -> None:
    shop.market.add_order("5003", quantity=3)
    inbox = Inbox(shop.hub)
    inbox.accept(shop.plugin_id, "orders/create", *shop.market.webhook("5003", delivery="a"))
    shop.harness.run(shop.plugin_id)
    assert _orders(shop)["5003"].status is OrderStatus.OPEN
    shop.market.touch("5003", status="cancelled")
    inbox.accept(shop.plugin_id, "orders/cancelled", *shop.market.webhook("5003", delivery="b"))
    shop.harness.run(shop.plugin_id)
    assert _orders(shop)["5003"].status is OrderStatus.CANCELLED


def test_reconciliation_poll_finds_what_webhooks_missed_with_filters(shop: Shop) -> None:
    shop.market.page_size = 2
    for number in range(5):
        shop.market.add_order(f"60{number}")
    shop.market.add_order("unpaid", financial_status="pending")
    shop.market.add_order("test", test=True)
    shop.market.add_order("old", placed_at=utcnow() - dt.timedelta(days=30))
    report = shop.harness.sweep()
    assert report.polls_queued == 2  # the orders poll and the webhook probe
    shop.harness.run(shop.plugin_id)
    assert sorted(_orders(shop)) == ["600", "601", "602", "603", "604"]
    # the poll checkpointed page by page: 4 pages of 2 over 8 orders
    assert shop.market.calls["GET /orders"] == 4
    # a later payment makes the unpaid order importable; the next poll overlaps and sees it
    shop.market.touch("unpaid", financial_status="paid")
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.POLL_ORDERS, "orders")
    shop.harness.run(shop.plugin_id)
    imported = _orders(shop)
    assert "unpaid" in imported and imported["unpaid"].financial_status is FinancialStatus.PAID
    assert "test" not in imported and "old" not in imported


def test_backfill_imports_the_range_page_by_page_and_skips_bad_records(shop: Shop) -> None:
    shop.market.page_size = 3
    start = utcnow() - dt.timedelta(days=60)
    for number in range(8):
        shop.market.add_order(f"70{number}", placed_at=start + dt.timedelta(days=number))
    shop.market.add_order(
        "bad", placed_at=start + dt.timedelta(days=1, hours=1), currency="EURO"
    )  # malformed on the platform
    shop.market.add_order("outside", placed_at=start - dt.timedelta(days=5))
    with shop.hub.db.unit_of_work() as session:
        run = Backfill(plugin_id=shop.plugin_id, start=start, end=start + dt.timedelta(days=30))
        session.add(run)
        session.flush()
        ledger.enqueue(session, shop.plugin_id, WorkKind.BACKFILL, str(run.id))
        # live work queued at the same time goes first
        ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, "live-1")
    shop.market.add_order("live-1")
    with shop.hub.db.unit_of_work() as session:
        token, rows = ledger.claim(session, shop.plugin_id)
        assert rows[0].kind is WorkKind.IMPORT_ORDER
        ledger.retry_later(
            session, [r.id for r in rows], token, delay=0, error="", count_attempt=False
        )
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        done = session.get(Backfill, run.id)
        assert done is not None
        assert done.state is BackfillState.DONE
        assert (done.imported, done.skipped, done.pages) == (8, 1, 3)
        assert done.skips[0]["id"] == "bad" and "malformed" in done.skips[0]["reason"]
    assert sorted(_orders(shop)) == [*[f"70{n}" for n in range(8)], "live-1"]


def test_a_backfill_resumes_from_its_checkpoint_after_a_failure(shop: Shop) -> None:
    shop.market.page_size = 2
    start = utcnow() - dt.timedelta(days=10)
    for number in range(6):
        shop.market.add_order(f"80{number}", placed_at=start + dt.timedelta(hours=number))
    with shop.hub.db.unit_of_work() as session:
        run = Backfill(plugin_id=shop.plugin_id, start=start, end=utcnow())
        session.add(run)
        session.flush()
        ledger.enqueue(session, shop.plugin_id, WorkKind.BACKFILL, str(run.id))
    original = shop.market.handle
    served = []

    def second_page_fails(method, path, query, headers, body):  # type: ignore[no-untyped-def]
        if path == "/orders":
            served.append(query.get("cursor"))
            if len(served) == 2:
                return 503, {}, {"error": "maintenance"}
        return original(method, path, query, headers, body)

    shop.market.handle = second_page_fails  # type: ignore[method-assign]
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        progress = session.get(Backfill, run.id)
        assert progress is not None
        assert (progress.state, progress.pages, progress.imported) == (BackfillState.RUNNING, 1, 2)
        (waiting,) = session.scalars(select(SyncWork).where(SyncWork.state == "pending")).all()
        assert waiting.attempts == 1 and "HTTP 503" in waiting.last_error
    with shop.hub.db.unit_of_work() as session:  # time passes: the backoff is over
        row = session.get(SyncWork, waiting.id)
        assert row is not None
        row.not_before = utcnow()
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        progress = session.get(Backfill, run.id)
        assert progress is not None
        assert (progress.state, progress.pages, progress.imported) == (BackfillState.DONE, 3, 6)
    assert served == [None, "2", "2", "4"]  # resumed at the checkpoint, not from the start
    assert len(_orders(shop)) == 6


def test_a_slow_platform_never_lets_a_held_batch_go_stale(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that takes longer than the lease keeps its rows: the drainer renews the
    lease while it works, so the reconciler (sweeping throughout) takes nothing back and
    every order is imported on its first attempt."""
    lease = 3  # renewed every second: a busy machine may delay a beat, not two
    shop.hub.settings = shop.hub.settings.model_copy(
        update={"lease_seconds": lease, "drain_seconds": 30}
    )
    harness = Harness(shop.hub)
    keys = [f"slow-{n}" for n in range(10)]
    for key in keys:
        shop.market.add_order(key)
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue_many(session, shop.plugin_id, WorkKind.IMPORT_ORDER, keys)
    serve = shop.market.handle
    outlived: list[bool] = []

    def slow_first_call(*args: Any) -> Any:
        """The batch's first fetch answers only once the lease the claim gave its rows
        is over: whatever holds them then, the heartbeat does."""
        if not outlived:
            with shop.hub.db.read() as session:
                claimed_until = session.scalar(
                    select(func.min(SyncWork.lease_until)).where(SyncWork.lease_token.is_not(None))
                )
            assert claimed_until is not None
            deadline = claimed_until + dt.timedelta(seconds=1)
            while utcnow() < deadline:
                stop.wait(0.05)
            outlived.append(True)
        return serve(*args)

    monkeypatch.setattr(shop.market, "handle", slow_first_call)
    taken_back: list[int] = []
    stop = threading.Event()

    def reconcile() -> None:
        while not stop.is_set():
            with shop.hub.db.unit_of_work() as session:
                taken_back.append(ledger.recover_stale(session))
            stop.wait(0.1)

    sweeper = threading.Thread(target=reconcile)
    sweeper.start()
    try:
        harness.run(shop.plugin_id, rounds=2)
    finally:
        stop.set()
        sweeper.join()
    assert sum(taken_back) == 0
    assert sorted(_orders(shop)) == sorted(keys)
    with shop.hub.db.read() as session:
        rows = session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.IMPORT_ORDER))
        assert {(row.state.value, row.attempts) for row in rows} == {("done", 0)}


def test_an_imported_order_above_the_line_limit_is_named_in_a_notification(shop: Shop) -> None:
    """An order of more lines than an import may carry is not imported, and not dropped
    silently: a *record rejected* notification names it with its count and the limit; the
    orders around it import (#10 item 7)."""
    from tradewind.core.orders.schemas import MAX_IMPORTED_LINES
    from tradewind.monitoring import notifications
    from tradewind.monitoring.notifications import NotificationKind

    lines = [
        {"id": f"big-{n}", "sku": "MUG", "quantity": 1, "unit_price": "1.00", "title": "Mug"}
        for n in range(MAX_IMPORTED_LINES + 1)
    ]
    shop.market.add_order("big", lines=lines)
    shop.market.add_order("small")
    inbox = Inbox(shop.hub)
    for number, order_id in enumerate(("big", "small")):
        inbox.accept(
            shop.plugin_id, "orders/create", *shop.market.webhook(order_id, delivery=f"d{number}")
        )
    shop.harness.run(shop.plugin_id)
    assert list(_orders(shop)) == ["small"]
    with shop.hub.db.read() as session:
        (note,) = notifications.open_notifications(session, kind=NotificationKind.RECORD_REJECTED)
    assert note.subject == "order #big"
    assert f"at most {MAX_IMPORTED_LINES:,} lines; this one has {MAX_IMPORTED_LINES + 1:,}" in (
        note.message
    )
