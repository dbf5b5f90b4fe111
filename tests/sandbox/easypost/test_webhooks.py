"""Events POSTed to webhooks: the body, the signature over the exact bytes (EasyPost's own
test vector), custom headers, retries, and only loopback hosts by default."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import unicodedata

import httpx2

from tests.sandbox.easypost.conftest import (
    FIXTURES,
    PRODUCTION_KEY,
    TEST_KEY,
    create_shipment,
    subscribe,
)
from tests.sandbox.receiver import Receiver
from tradewind.sandbox.easypost import EasyPostSandbox, sign

VECTOR_SIGNATURE = (
    "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
)


def test_signature_matches_easyposts_test_vector() -> None:
    body = (FIXTURES / "webhook_event_tracker_updated.raw.json").read_bytes()
    assert not body.endswith(b"\n")
    assert sign("sécret", body) == VECTOR_SIGNATURE


def test_the_secret_is_nfkd_normalised_before_use() -> None:
    body = (FIXTURES / "webhook_event_tracker_updated.raw.json").read_bytes()
    composed = unicodedata.normalize("NFC", "sécret")
    decomposed = unicodedata.normalize("NFD", "sécret")
    assert composed != decomposed
    assert sign(composed, body) == sign(decomposed, body) == VECTOR_SIGNATURE
    plain_utf8 = hmac.new(composed.encode(), body, hashlib.sha256).hexdigest()
    assert f"hmac-sha256-hex={plain_utf8}" != VECTOR_SIGNATURE  # NFKD changes the key


def tracker_updated(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> tuple[str, list[bytes]]:
    tracker = client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    sandbox.advance_tracker(tracker.json()["id"])
    received = receiver.wait_for(2)
    return tracker.json()["id"], [r.body for r in received]


def test_tracker_events_are_posted_signed_over_the_exact_bytes(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, secret="sécret")
    tracker_id, _ = tracker_updated(sandbox, client, receiver)
    created, updated = receiver.received
    for got in (created, updated):
        assert got.path == "/easypost"
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Hmac-Signature"] == sign("sécret", got.body)
    event = json.loads(updated.body)
    assert event["object"] == "Event"
    assert event["id"].startswith("evt_")
    assert event["description"] == "tracker.updated"
    assert event["mode"] == "test"
    assert event["previous_attributes"] == {"status": "pre_transit"}
    assert event["pending_urls"] == [receiver.url]
    assert event["result"]["id"] == tracker_id
    assert event["result"]["object"] == "Tracker"
    assert event["result"]["status"] == "in_transit"
    assert json.loads(created.body)["description"] == "tracker.created"
    keys = set(json.loads((FIXTURES / "webhook_event_tracker_updated.raw.json").read_bytes()))
    assert keys <= set(event)


def test_a_webhook_without_secret_is_sent_unsigned(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, secret=None)
    tracker_updated(sandbox, client, receiver)
    assert all("X-Hmac-Signature" not in r.headers for r in receiver.received)


def test_a_changed_secret_signs_the_next_events(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    hook = subscribe(client, receiver.url, secret="old")
    client.patch(f"/webhooks/{hook['id']}", json={"webhook_secret": "new"})
    tracker_updated(sandbox, client, receiver)
    assert all(r.headers["X-Hmac-Signature"] == sign("new", r.body) for r in receiver.received)


def test_custom_headers_are_sent(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    client.post(
        "/webhooks",
        json={
            "webhook": {
                "url": receiver.url,
                "custom_headers": [{"name": "X-Header-Name", "value": "header_value"}],
            }
        },
    )
    tracker_updated(sandbox, client, receiver)
    assert receiver.received[0].headers["X-Header-Name"] == "header_value"


def test_buying_a_label_raises_tracker_created_for_its_tracker(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    shipment = create_shipment(client)
    bought = client.post(
        f"/shipments/{shipment['id']}/buy", json={"rate": {"id": shipment["rates"][0]["id"]}}
    ).json()
    (got,) = receiver.wait_for(1)
    event = json.loads(got.body)
    assert event["description"] == "tracker.created"
    assert event["result"]["tracking_code"] == bought["tracking_code"]


def test_a_failed_delivery_is_retried_with_the_same_bytes(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    subscribe(client, receiver.url)
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    first, second, third = receiver.wait_for(3)
    assert first.body == second.body == third.body
    assert first.headers["X-Hmac-Signature"] == third.headers["X-Hmac-Signature"]
    assert sandbox.wait_for_webhooks()
    (delivery,) = sandbox.deliveries()
    assert delivery.state == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 503, 200]


def test_only_loopback_hosts_are_contacted_by_default(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    subscribe(client, "https://hooks.example.com/easypost")
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    assert sandbox.wait_for_webhooks()
    (delivery,) = sandbox.deliveries()
    assert delivery.state == "skipped"
    assert delivery.attempts[0].error == "host hooks.example.com is not allowed"


def test_events_go_only_to_the_webhooks_of_the_key_that_made_them(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    other = sandbox.add_key("test")
    with httpx2.Client(base_url=sandbox.api_base, auth=(other, "")) as theirs:
        subscribe(theirs, receiver.url)
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    assert sandbox.wait_for_webhooks()
    assert receiver.received == []
    assert sandbox.deliveries() == []


def test_deliveries_are_readable_through_the_control_api(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    assert sandbox.wait_for_webhooks()
    listed = httpx2.get(f"{sandbox.base_url}/_sandbox/deliveries").json()["deliveries"]
    (delivery,) = listed
    assert delivery["state"] == "delivered"
    assert delivery["description"] == "tracker.created"
    assert delivery["body"]["result"]["tracking_code"] == "EZ1000000001"
    assert TEST_KEY not in json.dumps(listed)


def test_a_delivery_that_never_succeeds_is_given_up_after_seven_retries(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 20
    subscribe(client, receiver.url)
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    assert sandbox.wait_for_webhooks()
    (delivery,) = sandbox.deliveries()
    assert delivery.state == "failed"
    assert len(delivery.attempts) == 8
    assert len(receiver.received) == 8


def test_user_and_password_in_the_url_are_sent_as_basic_auth(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url.replace("http://", "http://hook:pa55@"))
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    (got,) = receiver.wait_for(1)
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(b"hook:pa55").decode()


def test_each_event_carries_the_object_as_it_was_then(
    sandbox: EasyPostSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    tracker = client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    sandbox.advance_tracker(tracker.json()["id"])
    sandbox.advance_tracker(tracker.json()["id"])
    received = receiver.wait_for(3)
    statuses = [json.loads(r.body)["result"]["status"] for r in received]
    assert statuses == ["pre_transit", "in_transit", "out_for_delivery"]


def test_production_events_say_production(sandbox: EasyPostSandbox, receiver: Receiver) -> None:
    with httpx2.Client(base_url=sandbox.api_base, auth=(PRODUCTION_KEY, "")) as live:
        subscribe(live, receiver.url)
        tracker = live.post("/trackers", json={"tracker": {"tracking_code": "EZ4000000004"}})
    assert tracker.json()["status"] == "unknown"  # test codes mean nothing to production
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["mode"] == "production"
    assert json.loads(got.body)["result"]["mode"] == "production"
