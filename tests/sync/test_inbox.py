"""The webhook inbox under hostile traffic: signed bodies nobody can read, ids longer than
Tradewind stores, one bad delivery in a shared commit, and bad signatures, which must
cost neither a write each nor any database work on the event loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from tests.fakeplatform import WEBHOOK_SECRET
from tests.outage import Outage
from tests.sync.conftest import Shop
from tradewind.connectors.records import WebhookEvent
from tradewind.db import utcnow
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.server import create_app
from tradewind.sync import ledger
from tradewind.sync.inbox import Answer, Checked, Inbox, SignatureAlarm
from tradewind.sync.models import InboxDelivery, SyncWork, WorkKind, WorkState


def _signed(body: bytes, delivery: str = "d-1", topic: str = "orders/updated") -> dict[str, str]:
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "X-Fake-Delivery": delivery,
        "X-Fake-Signature": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


def _count(shop: Shop, table: Any) -> int:
    with shop.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"order_id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", b"[1]", b"\xff\xfe"],
    ids=["deep-array", "deep-value", "list", "not-utf8"],
)
def test_a_signed_body_nobody_can_read_is_malformed_never_a_500(shop: Shop, body: bytes) -> None:
    client = TestClient(create_app(shop.hub), raise_server_exceptions=False)
    response = client.post(
        f"/hooks/{shop.plugin_id}/orders/updated", content=body, headers=_signed(body)
    )
    assert response.status_code == 400
    assert "malformed" in response.json()["detail"]
    assert _count(shop, InboxDelivery) == 0


def test_an_order_id_longer_than_tradewind_stores_is_refused_and_the_rest_are_stored(
    shop: Shop,
) -> None:
    client = TestClient(create_app(shop.hub))
    long_body = json.dumps({"order_id": "9" * 200}).encode()
    refused = client.post(
        f"/hooks/{shop.plugin_id}/orders/updated",
        content=long_body,
        headers=_signed(long_body, delivery="long"),
    )
    assert refused.status_code == 400 and "longer than 128" in refused.json()["detail"]
    good = json.dumps({"order_id": "5001"}).encode()
    stored = client.post(
        f"/hooks/{shop.plugin_id}/orders/updated", content=good, headers=_signed(good, "good")
    )
    assert stored.status_code == 200
    assert _count(shop, InboxDelivery) == 1


def _checked(shop: Shop, delivery: str, order: str, *, plugin_id: int | None = None) -> Checked:
    # Built without validation: what a connector could hand the inbox past every check.
    made = WebhookEvent.model_construct(
        delivery_id=delivery, topic="orders/updated", subject="order", subject_id=order
    )
    return Checked(plugin_id or shop.plugin_id, "orders/updated", {}, b"{}", made)


def test_one_delivery_that_cannot_be_stored_never_fails_the_others_of_its_batch(
    shop: Shop,
) -> None:
    inbox = Inbox(shop.hub)
    try:
        batch = [
            _checked(shop, "a", "1"),
            _checked(shop, "b", "2", plugin_id=shop.plugin_id + 1000),  # no such plugin
            _checked(shop, "c", "3"),
        ]
        answers = inbox.store_each(batch)
    finally:
        inbox.close()
    assert [a.status if isinstance(a, Answer) else "error" for a in answers] == [
        200,
        "error",
        200,
    ]
    with shop.hub.db.read() as session:
        stored = set(session.scalars(select(InboxDelivery.delivery_id)))
        keys = set(
            session.scalars(select(SyncWork.key).where(SyncWork.plugin_id == shop.plugin_id))
        )
    assert stored == {"a", "c"}
    assert keys == {"1", "3"}


def test_a_stored_body_nobody_can_read_closes_its_work_row_and_the_rest_goes_on(
    shop: Shop,
) -> None:
    with shop.hub.db.unit_of_work() as session:
        rows = []
        for delivery, body in (("bad", DEEP), ("good", b'{"order_id": "77"}')):
            row = InboxDelivery(
                plugin_id=shop.plugin_id,
                delivery_id=delivery,
                topic="app/changed",
                headers={"X-Fake-Delivery": delivery},
                body=body,
                received_at=utcnow(),
            )
            session.add(row)
            session.flush()
            rows.append(row.id)
        for inbox_id in rows:
            ledger.enqueue(session, shop.plugin_id, WorkKind.WEBHOOK, str(inbox_id))
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        states = {
            row.key: (row.state, row.last_error)
            for row in session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.WEBHOOK))
        }
    assert states[str(rows[0])][0] is WorkState.FAILED
    assert "RecursionError" in states[str(rows[0])][1]
    assert states[str(rows[1])][0] is WorkState.DONE


# -------------------------------------------------------------------- bad signatures


@pytest.fixture
def statements_on_the_loop(shop: Shop) -> Iterator[list[str]]:
    """Every SQL statement executed while an event loop runs in the executing thread."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: fine
        seen.append(statement)

    event.listen(shop.hub.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(shop.hub.db.engine, "before_cursor_execute", record)


def test_bad_signatures_touch_no_database_on_the_loop_and_are_told_once(
    shop: Shop, statements_on_the_loop: list[str]
) -> None:
    body = json.dumps({"order_id": "1"}).encode()
    headers = {**_signed(body), "X-Fake-Signature": "AAAA"}
    with TestClient(create_app(shop.hub)) as client:
        for number in range(30):
            headers["X-Fake-Delivery"] = f"bad-{number}"
            response = client.post(
                f"/hooks/{shop.plugin_id}/orders/updated", content=body, headers=headers
            )
            assert response.status_code == 401
    # leaving the app flushed what was counted: one notification with every refusal
    assert statements_on_the_loop == []
    with shop.hub.db.read() as session:
        found = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.CONFIGURATION)
        ).all()
    assert [(n.subject, n.occurrences) for n in found] == [("webhook signatures", 30)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _signature_notice(shop: Shop) -> tuple[int, Any] | None:
    with shop.hub.db.read() as session:
        found = session.scalar(
            select(Notification).where(Notification.subject == "webhook signatures")
        )
    return None if found is None else (found.occurrences, found.last_seen)


def test_refusals_are_written_at_most_once_a_minute_per_plugin_with_their_count(
    shop: Shop,
) -> None:
    clock = Clock()
    alarm = SignatureAlarm(shop.hub, clock=clock, background=False)
    for _ in range(5):
        alarm.refused(shop.plugin_id, "orders/create")
    assert alarm.flush() is None  # told at once, nothing left to tell
    first = _signature_notice(shop)
    assert first is not None and first[0] == 5
    for _ in range(100):
        alarm.refused(shop.plugin_id, "orders/create")
    clock.now += 30
    assert alarm.flush() == pytest.approx(30.0)  # the next ones wait for the minute
    assert _signature_notice(shop) == first
    clock.now += 30
    assert alarm.flush() is None
    later = _signature_notice(shop)
    assert later is not None and later[0] == 105 and later[1] > first[1]


# ---------------------------------------------------------------- database outage


def test_a_database_outage_answers_webhooks_503_and_logs_one_line_each_way(shop: Shop) -> None:
    outage = Outage(shop.hub.db)
    body = json.dumps({"order_id": "1"}).encode()
    url = f"/hooks/{shop.plugin_id}/orders/updated"
    try:
        with (
            TestClient(create_app(shop.hub), raise_server_exceptions=False) as client,
            structlog.testing.capture_logs() as logs,
        ):
            assert (
                client.post(url, content=body, headers=_signed(body, "before")).status_code == 200
            )
            outage.start()
            answers = [
                client.post(url, content=body, headers=_signed(body, f"during-{number}"))
                for number in range(20)
            ]
            outage.end()
            after = client.post(url, content=body, headers=_signed(body, "after"))
    finally:
        outage.close()
    assert {answer.status_code for answer in answers} == {503}
    assert all(int(answer.headers["retry-after"]) > 0 for answer in answers)
    assert "unavailable" in answers[0].json()["detail"]
    assert after.status_code == 200
    said = [entry["event"] for entry in logs if entry["log_level"] in ("error", "warning")]
    assert said == ["database unavailable", "database back"]
    assert not [entry for entry in logs if entry.get("exc_info")]
    with shop.hub.db.read() as session:
        stored = set(session.scalars(select(InboxDelivery.delivery_id)))
    assert stored == {"before", "after"}


def test_refusals_counted_during_an_outage_are_told_when_the_database_is_back(
    shop: Shop,
) -> None:
    clock = Clock()
    alarm = SignatureAlarm(shop.hub, clock=clock, background=False)
    outage = Outage(shop.hub.db)
    try:
        outage.start()
        for _ in range(3):
            alarm.refused(shop.plugin_id, "orders/create")
        assert alarm.flush() == pytest.approx(60.0)  # not written: kept for the next minute
        outage.end()
        alarm.refused(shop.plugin_id, "orders/create")
        clock.now += 60
        assert alarm.flush() is None
    finally:
        outage.close()
    told = _signature_notice(shop)
    assert told is not None and told[0] == 4
