"""The webhook resources: subscriptions (secret shown once, problems for bad input),
the event types with their schemas, the event log, deliveries with their attempts,
resend, recover, test, rotate, pause."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook

from tests.api.conftest import Api
from tests.webhooks.conftest import Receiver, Reply
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.webhooks.dispatch import Dispatcher


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _drain(hub: Hub, subscription_id: int) -> int:
    return Dispatcher(hub, holder="api-test").drain(subscription_id)


def test_a_subscription_is_made_and_its_secret_shown_once(
    api: Api, hub: Hub, receiver: Receiver
) -> None:
    answer = api.post(
        "/webhook-subscriptions",
        json={
            "url": receiver.url,
            "event_types": ["product.created"],
            "description": "ERP",
            "custom_headers": {"X-Api-Key": "receiver-secret"},
        },
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    secret = created["signing_secret"]
    assert secret.startswith("whsec_")
    assert created["secret"] == f"whsec_…{secret[-4:]}"
    shown = api.get(f"/webhook-subscriptions/{created['id']}").json()
    assert "signing_secret" not in shown and secret not in str(shown)
    assert shown["custom_headers"] == {"x-api-key": "(write-only)"}  # the name, never the value
    assert "receiver-secret" not in answer.text + str(shown)
    assert shown["status"] == "active" and shown["event_types"] == ["product.created"]
    listed = api.get("/webhook-subscriptions").json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert api.post("/products", json={"sku": "MUG", "title": "Mug"}).status_code == 201
    assert _drain(hub, created["id"]) == 1
    [got] = receiver.received
    assert Webhook(secret).verify(got.body, got.headers)["data"]["sku"] == "MUG"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://10.1.2.3/hooks"}, "url"),
        ({"url": "http://8.8.8.8/hooks"}, "url"),
        ({"url": "https://8.8.8.8/", "event_types": ["order.shipped"]}, "event_types"),
        (
            {"url": "https://8.8.8.8/", "custom_headers": {"webhook-signature": "x"}},
            "custom_headers",
        ),
    ],
)
def test_bad_input_is_a_problem_with_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    answer = api.post("/webhook-subscriptions", json=body)
    assert answer.status_code == 422
    problem = answer.json()
    assert list(problem["errors"]) == [field]
    assert problem["detail"]


def test_event_types_are_served_with_their_schemas(api: Api) -> None:
    listed = api.get("/webhook-event-types").json()
    names = [item["type"] for item in listed]
    assert "order.created" in names and "inventory.updated" in names
    one = api.get("/webhook-event-types/inventory.updated").json()
    assert one["schema"]["properties"]["type"] == {"const": "inventory.updated"}
    assert one["example"]["available"] == 41
    assert api.get("/webhook-event-types/nope").status_code == 404


def test_deliveries_attempts_resend_recover_test_rotate_pause(
    api: Api, hub: Hub, receiver: Receiver
) -> None:
    receiver.replies = [Reply(400, body=b"no thanks")]
    created = api.post("/webhook-subscriptions", json={"url": receiver.url}).json()
    subscription = created["id"]
    since = utcnow() - dt.timedelta(seconds=1)
    api.post("/products", json={"sku": "MUG", "title": "Mug"})
    _drain(hub, subscription)
    events = api.get("/webhook-events", params={"type": "product.created"}).json()
    assert [e["body"]["data"]["sku"] for e in events] == ["MUG"]
    [delivery] = api.get("/webhook-deliveries", params={"subscription_id": subscription}).json()[
        "items"
    ]
    assert delivery["status"] == "failed" and delivery["last_status"] == 400
    detail = api.get(f"/webhook-deliveries/{delivery['id']}").json()
    [attempt] = detail["attempt_history"]
    assert attempt["response_body"] == "no thanks"
    assert attempt["request_headers"]["webhook-signature"] == "v1,…"
    receiver.replies = [Reply(200)]
    assert api.post(f"/webhook-deliveries/{delivery['id']}/resend").status_code == 202
    _drain(hub, subscription)
    assert api.get(f"/webhook-deliveries/{delivery['id']}").json()["status"] == "succeeded"
    # Recover finds nothing failed any more; test; rotate; pause.
    recovered = api.post(
        f"/webhook-subscriptions/{subscription}/recover", json={"since": since.isoformat()}
    )
    assert recovered.json() == {"queued": 0}
    tested = api.post(
        f"/webhook-subscriptions/{subscription}/test", json={"event_type": "order.created"}
    )
    assert tested.status_code == 202
    rotated = api.post(f"/webhook-subscriptions/{subscription}/rotate-secret").json()
    assert rotated["signing_secret"] != created["signing_secret"]
    _drain(hub, subscription)
    last = receiver.received[-1]
    assert last.headers["webhook-id"] == tested.json()["event_id"]
    assert len(last.headers["webhook-signature"].split(" ")) == 2  # both secrets sign
    Webhook(created["signing_secret"]).verify(last.body, last.headers)
    Webhook(rotated["signing_secret"]).verify(last.body, last.headers)
    paused = api.post(f"/webhook-subscriptions/{subscription}/pause").json()
    assert paused["status"] == "paused"
    assert paused["stats_24h"]["attempts"] == 3 and paused["stats_24h"]["succeeded"] == 2
    assert api.post(f"/webhook-subscriptions/{subscription}/resume").json()["status"] == "active"
    patched = api.patch(
        f"/webhook-subscriptions/{subscription}", json={"event_types": ["order.created"]}
    ).json()
    assert patched["event_types"] == ["order.created"]
    assert api.delete(f"/webhook-subscriptions/{subscription}").status_code == 204
    assert api.get(f"/webhook-subscriptions/{subscription}").status_code == 404


def test_a_read_only_token_cannot_add_endpoints(reader_api: Api) -> None:
    answer = reader_api.post("/webhook-subscriptions", json={"url": "https://8.8.8.8/"})
    assert answer.status_code == 403
    assert reader_api.get("/webhook-subscriptions").status_code == 200
