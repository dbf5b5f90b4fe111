"""Delivery against a real HTTP receiver on loopback: signed, once per subscription,
retried on the schedule with the same id and body, every attempt recorded, 410 and long
failure disabling the endpoint, Retry-After honoured, redirects not followed, answers
read to a bound. Time is the dispatcher's clock (no sleeps)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from tests import factories
from tests.webhooks.conftest import Receiver, Reply, subscribe
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.settings import Settings
from tradewind.webhooks import dispatch, history, service, signing
from tradewind.webhooks.attempts import MAX_ATTEMPTS, SCHEDULE, Answer, Claimed, Sent
from tradewind.webhooks.dispatch import Dispatcher
from tradewind.webhooks.models import (
    AttemptTrigger,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)


class Clock:
    """The dispatcher's time, a minute ahead of the real one: what the test writes (at
    real time) is due at once, however slowly the test runs."""

    def __init__(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        self.now = utcnow() + dt.timedelta(seconds=60)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(hub: Hub, clock: Clock) -> Dispatcher:
    return Dispatcher(hub, holder="test", clock=clock, rng=lambda: 0.5)  # no jitter


def _product(hub: Hub, sku: str = "MUG") -> None:
    with hub.db.unit_of_work() as session:
        factories.product(session, sku)


def _deliveries(hub: Hub, subscription_id: int) -> list[WebhookDelivery]:
    with hub.db.read() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == subscription_id)
                .order_by(WebhookDelivery.id)
            )
        )


def _attempts(hub: Hub, delivery_id: int) -> list[WebhookAttempt]:
    with hub.db.read() as session:
        return history.attempts(session, delivery_id)


def test_an_event_reaches_each_subscription_once_and_verifies(
    hub: Hub, dispatcher: Dispatcher, make_receiver: Callable[[], Receiver]
) -> None:
    first, second = make_receiver(), make_receiver()
    one, secret_one = subscribe(hub, first.url, custom_headers={"X-Tenant": "acme"})
    two, secret_two = subscribe(hub, second.url)
    _product(hub)
    assert dispatcher.drain(one.id) == 1
    assert dispatcher.drain(two.id) == 1
    assert dispatcher.drain(one.id) == 0  # nothing more is due
    [got_one], [got_two] = first.received, second.received
    assert json.loads(got_one.body) == json.loads(got_two.body)
    assert got_one.headers["webhook-id"] == got_two.headers["webhook-id"]
    # The receiving side, with the library and the real clock.
    envelope = Webhook(secret_one).verify(got_one.body, got_one.headers)
    assert envelope["type"] == "product.created"
    assert envelope["id"] == got_one.headers["webhook-id"]
    Webhook(secret_two).verify(got_two.body, got_two.headers)
    assert got_one.headers["tradewind-event-type"] == "product.created"
    assert got_one.headers["tradewind-attempt"] == "1"
    assert got_one.headers["tradewind-subscription-id"] == str(one.id)
    assert got_one.headers["x-tenant"] == "acme"
    assert got_one.headers["content-type"] == "application/json"
    [delivery] = _deliveries(hub, one.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    [attempt] = _attempts(hub, delivery.id)
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_body == "ok"
    assert attempt.request_headers["webhook-signature"] == "v1,…"  # kept redacted
    assert attempt.request_headers["x-tenant"] == "… (4 characters)"  # the receiver's own


def test_retries_carry_the_same_id_and_body_and_every_attempt_is_recorded(
    hub: Hub, dispatcher: Dispatcher, clock: Clock, receiver: Receiver
) -> None:
    receiver.replies = [Reply(500, body=b"down")] * 3 + [Reply(200)]
    subscription, secret = subscribe(hub, receiver.url)
    _product(hub)
    assert dispatcher.drain(subscription.id) == 1
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at == clock.now + dt.timedelta(seconds=30)
    for wait in (30, 120, 600):
        clock.advance(seconds=wait - 1)
        assert dispatcher.drain(subscription.id) == 0  # not due yet
        clock.advance(seconds=1)
        assert dispatcher.drain(subscription.id) == 1
    received = receiver.received
    assert len(received) == 4
    assert len({r.headers["webhook-id"] for r in received}) == 1
    assert len({r.body for r in received}) == 1
    assert [r.headers["tradewind-attempt"] for r in received] == ["1", "2", "3", "4"]
    for item in received:  # each attempt signed for its own timestamp
        timestamp = int(item.headers["webhook-timestamp"])
        expected = signing.signature([secret], item.headers["webhook-id"], timestamp, item.body)
        assert item.headers["webhook-signature"] == expected
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.attempts == 4
    attempts = _attempts(hub, delivery.id)
    assert [(a.number, a.response_status, a.error_kind) for a in attempts] == [
        (1, 500, "http"),
        (2, 500, "http"),
        (3, 500, "http"),
        (4, 200, None),
    ]
    assert attempts[0].response_body == "down"


def test_410_disables_the_endpoint_with_a_notification_and_an_event(
    hub: Hub, dispatcher: Dispatcher, make_receiver: Callable[[], Receiver]
) -> None:
    gone, other = make_receiver(), make_receiver()
    gone.replies = [Reply(410)]
    dead, _ = subscribe(hub, gone.url, event_types=["product.created"])
    watcher, _ = subscribe(hub, other.url, event_types=["webhook_endpoint.disabled"])
    _product(hub)
    dispatcher.drain(dead.id)
    with hub.db.read() as session:
        found = service.get_subscription(session, dead.id)
        assert found.status is SubscriptionStatus.DISABLED
        assert "410" in found.disabled_reason
        [note] = notifications.open_notifications(
            session, kind=NotificationKind.WEBHOOK_ENDPOINT_DISABLED
        )
        assert gone.url in note.message
    [delivery] = _deliveries(hub, dead.id)
    assert delivery.status is DeliveryStatus.FAILED
    _product(hub, "TEE")  # a disabled endpoint gets no new deliveries
    assert len(_deliveries(hub, dead.id)) == 1
    assert dispatcher.drain(dead.id) == 0
    dispatcher.drain(watcher.id)
    [told] = other.received
    body = json.loads(told.body)
    assert body["type"] == "webhook_endpoint.disabled"
    assert body["data"]["id"] == dead.id and body["data"]["url"] == gone.url
    with hub.db.unit_of_work() as session:  # fixed and resumed: the notice closes
        service.resume(session, dead.id)
    with hub.db.read() as session:
        assert not notifications.open_notifications(
            session, kind=NotificationKind.WEBHOOK_ENDPOINT_DISABLED
        )


@pytest.mark.parametrize(
    ("reply", "seconds"),
    [
        (Reply(429, {"Retry-After": "120"}), 120),
        (Reply(503, {"Retry-After": "7"}), 7),
        (Reply(429, {"Retry-After": "86400"}), 3600),  # capped at an hour
        (Reply(429), 30),  # the schedule's
        (Reply(408), 30),
    ],
)
def test_retry_after_is_honoured(
    hub: Hub,
    dispatcher: Dispatcher,
    clock: Clock,
    receiver: Receiver,
    reply: Reply,
    seconds: int,
) -> None:
    receiver.replies = [reply, Reply(200)]
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    dispatcher.drain(subscription.id)
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.next_attempt_at == clock.now + dt.timedelta(seconds=seconds)
    clock.advance(seconds=seconds)
    assert dispatcher.drain(subscription.id) == 1
    assert _deliveries(hub, subscription.id)[0].status is DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize(
    "reply",
    [
        Reply(302, {"Location": "http://127.0.0.1:9/elsewhere"}),
        Reply(400),
        Reply(401),
        Reply(404),
        Reply(409),
        Reply(503, {"webhook-delivery": "abort-message"}),  # the receiver says: no more
    ],
)
def test_other_answers_fail_the_delivery_without_retries(
    hub: Hub, dispatcher: Dispatcher, receiver: Receiver, reply: Reply
) -> None:
    receiver.replies = [reply]
    status = reply.status
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    dispatcher.drain(subscription.id)
    assert len(receiver.received) == 1  # a redirect is not followed
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_status == status
    with hub.db.read() as session:
        assert notifications.open_notifications(
            session, kind=NotificationKind.WEBHOOK_DELIVERY_FAILED
        )
        assert service.get_subscription(session, subscription.id).status is (
            SubscriptionStatus.ACTIVE
        )


def test_the_schedule_runs_out_then_a_notification_then_resend_and_recover(
    hub: Hub, dispatcher: Dispatcher, clock: Clock, receiver: Receiver
) -> None:
    receiver.replies = [Reply(500)]
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    for wait in SCHEDULE:
        clock.advance(seconds=wait)
        assert dispatcher.drain(subscription.id) == 1
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == 10
    with hub.db.read() as session:
        [note] = notifications.open_notifications(
            session, kind=NotificationKind.WEBHOOK_DELIVERY_FAILED
        )
        assert "after 10 attempts" in note.message
    # The endpoint is fixed; a person resends the delivery: same id and body.
    receiver.replies = [Reply(200)]
    with hub.db.unit_of_work() as session:
        service.resend(session, delivery.id)
    clock.catch_up()
    assert dispatcher.drain(subscription.id) == 1
    first, *_, last = receiver.received
    assert first.headers["webhook-id"] == last.headers["webhook-id"]
    assert first.body == last.body
    assert _deliveries(hub, subscription.id)[0].status is DeliveryStatus.SUCCEEDED
    assert _attempts(hub, delivery.id)[-1].trigger.value == "resend"
    with hub.db.read() as session:  # it works again: the notification resolved itself
        assert not notifications.open_notifications(
            session, kind=NotificationKind.WEBHOOK_DELIVERY_FAILED
        )
    # Recover: every failed delivery since a time goes again, oldest first.
    receiver.replies = [Reply(400)]
    since = utcnow()
    _product(hub, "TEE")
    _product(hub, "CAP")
    clock.catch_up()
    dispatcher.drain(subscription.id)
    receiver.replies = [Reply(200)]
    with hub.db.unit_of_work() as session:
        assert service.recover(session, subscription.id, since) == 2
    due = [d.next_attempt_at for d in _deliveries(hub, subscription.id)[1:]]
    assert due[0] is not None and due[1] is not None
    assert due[1] - due[0] == service.RECOVER_SPACING  # oldest first, spaced out
    clock.catch_up()
    assert dispatcher.drain(subscription.id) == 2
    recovered = {json.loads(r.body)["data"]["sku"] for r in receiver.received[-2:]}
    assert recovered == {"TEE", "CAP"}
    assert {d.status for d in _deliveries(hub, subscription.id)} == {DeliveryStatus.SUCCEEDED}


def test_an_endpoint_failing_for_five_days_is_disabled(
    hub: Hub, dispatcher: Dispatcher, clock: Clock, receiver: Receiver
) -> None:
    receiver.replies = [Reply(503)]
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    dispatcher.drain(subscription.id)
    for day in range(1, 6):
        clock.advance(days=1)
        _product(hub, f"SKU-{day}")  # a fresh delivery each day, all failing
        dispatcher.drain(subscription.id)
    with hub.db.read() as session:
        found = service.get_subscription(session, subscription.id)
        assert found.status is SubscriptionStatus.DISABLED
        assert "every attempt has failed since" in found.disabled_reason


def test_a_success_resets_the_failing_clock(
    hub: Hub, dispatcher: Dispatcher, clock: Clock, receiver: Receiver
) -> None:
    receiver.replies = [Reply(503), Reply(200), Reply(503)]
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    dispatcher.drain(subscription.id)
    clock.advance(days=4)
    dispatcher.drain(subscription.id)  # the retry succeeds
    clock.advance(days=2)
    _product(hub, "TEE")
    dispatcher.drain(subscription.id)
    with hub.db.read() as session:
        found = service.get_subscription(session, subscription.id)
        assert found.status is SubscriptionStatus.ACTIVE
        assert found.failing_since == clock.now


def test_a_paused_endpoint_keeps_its_deliveries_until_resumed(
    hub: Hub, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    subscription, _ = subscribe(hub, receiver.url)
    with hub.db.unit_of_work() as session:
        service.pause(session, subscription.id)
    _product(hub)
    assert dispatcher.drain(subscription.id) == 0
    assert receiver.received == []
    with hub.db.unit_of_work() as session:
        service.resume(session, subscription.id)
    assert dispatcher.drain(subscription.id) == 1
    assert len(receiver.received) == 1


def test_an_answer_is_read_to_64_kib_and_4_kib_of_it_kept(
    hub: Hub, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    receiver.replies = [Reply(200, body=b"x" * (1024 * 1024))]
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    assert dispatcher.drain(subscription.id) == 1
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    [attempt] = _attempts(hub, delivery.id)
    assert attempt.response_body == "x" * 4096


def test_the_address_policy_applies_on_every_attempt(
    settings: Settings, receiver: Receiver, clock: Clock
) -> None:
    """Subscribed while loopback was allowed, sent when it no longer is: refused at the
    connection, recorded, retried (never sent)."""
    with Hub(settings) as hub:
        subscription, _ = subscribe(hub, receiver.url)
    closed = settings.model_copy(update={"allow_sandbox_hosts": False})
    with Hub(closed) as hub:
        _product(hub)
        Dispatcher(hub, holder="test", clock=clock).drain(subscription.id)
        [delivery] = _deliveries(hub, subscription.id)
        [attempt] = _attempts(hub, delivery.id)
    assert receiver.received == []
    assert attempt.error_kind == "refused" and "loopback" in attempt.error
    assert delivery.status is DeliveryStatus.PENDING  # retried on the schedule


def test_an_event_row_keeps_the_exact_bytes_sent(
    hub: Hub, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    dispatcher.drain(subscription.id)
    with hub.db.read() as session:
        [event] = session.scalars(select(WebhookEvent)).all()
    assert receiver.received[0].body == event.body


def test_a_delivery_its_claim_has_no_time_left_for_is_handed_back_unsent(
    hub: Hub, dispatcher: Dispatcher, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription, _ = subscribe(hub, receiver.url)
    _product(hub)
    # Every claim already past the moment its last attempt may start; one claim only.
    monkeypatch.setattr(dispatch, "ATTEMPT_SECONDS", -1.0)
    monkeypatch.setattr(hub, "settings", hub.settings.model_copy(update={"drain_seconds": 0}))
    assert dispatcher.drain(subscription.id) == 0
    assert receiver.received == []
    [delivery] = _deliveries(hub, subscription.id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 0
    assert delivery.lease_token is None and delivery.lease_until is None  # due as it was
    assert _attempts(hub, delivery.id) == []
    monkeypatch.undo()
    assert dispatcher.drain(subscription.id) == 1
    assert len(receiver.received) == 1


def _sent(duration_ms: int | None) -> Sent:
    item = Claimed(1, "evt_1", "product.created", "{}", 1, AttemptTrigger.AUTO)
    answer = None if duration_ms is None else Answer(status=200, duration_ms=duration_ms)
    return Sent(item, {}, utcnow(), answer)


def test_claims_follow_the_endpoints_pace() -> None:
    fast = [_sent(5)] * 64
    assert dispatch._next_size(fast, 0.01, 4) == dispatch.MAX_CLAIM  # 6,400 a second
    assert dispatch._next_size(fast, 3.2, 4) == 100  # 20 a second: 5 s worth
    assert dispatch._next_size([_sent(15000)] * 4, 15.0, 4) == 4  # slow: one round
    assert dispatch._next_size([_sent(5), _sent(None)], 0.01, 4) == 4  # one left unsent
