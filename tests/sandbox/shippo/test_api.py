"""Each route of the sandbox, its answers and its errors, checked against the shapes of
Shippo's recorded responses."""

from __future__ import annotations

from decimal import Decimal

import httpx2
import pytest

from tests.sandbox.shippo.conftest import (
    ADDRESS_FROM,
    ADDRESS_TO,
    LIVE_TOKEN,
    TEST_TOKEN,
    FakeClock,
    buy,
    cheapest,
    create_shipment,
    fixture,
    http_client,
    parcel,
)
from tradewind.sandbox.shippo import RATE_TABLE, ShippoSandbox
from tradewind.sandbox.shippo.state import price


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Bearer shippo_test_x", "Authentication credentials were not provided."),
        ("ShippoToken shippo_test_unknown", "Invalid token."),
        ("ShippoToken notashippotoken", "Invalid token."),
    ],
)
def test_requests_without_a_known_token_get_401(
    sandbox: ShippoSandbox, header: str | None, detail: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx2.get(f"{sandbox.base_url}/shipments", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_a_revoked_token_gets_401_and_a_restored_one_works(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    token = sandbox.add_token()
    with http_client(sandbox, token) as http:
        assert http.get("/shipments").status_code == 200
        sandbox.revoke_token(token)
        assert http.get("/shipments").json() == {"detail": "Invalid token."}
        sandbox.add_token(True, token)
        assert http.get("/shipments").status_code == 200


def test_the_api_version_header_is_accepted_and_echoed(client: httpx2.Client) -> None:
    response = client.get("/shipments", headers={"SHIPPO-API-VERSION": "2018-02-08"})
    assert response.status_code == 200
    assert response.headers["SHIPPO-API-VERSION"] == "2018-02-08"


def test_a_synchronous_shipment_has_the_recorded_shape(client: httpx2.Client) -> None:
    shipment = create_shipment(client, metadata="Customer ID 123456")
    recorded = fixture("shipments_create.response.json")
    assert shipment["status"] == "SUCCESS"
    assert set(recorded) - {"object_owner"} <= set(shipment)
    assert shipment["address_from"]["test"] is True
    assert shipment["parcels"][0]["weight"] == "2.0000"
    assert shipment["metadata"] == "Customer ID 123456"
    rate = shipment["rates"][0]
    assert set(fixture("rates_retrieve.response.json")) - {"days"} <= set(rate)
    assert rate["shipment"] == shipment["object_id"]
    assert isinstance(rate["amount"], str)
    assert rate["test"] is True


def test_rates_follow_the_documented_table(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    tokens = [r["servicelevel"]["token"] for r in shipment["rates"]]
    assert tokens == [s.token for s in RATE_TABLE]
    for rate, service in zip(shipment["rates"], RATE_TABLE, strict=True):
        assert Decimal(rate["amount"]) == service.base + service.per_lb * 2
        assert rate["estimated_days"] == service.days
        assert rate["provider"] == service.provider
    by_attribute = {
        a: r["servicelevel"]["token"] for r in shipment["rates"] for a in r["attributes"]
    }
    assert by_attribute == {
        "CHEAPEST": "usps_ground_advantage",
        "FASTEST": "usps_priority_express",
        "BESTVALUE": "usps_priority",
    }


def test_the_weight_is_converted_and_rounded_up_to_pounds() -> None:
    ground = RATE_TABLE[0]
    assert price(ground, Decimal("0.1")) == ground.base + ground.per_lb
    assert price(ground, Decimal("2.01")) == ground.base + ground.per_lb * 3


def test_grams_are_rated_as_pounds(client: httpx2.Client) -> None:
    body = {"address_from": ADDRESS_FROM, "address_to": ADDRESS_TO, "async": False}
    grams = client.post("/shipments", json=body | {"parcels": [parcel("1000", "g")]}).json()
    pounds = client.post("/shipments", json=body | {"parcels": [parcel("3", "lb")]}).json()
    assert [r["amount"] for r in grams["rates"]] == [r["amount"] for r in pounds["rates"]]


def test_addresses_and_parcels_can_be_given_by_object_id(client: httpx2.Client) -> None:
    made_from = client.post("/addresses", json=ADDRESS_FROM)
    made_parcel = client.post("/parcels", json=parcel())
    assert made_from.status_code == made_parcel.status_code == 201
    assert client.get(f"/addresses/{made_from.json()['object_id']}").json()["zip"] == "94117"
    shipment = client.post(
        "/shipments",
        json={
            "address_from": made_from.json()["object_id"],
            "address_to": ADDRESS_TO,
            "parcels": [made_parcel.json()["object_id"]],
            "async": False,
        },
    ).json()
    assert shipment["address_from"]["object_id"] == made_from.json()["object_id"]
    assert shipment["parcels"][0]["object_id"] == made_parcel.json()["object_id"]


def test_a_parcel_without_weight_gets_field_errors(client: httpx2.Client) -> None:
    weightless = parcel()
    del weightless["weight"]
    response = client.post(
        "/shipments",
        json={"address_from": ADDRESS_FROM, "address_to": ADDRESS_TO, "parcels": [weightless]},
    )
    assert response.status_code == 400
    assert response.json() == {"parcels": [{"weight": ["This field is required."]}]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {f: ["This field is required."] for f in ("address_from", "address_to", "parcels")}),
        (
            {"address_from": "nope", "address_to": ADDRESS_TO, "parcels": [parcel()]},
            {"address_from": ['Invalid pk "nope" - object does not exist.']},
        ),
        (
            {"address_from": ADDRESS_FROM, "address_to": ADDRESS_TO, "parcels": [parcel("x")]},
            {"parcels": [{"weight": ["A valid number is required."]}]},
        ),
        (
            {
                "address_from": ADDRESS_FROM,
                "address_to": ADDRESS_TO,
                "parcels": [parcel("1", "stone")],
            },
            {"parcels": [{"mass_unit": ['"stone" is not a valid choice.']}]},
        ),
    ],
)
def test_invalid_shipments_get_drf_style_errors(
    client: httpx2.Client, body: dict[str, object], errors: dict[str, object]
) -> None:
    response = client.post("/shipments", json=body)
    assert response.status_code == 400
    assert response.json() == errors


def test_malformed_json_is_a_400(client: httpx2.Client) -> None:
    response = client.post("/shipments", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "detail" in response.json()


def test_unknown_ids_are_404(client: httpx2.Client) -> None:
    for path in ("/shipments/nope", "/rates/nope", "/transactions/nope", "/webhooks/nope"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}


def test_the_rates_list_is_paginated(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    listed = client.get(f"/shipments/{shipment['object_id']}/rates").json()
    assert set(fixture("shipments_rates_list.response.json")) <= set(listed)
    assert listed["previous"] is None and listed["next"] is None
    assert [r["object_id"] for r in listed["results"]] == [
        r["object_id"] for r in shipment["rates"]
    ]
    first = client.get(f"/shipments/{shipment['object_id']}/rates?results=2").json()
    assert len(first["results"]) == 2 and first["next"].endswith("page=2&results=2")
    last = client.get(f"/shipments/{shipment['object_id']}/rates?results=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None and last["previous"]


def test_rates_in_another_currency_are_converted_locally(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    listed = client.get(f"/shipments/{shipment['object_id']}/rates/EUR").json()["results"]
    rate = listed[0]
    assert rate["currency"] == "USD" and rate["currency_local"] == "EUR"
    assert Decimal(rate["amount_local"]) == (Decimal(rate["amount"]) * Decimal("0.92")).quantize(
        Decimal("0.01")
    )
    response = client.get(f"/shipments/{shipment['object_id']}/rates/XYZ")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_rate_can_be_read_by_id(client: httpx2.Client) -> None:
    rate = cheapest(create_shipment(client))
    assert client.get(f"/rates/{rate['object_id']}").json() == rate


def test_a_synchronous_purchase_makes_a_label(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    transaction = buy(client, cheapest(shipment)["object_id"])
    assert transaction["status"] == "SUCCESS"
    assert set(fixture("transactions_retrieve_success.composed.json")) <= set(transaction)
    assert transaction["tracking_number"]
    assert transaction["tracking_status"] == "UNKNOWN"
    assert transaction["tracking_number"] in transaction["tracking_url_provider"]
    label = httpx2.get(transaction["label_url"])
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert sandbox.labels(TEST_TOKEN) == 1


def test_an_unknown_label_file_is_404(sandbox: ShippoSandbox) -> None:
    assert httpx2.get(f"{sandbox.base_url}/labels/nope.pdf").status_code == 404


def test_a_transaction_without_a_rate_gets_the_recorded_error(client: httpx2.Client) -> None:
    response = client.post("/transactions", json={})
    assert response.status_code == 400
    assert response.json() == fixture("error_400_transaction_missing_rate.json")
    unknown = client.post("/transactions", json={"rate": "nope"})
    assert unknown.status_code == 400 and "rate" in unknown.json()


def test_a_rate_bought_twice_makes_one_label(sandbox: ShippoSandbox, client: httpx2.Client) -> None:
    rate = cheapest(create_shipment(client))
    first = buy(client, rate["object_id"])
    second = buy(client, rate["object_id"])
    assert first["status"] == "SUCCESS"
    assert second["status"] == "ERROR"
    assert second["label_url"] == "" and second["tracking_number"] == ""
    assert second["messages"][0]["code"] == "rate_already_purchased"
    assert first["object_id"] in second["messages"][0]["text"]
    assert sandbox.labels(TEST_TOKEN) == 1


def test_a_rate_older_than_seven_days_cannot_be_bought(
    sandbox: ShippoSandbox, client: httpx2.Client, clock: FakeClock
) -> None:
    shipment = create_shipment(client)
    fresh, stale = shipment["rates"][0], shipment["rates"][1]
    clock.advance(7 * 86400)
    assert buy(client, fresh["object_id"])["status"] == "SUCCESS"  # exactly 7 days: still ok
    clock.advance(1)
    refused = buy(client, stale["object_id"])
    assert refused["status"] == "ERROR"
    assert refused["object_state"] == "INVALID"
    assert refused["messages"][0]["code"] == "rate_expired"
    assert sandbox.labels(TEST_TOKEN) == 1


def test_live_tokens_make_live_objects_in_their_own_store(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    test_shipment = create_shipment(client)
    with http_client(sandbox, LIVE_TOKEN) as live:
        shipment = create_shipment(live)
        assert shipment["test"] is False
        assert shipment["rates"][0]["test"] is False
        assert live.get(f"/shipments/{test_shipment['object_id']}").status_code == 404
        assert live.get("/shipments").json()["count"] == 1


def test_a_trailing_slash_is_the_same_route(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    assert (
        client.get(f"/shipments/{shipment['object_id']}/").json()["object_id"]
        == (shipment["object_id"])
    )


def test_a_wrong_method_is_405(client: httpx2.Client) -> None:
    response = client.delete("/shipments")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_rates_older_than_390_days_are_not_returned(
    client: httpx2.Client, clock: FakeClock
) -> None:
    shipment = create_shipment(client)
    rate_path = f"/rates/{shipment['rates'][0]['object_id']}"
    clock.advance(390 * 86400)
    assert client.get(rate_path).status_code == 200
    clock.advance(1)
    assert client.get(rate_path).json() == {"detail": "Not found."}
    assert client.get(f"/shipments/{shipment['object_id']}/rates").json()["results"] == []


def test_an_address_without_its_required_fields_gets_field_errors(client: httpx2.Client) -> None:
    response = client.post("/addresses", json={"name": "Nobody", "street1": "1 Main St"})
    assert response.status_code == 400
    assert response.json() == {f: ["This field is required."] for f in ("city", "zip", "country")}


def test_bad_pages_are_refused(client: httpx2.Client) -> None:
    assert client.get("/shipments?page=x").status_code == 400
    assert client.get("/shipments?page=9").json() == {"detail": "Invalid page."}


def test_a_shipments_address_errors_are_nested_under_its_field(client: httpx2.Client) -> None:
    body = {"address_from": {"street1": "x"}, "address_to": ADDRESS_TO, "parcels": [parcel()]}
    errors = client.post("/shipments", json=body).json()
    assert errors == {
        "address_from": {f: ["This field is required."] for f in ("city", "zip", "country")}
    }


def test_a_label_is_refunded_once(sandbox: ShippoSandbox, client: httpx2.Client) -> None:
    label = buy(client, cheapest(create_shipment(client))["object_id"])
    refunded = client.post("/refunds", json={"transaction": label["object_id"], "async": False})
    assert refunded.status_code == 201, refunded.text
    refund = refunded.json()
    assert refund["status"] == "SUCCESS" and refund["transaction"] == label["object_id"]
    assert refund["test"] is True
    assert client.get(f"/transactions/{label['object_id']}").json()["status"] == "REFUNDED"
    assert client.get(f"/refunds/{refund['object_id']}").json() == refund
    assert client.get("/refunds").json()["results"] == [refund]
    again = client.post("/refunds", json={"transaction": label["object_id"]})
    assert again.status_code == 400
    assert again.json() == {"transaction": ["Refund with this Transaction already exists."]}
    assert httpx2.get(label["label_url"]).status_code == 404


def test_a_refund_needs_a_label(client: httpx2.Client) -> None:
    assert client.post("/refunds", json={}).json() == {"transaction": ["This field is required."]}
    unknown = client.post("/refunds", json={"transaction": "nope"})
    assert unknown.status_code == 400
    assert unknown.json() == {"transaction": ['Invalid pk "nope" - object does not exist.']}


def test_a_live_refund_waits_for_the_carrier(sandbox: ShippoSandbox) -> None:
    with http_client(sandbox, LIVE_TOKEN) as live:
        label = buy(live, cheapest(create_shipment(live))["object_id"])
        refund = live.post("/refunds", json={"transaction": label["object_id"]}).json()
        assert refund["status"] == "QUEUED" and refund["test"] is False
        assert live.get(f"/transactions/{label['object_id']}").json()["status"] == "REFUNDPENDING"
