"""SHIP_NOTIFY as ShipStation V1 sends it: a thin, unsigned POST whose resource_url
points back at the sandbox and, fetched with the same Basic credentials, lists the
shipments of the batch."""

from __future__ import annotations

import json

import httpx2

from tests.sandbox.receiver import Receiver
from tests.sandbox.shipstation.conftest import KEY, create_order, fixture
from tradewind.sandbox.shipstation import ShipStationSandbox


def _subscribe(client: httpx2.Client, url: str, event: str = "SHIP_NOTIFY", **extra: object) -> int:
    answer = client.post("/webhooks/subscribe", json={"target_url": url, "event": event, **extra})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def test_shipping_an_order_sends_a_thin_ship_notify(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    _subscribe(client, receiver.url, friendly_name="Tradewind")
    order = create_order(client)
    shipped = httpx2.post(
        f"{sandbox.base_url}/_sandbox/accounts/{KEY}/orders/{order['orderId']}/ship",
        json={"carrierCode": "ups", "serviceCode": "ups_ground", "trackingNumber": "1Z999"},
    )
    assert shipped.status_code == 200, shipped.text
    [delivery] = receiver.wait_for(1)
    body = json.loads(delivery.body)
    assert set(body) == set(fixture("webhook_ship_notify.json"))
    assert body["resource_type"] == "SHIP_NOTIFY"
    batch = shipped.json()["batchNumber"]
    assert body["resource_url"] == (
        f"{sandbox.base_url}/shipments?batchId={batch}&includeShipmentItems=False"
    )
    assert delivery.path == "/shipstation?token=t0k"
    assert not any(name.lower().startswith("x-") for name in delivery.headers)  # unsigned
    assert "authorization" not in {name.lower() for name in delivery.headers}
    fetched = client.get(body["resource_url"])
    assert fetched.status_code == 200
    [shipment] = fetched.json()["shipments"]
    assert (shipment["orderNumber"], shipment["trackingNumber"]) == (order["orderNumber"], "1Z999")
    assert client.get(f"/orders/{order['orderId']}").json()["orderStatus"] == "shipped"
    assert httpx2.get(body["resource_url"]).status_code == 401  # only with the credentials


def test_a_bought_label_sends_ship_notify_too(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    _subscribe(client, receiver.url)
    _subscribe(client, receiver.url, "ORDER_NOTIFY")  # a different event: not told
    order = create_order(client)
    label_request = fixture("orders_createlabelfororder.request.json")
    label = client.post(
        "/orders/createlabelfororder", json=label_request | {"orderId": order["orderId"]}
    ).json()
    [delivery] = receiver.wait_for(1)
    assert sandbox.wait_for_webhooks()
    assert len(receiver.received) == 1
    shipments = client.get(json.loads(delivery.body)["resource_url"]).json()["shipments"]
    assert [s["trackingNumber"] for s in shipments] == [label["trackingNumber"]]


def test_item_ship_notify_asks_for_the_items(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    _subscribe(client, receiver.url, "ITEM_SHIP_NOTIFY")
    order = create_order(client)
    sandbox.ship_order(KEY, order["orderId"])
    body = json.loads(receiver.wait_for(1)[0].body)
    assert body["resource_type"] == "ITEM_SHIP_NOTIFY"
    assert body["resource_url"].endswith("includeShipmentItems=True")
    [shipment] = client.get(body["resource_url"]).json()["shipments"]
    assert shipment["shipmentItems"][0]["sku"] == "ABC123"


def test_a_subscription_for_another_store_is_not_told(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    _subscribe(client, receiver.url + "&other", store_id=999)
    _subscribe(client, receiver.url, store_id=12345)
    sandbox.ship_order(KEY, create_order(client)["orderId"])
    assert sandbox.wait_for_webhooks()
    assert [r.path for r in receiver.received] == ["/shipstation?token=t0k"]


def test_a_failed_delivery_is_retried(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    _subscribe(client, receiver.url)
    sandbox.ship_order(KEY, create_order(client)["orderId"])
    received = receiver.wait_for(3)
    assert len({r.body for r in received}) == 1  # the same notification each time
    assert sandbox.wait_for_webhooks()
    [delivery] = httpx2.get(f"{sandbox.base_url}/_sandbox/deliveries").json()["deliveries"]
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]


def test_only_loopback_targets_are_contacted(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    _subscribe(client, "https://example.com/hooks")
    sandbox.ship_order(KEY, create_order(client)["orderId"])
    [delivery] = sandbox.deliveries()
    assert delivery.state == "skipped"
    assert delivery.attempts[0].error == "host example.com is not allowed"


def test_shipping_twice_or_an_unknown_order_is_refused(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    order = create_order(client)
    base = f"{sandbox.base_url}/_sandbox/accounts"
    assert httpx2.post(f"{base}/{KEY}/orders/{order['orderId']}/ship").status_code == 200
    assert httpx2.post(f"{base}/{KEY}/orders/{order['orderId']}/ship").status_code == 400
    assert httpx2.post(f"{base}/{KEY}/orders/1/ship").status_code == 404
    assert httpx2.post(f"{base}/nobody/orders/1/ship").status_code == 404
    assert sandbox.labels(KEY) == {"bought": 0, "voided": 0}  # shipping by hand buys no label


def test_the_allowed_hosts_can_be_narrowed(receiver: Receiver) -> None:
    with ShipStationSandbox(webhook_hosts=frozenset({"localhost"})) as sandbox:
        key, secret = sandbox.add_account()
        with httpx2.Client(base_url=sandbox.base_url, auth=(key, secret)) as http:
            _subscribe(http, receiver.url)  # 127.0.0.1: not among the allowed
            sandbox.ship_order(key, create_order(http)["orderId"])
        [delivery] = sandbox.deliveries()
        assert delivery.state == "skipped"
