"""The ShipStation V1 routes, each with its errors, driven by plain HTTP requests shaped
exactly like ShipStation's documented examples."""

from __future__ import annotations

import base64
from typing import Any

import httpx2
import pytest

from tests.sandbox.shipstation.conftest import KEY, SECRET, create_order, fixture, order_body
from tradewind.sandbox.shipstation import ShipStationSandbox

SERVER_FIELDS = ("orderId", "createDate", "modifyDate")


def test_an_order_is_answered_as_the_docs_show_it(client: httpx2.Client) -> None:
    made = create_order(client)
    expected = fixture("orders_createorder.response.composed.json")
    assert set(made) == set(expected)
    for name, value in expected.items():
        if name not in SERVER_FIELDS:
            assert made[name] == value, name
    assert isinstance(made["orderId"], int)
    assert made["orderTotal"] == 194.43  # 2 × 99.99 − 20.55 + 5 tax + 10 shipping
    assert made["shipTo"]["addressVerified"] == "Address validation warning"
    assert made["billTo"]["addressVerified"] is None
    assert client.get(f"/orders/{made['orderId']}").json() == made


def test_an_order_with_the_same_order_key_is_updated_whole(client: httpx2.Client) -> None:
    first = create_order(client)
    second = create_order(client, orderStatus="on_hold", customerNotes=None, amountPaid=1.0)
    assert second["orderId"] == first["orderId"]
    assert second["createDate"] == first["createDate"]
    assert second["orderStatus"] == "on_hold"
    assert "customerNotes" not in second  # no partial update: what is not sent is gone
    listed = client.get("/orders", params={"orderNumber": "TEST-ORDER-API-DOCS"}).json()
    assert listed["total"] == 1
    assert listed["orders"][0]["amountPaid"] == 1.0


def test_an_order_without_an_order_key_is_a_new_order(client: httpx2.Client) -> None:
    one = create_order(client, orderKey=None)
    two = create_order(client, orderKey=None)
    assert one["orderId"] != two["orderId"]
    assert one["orderKey"] and one["orderKey"] != two["orderKey"]
    listed = client.get("/orders", params={"orderNumber": "TEST-ORDER-API-DOCS"}).json()
    assert (listed["total"], listed["page"], listed["pages"]) == (2, 1, 1)


def test_a_shipped_order_can_no_longer_be_updated(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    made = create_order(client)
    sandbox.ship_order(KEY, made["orderId"])
    again = client.post("/orders/createorder", json=order_body())
    assert again.status_code == 400
    assert "shipped" in again.json()["Message"]


def test_missing_required_order_fields_are_named(client: httpx2.Client) -> None:
    answer = client.post("/orders/createorder", json=order_body(orderNumber=None, billTo=None))
    assert answer.status_code == 400
    body = answer.json()
    assert body["Message"] == "The request is invalid."
    assert set(body["ModelState"]) == {"apiOrder.orderNumber", "apiOrder.billTo"}
    assert "orderNumber" in body["ModelState"]["apiOrder.orderNumber"][0]


@pytest.mark.parametrize(
    "path", ["/orders/999", "/orders/not-a-number"], ids=["unknown", "malformed"]
)
def test_an_unknown_order_is_404(client: httpx2.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert set(answer.json()) == {"Message"}


def test_an_unknown_route_is_404_and_a_wrong_method_405(client: httpx2.Client) -> None:
    assert client.get("/nothing/here").status_code == 404
    assert "No HTTP resource" in client.get("/nothing/here").json()["Message"]
    assert client.get("/orders/createorder").status_code == 404  # an order id "createorder"
    assert client.put("/webhooks/subscribe").status_code == 405


def test_paths_match_without_regard_to_case(client: httpx2.Client) -> None:
    made = client.post("/Orders/CreateOrder", json=order_body())
    assert made.status_code == 200


def test_bulk_orders_report_each_result(client: httpx2.Client) -> None:
    orders = [order_body(orderKey="k1"), order_body(orderKey="k2", shipTo=None)]
    answer = client.post("/orders/createorders", json=orders)
    assert answer.status_code == 200
    body = answer.json()
    assert body["hasErrors"] is True
    assert [r["success"] for r in body["results"]] == [True, False]
    assert "shipTo" in body["results"][1]["errorMessage"]
    assert client.get(f"/orders/{body['results'][0]['orderId']}").json()["orderKey"] == "k1"


def test_bulk_orders_are_at_most_a_hundred(client: httpx2.Client) -> None:
    answer = client.post("/orders/createorders", json=[order_body()] * 101)
    assert answer.status_code == 400
    assert client.get("/orders").json()["total"] == 0


def _label_for(order_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("orders_createlabelfororder.request.json")
    body["orderId"] = order_id
    body.update(changes)
    return body


def test_a_label_for_an_order_ships_it(client: httpx2.Client, sandbox: ShipStationSandbox) -> None:
    order = create_order(client)
    answer = client.post("/orders/createlabelfororder", json=_label_for(order["orderId"]))
    assert answer.status_code == 200, answer.text
    label = answer.json()
    assert {"shipmentId", "shipmentCost", "insuranceCost", "trackingNumber", "formData"} <= set(
        label
    )
    assert label["shipmentCost"] == 20.6  # fedex_2day, 2 lb: 18.50 + 2.10 × 1
    assert base64.b64decode(label["labelData"]).startswith(b"%PDF-")
    assert client.get(f"/orders/{order['orderId']}").json()["orderStatus"] == "shipped"
    shipments = client.get("/shipments", params={"orderNumber": order["orderNumber"]}).json()
    assert [s["trackingNumber"] for s in shipments["shipments"]] == [label["trackingNumber"]]
    assert sandbox.labels(KEY) == {"bought": 1, "voided": 0}
    second = client.post("/orders/createlabelfororder", json=_label_for(order["orderId"]))
    assert second.status_code == 400
    assert sandbox.labels(KEY) == {"bought": 1, "voided": 0}


def test_a_label_from_scratch_costs_what_the_table_says(client: httpx2.Client) -> None:
    answer = client.post(
        "/shipments/createlabel", json=fixture("shipments_createlabel.request.json")
    )
    assert answer.status_code == 200, answer.text
    label = answer.json()
    expected = fixture("shipments_createlabel.response.json")
    assert label["shipmentCost"] == expected["shipmentCost"]  # fedex_ground, 3 oz
    assert label["insuranceCost"] == expected["insuranceCost"]
    assert len(label["trackingNumber"]) == len(expected["trackingNumber"])


@pytest.mark.parametrize(
    ("changes", "cost", "insurance"),
    [
        ({"weight": {"value": 40, "units": "ounces"}}, 9.0, 0.0),  # 3 lb: 7.30 + 2 × 0.85
        ({"confirmation": "signature"}, 10.0, 0.0),
        ({"insuranceOptions": {"insureShipment": True, "insuredValue": 250}}, 7.3, 2.5),
        ({"carrierCode": "ups", "serviceCode": "ups_ground"}, 8.1, 0.0),
    ],
)
def test_label_costs(
    client: httpx2.Client, changes: dict[str, Any], cost: float, insurance: float
) -> None:
    body = fixture("shipments_createlabel.request.json")
    body.update(changes)
    if "confirmation" not in changes:
        body["confirmation"] = "delivery"
    label = client.post("/shipments/createlabel", json=body).json()
    assert (label["shipmentCost"], label["insuranceCost"]) == (cost, insurance)


@pytest.mark.parametrize(
    ("changes", "status", "needle"),
    [
        ({"weight": None}, 400, "weight"),
        ({"shipFrom": None}, 400, "shipFrom"),
        ({"carrierCode": "dhl_nowhere"}, 400, "dhl_nowhere"),
        ({"serviceCode": "fedex_teleport"}, 400, "fedex_teleport"),
    ],
)
def test_label_errors(
    client: httpx2.Client, changes: dict[str, Any], status: int, needle: str
) -> None:
    body = fixture("shipments_createlabel.request.json")
    body.update(changes)
    answer = client.post("/shipments/createlabel", json=body)
    assert answer.status_code == status
    assert needle in answer.text


def test_a_label_for_an_unknown_order_is_404(client: httpx2.Client) -> None:
    assert client.post("/orders/createlabelfororder", json=_label_for(42)).status_code == 404


def test_without_a_manual_store_a_label_is_a_null_reference(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    order = create_order(client)
    sandbox.set_manual_store(KEY, False)
    for path, body in (
        ("/orders/createlabelfororder", _label_for(order["orderId"])),
        ("/shipments/createlabel", fixture("shipments_createlabel.request.json")),
    ):
        answer = client.post(path, json=body)
        assert answer.status_code == 500
        assert answer.json() == {"Message": "Object reference not set to an instance of an object."}
    assert sandbox.labels(KEY) == {"bought": 0, "voided": 0}
    assert client.get("/stores").json() == []
    sandbox.set_manual_store(KEY, True)
    assert (
        client.post("/orders/createlabelfororder", json=_label_for(order["orderId"])).status_code
        == 200
    )


def test_shipments_of_a_batch_look_like_the_composed_fixture(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    order = create_order(client)
    shipped = sandbox.ship_order(KEY, order["orderId"])
    listed = client.get(
        "/shipments",
        params={"batchId": shipped["batchNumber"], "includeShipmentItems": "False"},
    ).json()
    expected = fixture("shipments_list_by_batch.response.composed.json")
    assert set(listed) == set(expected)
    assert (listed["total"], listed["page"], listed["pages"]) == (1, 1, 1)
    shipment = listed["shipments"][0]
    assert set(shipment) == set(expected["shipments"][0])
    assert shipment["orderId"] == order["orderId"]
    assert shipment["orderKey"] == order["orderKey"]
    assert shipment["advancedOptions"]["storeId"] == 12345
    assert shipment["weight"] == {"value": 25, "units": "ounces", "WeightUnits": 1}
    assert shipment["voided"] is False
    assert shipment["shipmentItems"] is None
    with_items = client.get(
        "/shipments", params={"batchId": shipped["batchNumber"], "includeShipmentItems": "True"}
    ).json()["shipments"][0]
    assert [i["sku"] for i in with_items["shipmentItems"]] == ["ABC123", "DISCOUNT CODE"]
    other = client.get("/shipments", params={"batchId": "1"}).json()
    assert (other["shipments"], other["total"]) == ([], 0)


def test_webhooks_subscribe_list_and_delete(client: httpx2.Client) -> None:
    made = client.post("/webhooks/subscribe", json=fixture("webhooks_subscribe.request.json"))
    assert made.status_code == 200
    hook_id = made.json()["id"]
    hooks = client.get("/webhooks").json()["webhooks"]
    assert [(h["WebHookID"], h["HookType"], h["Url"], h["Name"], h["StoreID"]) for h in hooks] == [
        (hook_id, "ORDER_NOTIFY", "http://someexamplewebhookurl.com/neworder", "My Webhook", 12345)
    ]
    assert client.delete(f"/webhooks/{hook_id}").status_code == 200
    assert client.get("/webhooks").json() == {"webhooks": []}
    assert client.delete(f"/webhooks/{hook_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"event": "SHIP_NOTIFY"}, "target_url"),
        ({"target_url": "http://x", "event": "NOPE"}, "NOPE"),
    ],
)
def test_webhook_subscription_errors(
    client: httpx2.Client, body: dict[str, Any], needle: str
) -> None:
    answer = client.post("/webhooks/subscribe", json=body)
    assert answer.status_code == 400
    assert needle in answer.text


@pytest.mark.parametrize(
    "auth",
    [(KEY, "wrong"), ("unknown", SECRET), None],
    ids=["wrong-secret", "unknown-key", "none"],
)
def test_wrong_credentials_are_401(
    sandbox: ShipStationSandbox, auth: tuple[str, str] | None
) -> None:
    with httpx2.Client(base_url=sandbox.base_url, auth=auth) as http:
        answer = http.get("/orders")
    assert answer.status_code == 401
    assert answer.json() == {"Message": "Authorization has been denied for this request."}


def test_each_key_and_secret_has_its_own_orders(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    create_order(client)
    other_key, other_secret = sandbox.add_account()
    with httpx2.Client(base_url=sandbox.base_url, auth=(other_key, other_secret)) as other:
        assert other.get("/orders").json()["total"] == 0
    assert client.get("/orders").json()["total"] == 1
