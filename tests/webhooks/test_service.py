"""Subscriptions: bad input refused with one clear reason, secrets sealed and shown once,
rotation keeping the old secret signing for 24 hours, test events, retention."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tests.webhooks.conftest import Receiver, subscribe
from tradewind.db import utcnow
from tradewind.errors import Invalid
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync.worker import Engine
from tradewind.webhooks import service
from tradewind.webhooks.dispatch import Dispatcher
from tradewind.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"url": "http://10.0.0.7/hooks"}, "url", "private address"),
        ({"url": "https://169.254.169.254/latest"}, "url", "link-local"),
        ({"url": "https://[::ffff:192.168.1.1]/"}, "url", "private"),
        ({"url": "http://8.8.8.8/hooks"}, "url", "https://"),
        ({"url": "ftp://example.com/"}, "url", "http:// or https://"),
        ({"url": "https://user:pw@8.8.8.8/"}, "url", "credentials"),
        ({"event_types": ["order.shipped"]}, "event_types", "'order.shipped' is not an event type"),
        (
            {"custom_headers": {"webhook-signature": "v1,x"}},
            "custom_headers",
            "cannot be overridden",
        ),
        (
            {"custom_headers": {"Authorization": "Bearer x"}},
            "custom_headers",
            "cannot be overridden",
        ),
        ({"custom_headers": {"X-Ok": "a\r\nInjected: 1"}}, "custom_headers", "one line"),
        ({"channel_id": 999}, "channel_id", "no channel 999"),
        ({"max_concurrency": 0}, "max_concurrency", "1 to 16"),
    ],
)
def test_bad_input_is_refused_with_one_clear_reason(
    hub: Hub, fields: dict[str, object], field: str, reason: str
) -> None:
    values: dict[str, object] = {"url": "https://8.8.8.8/hooks", **fields}
    with pytest.raises(Invalid) as refused, hub.db.unit_of_work() as session:
        service.create_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            **values,  # type: ignore[arg-type]
        )
    assert reason in refused.value.message
    assert list(refused.value.fields) == [field]


def test_loopback_is_refused_outside_the_sandbox_hosts_setting(settings: Settings) -> None:
    closed = settings.model_copy(update={"allow_sandbox_hosts": False})
    with Hub(closed) as hub, pytest.raises(Invalid) as refused:
        subscribe(hub, "http://127.0.0.1:8080/hooks")
    assert "loopback address" in refused.value.message
    with Hub(settings) as hub:  # sandbox hosts allowed: a local receiver, even over http
        subscription, _ = subscribe(hub, "http://127.0.0.1:8080/hooks")
        assert subscription.url == "http://127.0.0.1:8080/hooks"


def test_the_secret_is_sealed_and_shown_once(hub: Hub) -> None:
    subscription, secret = subscribe(hub, "https://8.8.8.8/hooks")
    assert secret.startswith("whsec_")
    with hub.db.read() as session:
        stored = service.get_subscription(session, subscription.id)
        assert secret not in stored.secrets and secret[6:] not in stored.secrets
        assert service.secret_hint(hub.vault, stored) == f"whsec_…{secret[-4:]}"
        assert secret not in repr(stored)


def test_rotation_keeps_the_old_secret_signing_for_24_hours(hub: Hub) -> None:
    subscription, old = subscribe(hub, "https://8.8.8.8/hooks")
    now = utcnow()
    with hub.db.unit_of_work() as session:
        new = service.rotate_secret(session, hub.vault, subscription.id, now=now)
    assert new != old
    with hub.db.read() as session:
        stored = service.get_subscription(session, subscription.id)
        assert service.secrets_in_force(hub.vault, stored, now) == [new, old]
        later = now + dt.timedelta(hours=23, minutes=59)
        assert service.secrets_in_force(hub.vault, stored, later) == [new, old]
        after = now + dt.timedelta(hours=24, seconds=1)
        assert service.secrets_in_force(hub.vault, stored, after) == [new]


def test_a_test_event_goes_to_that_endpoint_only(hub: Hub, receiver: Receiver) -> None:
    chosen, _ = subscribe(hub, receiver.url, event_types=["order.created"])
    other, _ = subscribe(hub, receiver.url)
    with hub.db.unit_of_work() as session:
        event_id = service.send_test(session, chosen.id, "inventory.updated")
    Dispatcher(hub, holder="test").drain(chosen.id)
    assert Dispatcher(hub, holder="test").drain(other.id) == 0
    [got] = receiver.received
    body = json.loads(got.body)
    assert body["id"] == event_id and body["test"] is True
    assert body["type"] == "inventory.updated" and body["data"]["available"] == 41
    with pytest.raises(Invalid), hub.db.unit_of_work() as session:
        service.send_test(session, chosen.id, "nope.nope")


def test_retention_purges_attempts_then_events_in_batches(hub: Hub, receiver: Receiver) -> None:
    subscription, _ = subscribe(hub, receiver.url)
    with hub.db.unit_of_work() as session:
        for number in range(3):
            factories.product(session, f"SKU-{number}")
    Dispatcher(hub, holder="test").drain(subscription.id)

    def count(model: type[object]) -> int:
        with hub.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    assert (count(WebhookEvent), count(WebhookDelivery), count(WebhookAttempt)) == (3, 3, 3)
    week = utcnow() + dt.timedelta(days=8)
    with hub.db.unit_of_work() as session:
        assert service.purge(session, week, batch=2) is True  # a full batch: more left
    with hub.db.unit_of_work() as session:
        assert service.purge(session, week, batch=2) is False
    assert (count(WebhookEvent), count(WebhookDelivery), count(WebhookAttempt)) == (3, 3, 0)
    month = utcnow() + dt.timedelta(days=31)
    with hub.db.unit_of_work() as session:
        service.purge(session, month)
    assert (count(WebhookEvent), count(WebhookDelivery)) == (0, 0)


def test_custom_header_values_are_sealed_and_only_their_names_kept_in_the_clear(
    hub: Hub, receiver: Receiver
) -> None:
    value = "sk_live_receiver_key_7f3a"
    subscription, _ = subscribe(hub, receiver.url, custom_headers={"X-Api-Key": value})
    raw = _raw_row(hub, subscription.id)
    assert value not in raw and "x-api-key" in raw  # the name is shown, the value sealed
    with hub.db.unit_of_work() as session:
        factories.product(session, "SEALED")
    assert Dispatcher(hub, holder="test").drain(subscription.id) == 1
    [got] = receiver.received
    assert got.headers["x-api-key"] == value  # sent as given
    replaced = "sk_live_replaced_9c1d"
    with hub.db.unit_of_work() as session:
        service.update_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            subscription.id,
            custom_headers={"X-Api-Key": replaced},
        )
    raw = _raw_row(hub, subscription.id)
    assert value not in raw and replaced not in raw
    with hub.db.read() as session:
        row = service.get_subscription(session, subscription.id)
        assert service.header_names(row) == ["x-api-key"]
        assert service.custom_headers(hub.vault, row) == {"x-api-key": replaced}


def test_an_endpoint_whose_headers_predate_sealing_still_sends_them(hub: Hub) -> None:
    subscription, _ = subscribe(hub, "https://8.8.8.8/hooks")
    with hub.db.unit_of_work() as session:
        row = service.get_subscription(session, subscription.id)
        row.custom_headers = {"x-tenant": "acme"}  # as stored before
        row.header_values = None
    with hub.db.read() as session:
        row = service.get_subscription(session, subscription.id)
        assert service.header_names(row) == ["x-tenant"]
        assert service.custom_headers(hub.vault, row) == {"x-tenant": "acme"}


def test_plain_header_values_are_sealed_at_the_engines_first_sweep(hub: Hub) -> None:
    subscription, _ = subscribe(hub, "https://8.8.8.8/hooks")
    with hub.db.unit_of_work() as session:
        row = service.get_subscription(session, subscription.id)
        row.custom_headers = {"x-tenant": "acme-secret-tenant"}  # as stored before
        row.header_values = None
    assert "acme-secret-tenant" in _raw_row(hub, subscription.id)
    Engine(hub).sweep()
    assert "acme-secret-tenant" not in _raw_row(hub, subscription.id)
    with hub.db.read() as session:
        row = service.get_subscription(session, subscription.id)
        assert service.header_names(row) == ["x-tenant"]
        assert service.custom_headers(hub.vault, row) == {"x-tenant": "acme-secret-tenant"}
    with hub.db.unit_of_work() as session:
        assert service.seal_plain_headers(session, hub.vault) == 0  # nothing left


def _raw_row(hub: Hub, subscription_id: int) -> str:
    """Every column of the subscription's row as stored, as one string."""
    with hub.db.read() as session:
        row = session.execute(
            text("SELECT * FROM webhook_subscriptions WHERE id = :id"), {"id": subscription_id}
        ).one()
    return " ".join(str(value) for value in row)
