"""Carriers, their services, rates from the label cost table, and voiding a label."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.shipstation.conftest import KEY, create_order, fixture
from tradewind.sandbox.shipstation import ShipStationSandbox

RATE_REQUEST: dict[str, Any] = {
    "carrierCode": "fedex",
    "serviceCode": None,
    "packageCode": None,
    "fromPostalCode": "78703",
    "toState": "DC",
    "toCountry": "US",
    "toPostalCode": "20500",
    "toCity": "Washington",
    "weight": {"value": 3, "units": "ounces"},
    "dimensions": None,
    "confirmation": "signature",
    "residential": False,
}


def test_carriers_and_their_services(client: httpx2.Client) -> None:
    codes = [c["code"] for c in client.get("/carriers").json()]
    assert codes == ["fedex", "ups", "stamps_com"]
    services = client.get("/carriers/listservices", params={"carrierCode": "ups"}).json()
    assert [s["code"] for s in services] == ["ups_ground", "ups_next_day_air"]
    assert client.get("/carriers/listservices", params={"carrierCode": "dhl"}).status_code == 400
    assert client.get("/carriers/listservices").status_code == 400


def test_rates_are_the_label_table_with_the_fee_apart(client: httpx2.Client) -> None:
    answer = client.post("/shipments/getrates", json=RATE_REQUEST)
    assert answer.status_code == 200, answer.text
    rates = {r["serviceCode"]: (r["shipmentCost"], r["otherCost"]) for r in answer.json()}
    assert rates == {
        "fedex_ground": (7.3, 2.7),
        "fedex_2day": (18.5, 2.7),
        "fedex_priority_overnight": (41.0, 2.7),
    }
    one = client.post("/shipments/getrates", json=RATE_REQUEST | {"serviceCode": "fedex_2day"})
    assert [r["serviceName"] for r in one.json()] == ["FedEx 2Day®"]
    label = client.post(
        "/shipments/createlabel",
        json=fixture("shipments_createlabel.request.json") | {"confirmation": "signature"},
    ).json()
    assert label["shipmentCost"] == 10.0  # the rate's 7.30 + 2.70


@pytest.mark.parametrize(
    ("changes", "needle"),
    [({"toPostalCode": None}, "toPostalCode"), ({"carrierCode": "dhl"}, "dhl")],
)
def test_rate_errors(client: httpx2.Client, changes: dict[str, Any], needle: str) -> None:
    answer = client.post("/shipments/getrates", json=RATE_REQUEST | changes)
    assert answer.status_code == 400
    assert needle in answer.text


def test_voiding_a_label_reopens_its_order(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    order = create_order(client)
    request = fixture("orders_createlabelfororder.request.json") | {"orderId": order["orderId"]}
    label = client.post("/orders/createlabelfororder", json=request).json()
    voided = client.post("/shipments/voidlabel", json={"shipmentId": label["shipmentId"]})
    assert voided.json() == {"approved": True, "message": "Label voided successfully"}
    [shipment] = client.get("/shipments", params={"orderId": str(order["orderId"])}).json()[
        "shipments"
    ]
    assert shipment["voided"] is True and shipment["voidDate"]
    assert client.get(f"/orders/{order['orderId']}").json()["orderStatus"] == "awaiting_shipment"
    again = client.post("/shipments/voidlabel", json={"shipmentId": label["shipmentId"]})
    assert again.json()["approved"] is False
    assert sandbox.labels(KEY) == {"bought": 1, "voided": 1}
    assert client.post("/orders/createlabelfororder", json=request).status_code == 200


@pytest.mark.parametrize(("body", "status"), [({}, 400), ({"shipmentId": 1}, 404)])
def test_void_errors(client: httpx2.Client, body: dict[str, Any], status: int) -> None:
    assert client.post("/shipments/voidlabel", json=body).status_code == status
