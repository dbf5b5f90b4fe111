"""Webhooks: managing them, deliveries of ``{event, test, data}`` to a loopback receiver,
the merchant's ``?token=`` kept as given, the opt-in signature, retries and hosts."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx2

from tests.sandbox.receiver import Receiver
from tests.sandbox.shippo.conftest import (
    LIVE_TOKEN,
    START,
    FakeClock,
    buy,
    cheapest,
    create_shipment,
    fixture,
    http_client,
)
from tradewind.sandbox.shippo import ShippoSandbox, sign
from tradewind.sandbox.shippo.webhooks import SIGNATURE_HEADER


def subscribe(client: httpx2.Client, url: str, event: str = "all", **extra: object) -> object:
    response = client.post("/webhooks", json={"event": event, "url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_webhooks_are_created_listed_read_updated_and_deleted(client: httpx2.Client) -> None:
    hook = client.post(
        "/webhooks", json={"event": "track_updated", "url": "http://127.0.0.1/h", "is_test": True}
    ).json()
    assert hook["event"] == "track_updated" and hook["active"] is True and hook["is_test"]
    assert client.get("/webhooks").json()["results"] == [hook]
    assert client.get(f"/webhooks/{hook['object_id']}").json() == hook
    changed = client.put(f"/webhooks/{hook['object_id']}", json={"active": False}).json()
    assert changed["active"] is False
    deleted = client.delete(f"/webhooks/{hook['object_id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.delete(f"/webhooks/{hook['object_id']}").status_code == 404
    assert client.get("/webhooks").json()["results"] == []


def test_invalid_webhooks_get_field_errors(client: httpx2.Client) -> None:
    assert client.post("/webhooks", json={}).json() == {
        "url": ["This field is required."],
        "event": ["This field is required."],
    }
    bad = client.post("/webhooks", json={"event": "order_eaten", "url": "http://127.0.0.1/"})
    assert bad.status_code == 400 and "event" in bad.json()
    long = client.post("/webhooks", json={"event": "all", "url": "http://x/" + "a" * 200})
    assert long.status_code == 400 and "url" in long.json()


def test_a_purchase_is_delivered_as_transaction_created(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    url = receiver.url + "?token=merchant-secret"
    subscribe(client, url, "transaction_created")
    transaction = buy(client, cheapest(create_shipment(client))["object_id"])
    (got,) = receiver.wait_for(1)
    assert got.path == "/shippo?token=merchant-secret"  # delivered to the URL as given
    body = json.loads(got.body)
    assert set(body) == set(fixture("webhook_transaction_created.composed.json"))
    assert body["event"] == "transaction_created" and body["test"] is True
    assert body["data"]["object_id"] == transaction["object_id"]
    assert body["data"]["status"] == "SUCCESS"
    assert SIGNATURE_HEADER not in got.headers  # Shippo does not sign by default
    assert sandbox.wait_for_webhooks()
    assert sandbox.deliveries()[0].state == "delivered"


def test_track_updates_reach_subscribers_of_that_event(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url, "track_updated")
    client.post("/tracks", json={"carrier": "shippo", "tracking_number": "SHIPPO_TRANSIT"})
    sandbox.advance_track("shippo", "SHIPPO_TRANSIT")
    (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert set(body) == set(fixture("webhook_track_updated.composed.json"))
    assert body["event"] == "track_updated"
    assert body["data"]["tracking_number"] == "SHIPPO_TRANSIT"
    assert body["data"]["tracking_status"]["status"] == "DELIVERED"


def test_a_labels_track_update_also_updates_its_transaction(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    transaction = buy(client, cheapest(create_shipment(client))["object_id"])
    subscribe(client, receiver.url, "all")
    sandbox.advance_track("usps", transaction["tracking_number"])
    received = receiver.wait_for(2)
    events = sorted(json.loads(r.body)["event"] for r in received)
    assert events == ["track_updated", "transaction_updated"]


def test_inactive_and_mismatched_webhooks_get_nothing(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url + "?which=inactive", "all", active=False)
    subscribe(client, receiver.url + "?which=live", "all", is_test=False)
    subscribe(client, receiver.url + "?which=tracks", "track_updated")
    subscribe(client, receiver.url + "?which=all", "all")
    buy(client, cheapest(create_shipment(client))["object_id"])
    assert sandbox.wait_for_webhooks()
    assert [r.path for r in receiver.received] == ["/shippo?which=all"]


def test_live_events_go_to_live_webhooks(sandbox: ShippoSandbox, receiver: Receiver) -> None:
    with http_client(sandbox, LIVE_TOKEN) as live:
        subscribe(live, receiver.url, "all")
        buy(live, cheapest(create_shipment(live))["object_id"])
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["test"] is False


def test_failed_deliveries_are_retried_with_the_same_bytes(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    subscribe(client, receiver.url)
    buy(client, cheapest(create_shipment(client))["object_id"])
    received = receiver.wait_for(3)
    assert len({r.body for r in received}) == 1
    assert sandbox.wait_for_webhooks()
    assert [a.status for a in sandbox.deliveries()[0].attempts] == [500, 503, 200]


def test_hosts_outside_loopback_are_skipped(sandbox: ShippoSandbox, client: httpx2.Client) -> None:
    subscribe(client, "https://hooks.example.com/shippo")
    buy(client, cheapest(create_shipment(client))["object_id"])
    (delivery,) = sandbox.deliveries()
    assert delivery.state == "skipped"
    listed = httpx2.get(f"{sandbox.base_url}/_sandbox/deliveries").json()["deliveries"]
    assert listed[0]["state"] == "skipped"


def test_the_opt_in_signature_covers_timestamp_and_body(
    receiver: Receiver, clock: FakeClock
) -> None:
    with ShippoSandbox(webhook_secret="s3cret", clock=clock) as sandbox:
        token = sandbox.add_token()
        with http_client(sandbox, token) as client:
            subscribe(client, receiver.url)
            buy(client, cheapest(create_shipment(client))["object_id"])
        (got,) = receiver.wait_for(1)
    header = got.headers[SIGNATURE_HEADER]
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(
        b"s3cret", parts["t"].encode() + b"." + got.body, hashlib.sha256
    ).hexdigest()
    assert parts["t"] == str(int(START))
    assert parts["v1"] == expected
    assert sign("s3cret", int(parts["t"]), got.body) == header


def test_a_failed_purchase_is_delivered_as_an_error_transaction(
    sandbox: ShippoSandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    rate = cheapest(create_shipment(client))
    buy(client, rate["object_id"])
    subscribe(client, receiver.url, "transaction_created")
    buy(client, rate["object_id"])
    (got,) = receiver.wait_for(1)
    data = json.loads(got.body)["data"]
    assert data["status"] == "ERROR"
    assert data["messages"][0]["code"] == "rate_already_purchased"
