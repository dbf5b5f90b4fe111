"""The finer rules: order filters and pages, address checks, label weights, units and
tracking numbers, shipment filters, malformed requests and the control API's refusals."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from tests.sandbox.receiver import Receiver
from tests.sandbox.shipstation.conftest import (
    KEY,
    SECRET,
    create_order,
    fixture,
    order_body,
)
from tradewind.sandbox.shipstation import ShipStationSandbox


def test_orders_filter_by_status_and_store_and_come_in_pages(client: httpx2.Client) -> None:
    for number in range(3):
        create_order(client, orderKey=f"k{number}", orderNumber=f"N{number}")
    create_order(
        client, orderKey="held", orderNumber="H", orderStatus="on_hold", advancedOptions={}
    )
    assert client.get("/orders", params={"orderStatus": "on_hold"}).json()["total"] == 1
    in_manual = client.get("/orders", params={"storeId": "10001"}).json()
    assert [o["orderNumber"] for o in in_manual["orders"]] == ["H"]  # no storeId sent
    second = client.get("/orders", params={"page": "2", "pageSize": "3"}).json()
    assert (len(second["orders"]), second["total"], second["page"], second["pages"]) == (1, 4, 2, 2)
    assert client.get("/orders", params={"page": "x"}).status_code == 400
    assert client.get("/orders", params={"orderNumber": "none"}).json() == {
        "orders": [],
        "total": 0,
        "page": 1,
        "pages": 0,
    }


@pytest.mark.parametrize(
    ("ship_to", "verdict"),
    [
        (
            {"street1": "1 Main St", "city": "Austin", "postalCode": "78703-1234", "country": "US"},
            "Address validated successfully",
        ),
        (
            {"street1": "1 Main St", "city": "Austin", "postalCode": "78703", "country": "US"},
            "Address validation warning",
        ),
        ({"street1": "1 Main St", "city": "Austin", "country": "US"}, "Address validation failed"),
        (
            {
                "street1": "10 Downing St",
                "city": "London",
                "postalCode": "SW1A 2AA",
                "country": "GB",
            },
            "Address validated successfully",
        ),
    ],
)
def test_the_ship_to_address_is_checked(
    client: httpx2.Client, ship_to: dict[str, Any], verdict: str
) -> None:
    made = create_order(client, shipTo={"name": "A", **ship_to})
    assert made["shipTo"]["addressVerified"] == verdict
    assert set(made["shipTo"]) == set(
        fixture("orders_createorder.response.composed.json")["shipTo"]
    )


def test_an_unknown_order_status_is_400(client: httpx2.Client) -> None:
    answer = client.post("/orders/createorder", json=order_body(orderStatus="lost"))
    assert (answer.status_code, "lost" in answer.json()["Message"]) == (400, True)


@pytest.mark.parametrize(("content", "status"), [(b"{not json", 400), (b"[1, 2]", 400), (b"", 400)])
def test_a_body_that_is_not_an_order_is_400(
    client: httpx2.Client, content: bytes, status: int
) -> None:
    answer = client.post(
        "/orders/createorder", content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status
    assert "Message" in answer.json()


def test_bulk_orders_may_come_wrapped(client: httpx2.Client) -> None:
    answer = client.post("/orders/createorders", json={"orders": [order_body()]}).json()
    assert answer["hasErrors"] is False
    assert client.post("/orders/createorders", json={"orders": 3}).status_code == 400


def _label(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("shipments_createlabel.request.json")
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("weight", "cost"),
    [
        ({"value": 1, "units": "pounds"}, 7.3),
        ({"value": 2.5, "units": "pounds"}, 9.0),
        ({"value": 500, "units": "grams"}, 8.15),  # 17.6 oz: two pounds
    ],
)
def test_label_weights_in_every_unit(
    client: httpx2.Client, weight: dict[str, Any], cost: float
) -> None:
    assert (
        client.post("/shipments/createlabel", json=_label(weight=weight)).json()["shipmentCost"]
        == cost
    )


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"weight": {"value": 1, "units": "stones"}}, "stones"),
        ({"confirmation": "carrier_pigeon"}, "carrier_pigeon"),
    ],
)
def test_bad_label_values_are_400(
    client: httpx2.Client, changes: dict[str, Any], needle: str
) -> None:
    answer = client.post("/shipments/createlabel", json=_label(**changes))
    assert answer.status_code == 400
    assert needle in answer.json()["Message"]


@pytest.mark.parametrize(
    ("carrier", "service", "pattern"),
    [
        ("fedex", "fedex_ground", r"^\d{15}$"),
        ("ups", "ups_next_day_air", r"^1Z999AA1\d{10}$"),
        ("stamps_com", "usps_priority_mail", r"^9405\d{18}$"),
    ],
)
def test_tracking_numbers_look_like_the_carriers(
    client: httpx2.Client, carrier: str, service: str, pattern: str
) -> None:
    label = client.post(
        "/shipments/createlabel", json=_label(carrierCode=carrier, serviceCode=service)
    ).json()
    assert re.match(pattern, label["trackingNumber"])


def test_a_label_for_an_order_takes_the_orders_weight(client: httpx2.Client) -> None:
    order = create_order(client)
    request = fixture("orders_createlabelfororder.request.json")
    request.update(orderId=order["orderId"], weight=None, serviceCode="fedex_ground")
    label = client.post("/orders/createlabelfororder", json=request).json()
    assert label["shipmentCost"] == 8.15  # the order's 25 oz: two pounds
    assert label["orderId"] == order["orderId"]


def test_a_label_needs_an_order_id_and_an_open_order(client: httpx2.Client) -> None:
    missing = client.post("/orders/createlabelfororder", json={"carrierCode": "fedex"})
    assert missing.status_code == 400
    assert "apiCreateLabelForOrder.orderId" in missing.json()["ModelState"]
    cancelled = create_order(client, orderStatus="cancelled")
    request = fixture("orders_createlabelfororder.request.json") | {"orderId": cancelled["orderId"]}
    assert client.post("/orders/createlabelfororder", json=request).status_code == 400


def test_shipments_filter_by_order_tracking_number_and_carrier(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    one = create_order(client, orderKey="a", orderNumber="A")
    two = create_order(client, orderKey="b", orderNumber="B")
    first = sandbox.ship_order(KEY, one["orderId"])  # the order's fedex_2day
    sandbox.ship_order(KEY, two["orderId"], carrier_code="ups", service_code="ups_ground")
    assert first["serviceCode"] == "fedex_2day"
    by_order = client.get("/shipments", params={"orderId": str(one["orderId"])}).json()
    assert [s["orderNumber"] for s in by_order["shipments"]] == ["A"]
    by_number = client.get("/shipments", params={"trackingNumber": first["trackingNumber"]}).json()
    assert by_number["total"] == 1
    by_carrier = client.get("/shipments", params={"carrierCode": "ups"}).json()
    assert [s["orderNumber"] for s in by_carrier["shipments"]] == ["B"]
    assert client.get("/shipments").json()["total"] == 2


def test_users_and_stores_answer_for_a_connection_test(client: httpx2.Client) -> None:
    assert len(client.get("/users").json()) == 1
    assert [s["storeId"] for s in client.get("/stores").json()] == [10001]


def test_a_malformed_webhook_id_is_404(client: httpx2.Client) -> None:
    assert client.delete("/webhooks/abc").status_code == 404


def test_a_delivery_that_never_succeeds_is_marked_failed(
    client: httpx2.Client, sandbox: ShipStationSandbox, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 7
    client.post("/webhooks/subscribe", json={"target_url": receiver.url, "event": "SHIP_NOTIFY"})
    sandbox.ship_order(KEY, create_order(client)["orderId"])
    assert sandbox.wait_for_webhooks()
    [delivery] = sandbox.deliveries()
    assert (delivery.state, len(delivery.attempts)) == ("failed", 7)


def test_the_401_carries_the_rate_limit_headers(sandbox: ShipStationSandbox) -> None:
    with httpx2.Client(base_url=sandbox.base_url, auth=(KEY, "nope")) as http:
        answer = http.get("/orders")
    assert answer.status_code == 401
    assert answer.headers["X-Rate-Limit-Limit"] == "40"


def test_the_control_api_refuses_what_it_cannot_do(sandbox: ShipStationSandbox) -> None:
    base = f"{sandbox.base_url}/_sandbox"
    assert httpx2.post(f"{base}/accounts", json={"key": KEY, "secret": SECRET}).status_code == 422
    assert httpx2.delete(f"{base}/accounts/nobody").status_code == 404
    assert httpx2.put(f"{base}/accounts/nobody/manual-store", json={}).status_code == 404
