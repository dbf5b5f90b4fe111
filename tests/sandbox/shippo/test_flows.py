"""The asynchronous flows (QUEUED, then SUCCESS after polls) and tracking: the test
carrier's numbers, registering numbers, and a label's track advanced by the control API."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.shippo.conftest import (
    ADDRESS_FROM,
    ADDRESS_TO,
    TEST_TOKEN,
    buy,
    cheapest,
    create_shipment,
    fixture,
    http_client,
    parcel,
)
from tradewind.sandbox.shippo import TEST_NUMBERS, ShippoSandbox


def test_an_async_shipment_is_queued_until_polled_twice(client: httpx2.Client) -> None:
    body = {"address_from": ADDRESS_FROM, "address_to": ADDRESS_TO, "parcels": [parcel()]}
    queued = client.post("/shipments", json=body).json()  # async defaults to true
    assert queued["status"] == "QUEUED" and queued["rates"] == []
    path = f"/shipments/{queued['object_id']}"
    assert client.get(f"{path}/rates").json()["results"] == []  # listing does not poll
    first = client.get(path).json()
    assert first["status"] == "QUEUED" and first["rates"] == []
    done = client.get(path).json()
    assert done["status"] == "SUCCESS" and len(done["rates"]) == 5
    assert client.get(path).json()["rates"] == done["rates"]  # stays done
    assert len(client.get(f"{path}/rates").json()["results"]) == 5


def test_an_async_transaction_is_queued_then_succeeds(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    rate = cheapest(create_shipment(client))
    response = client.post(
        "/transactions", json={"rate": rate["object_id"], "label_file_type": "PDF_4x6"}
    )
    assert response.status_code == 201
    queued = response.json()
    assert set(fixture("transactions_create_async_queued.response.json")) <= set(queued)
    assert queued["status"] == "QUEUED" and queued["label_url"] == ""
    assert sandbox.labels(TEST_TOKEN) == 0
    path = f"/transactions/{queued['object_id']}"
    assert client.get(path).json()["status"] == "QUEUED"
    done = client.get(path).json()
    assert done["status"] == "SUCCESS"
    assert done["label_url"] and done["tracking_number"]
    assert done["label_file_type"] == "PDF_4x6"
    assert sandbox.labels(TEST_TOKEN) == 1
    assert client.get(path).json()["tracking_number"] == done["tracking_number"]


def test_a_queued_rate_cannot_be_bought_again(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    rate = cheapest(create_shipment(client))
    client.post("/transactions", json={"rate": rate["object_id"]})
    again = client.post("/transactions", json={"rate": rate["object_id"]}).json()
    assert again["status"] == "ERROR"
    assert sandbox.labels(TEST_TOKEN) == 0


@pytest.mark.parametrize(("number", "status"), sorted(TEST_NUMBERS.items()))
def test_the_test_carriers_numbers_report_their_status(
    client: httpx2.Client, number: str, status: str
) -> None:
    track = client.get(f"/tracks/shippo/{number}").json()
    assert track["carrier"] == "shippo" and track["tracking_number"] == number
    assert track["tracking_status"]["status"] == status
    assert track["tracking_history"][-1]["status"] == status


def test_a_track_has_the_recorded_shape(client: httpx2.Client) -> None:
    track = client.get("/tracks/shippo/SHIPPO_DELIVERED").json()
    recorded = fixture("tracks_get_delivered.response.json")
    assert set(recorded) <= set(track)
    assert set(recorded["tracking_status"]) <= set(track["tracking_status"])


def test_an_unsupported_carrier_gets_the_recorded_error_shape(client: httpx2.Client) -> None:
    response = client.get("/tracks/EXAMPLE_OF_INVALID_CARRIER/123")
    assert response.status_code == 400
    assert response.json() == fixture("error_400_track_invalid_carrier.json")


def test_registering_a_number_keeps_its_metadata(client: httpx2.Client) -> None:
    request = fixture("tracks_register.request.json")
    response = client.post("/tracks", json=request)
    assert response.status_code == 200
    assert response.json()["metadata"] == "metadata"
    again = client.get(f"/tracks/usps/{request['tracking_number']}").json()
    assert again["metadata"] == "metadata"
    missing = client.post("/tracks", json={})
    assert missing.status_code == 400
    assert missing.json() == {
        "carrier": ["This field is required."],
        "tracking_number": ["This field is required."],
    }


def test_a_labels_track_advances_through_the_ladder(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    transaction = buy(client, cheapest(create_shipment(client))["object_id"])
    number = transaction["tracking_number"]
    track = client.get(f"/tracks/usps/{number}").json()
    assert track["transaction"] == transaction["object_id"]
    assert track["tracking_status"]["status"] == "UNKNOWN"
    for expected in ("PRE_TRANSIT", "TRANSIT", "DELIVERED"):
        assert sandbox.advance_track("usps", number)["tracking_status"]["status"] == expected
    track = client.get(f"/tracks/usps/{number}").json()
    assert [h["status"] for h in track["tracking_history"]] == [
        "UNKNOWN",
        "PRE_TRANSIT",
        "TRANSIT",
        "DELIVERED",
    ]
    updated = client.get(f"/transactions/{transaction['object_id']}").json()
    assert updated["tracking_status"] == "DELIVERED"
    with pytest.raises(ValueError, match="final"):
        sandbox.advance_track("usps", number)
    assert sandbox.advance_track("usps", number, "RETURNED")["tracking_status"]["status"] == (
        "RETURNED"
    )


def test_the_control_api_advances_a_track(sandbox: ShippoSandbox, client: httpx2.Client) -> None:
    client.post("/tracks", json={"carrier": "shippo", "tracking_number": "SHIPPO_PRE_TRANSIT"})
    control = f"{sandbox.base_url}/_sandbox/tracks/shippo/SHIPPO_PRE_TRANSIT/advance"
    moved = httpx2.post(control, json={})
    assert moved.status_code == 200
    assert moved.json()["tracking_status"]["status"] == "TRANSIT"
    assert (
        httpx2.post(control, json={"status": "FAILURE"}).json()["tracking_status"]["status"]
        == "FAILURE"
    )
    assert httpx2.post(control, json={"status": "LOST"}).status_code == 422
    unknown = f"{sandbox.base_url}/_sandbox/tracks/shippo/NOPE/advance"
    assert httpx2.post(unknown, json={}).status_code == 404


def test_the_number_of_polls_is_an_option() -> None:
    with ShippoSandbox(polls=1) as sandbox:
        token = sandbox.add_token()
        with http_client(sandbox, token) as http:
            queued = create_shipment(http, run_async=True)
            assert queued["status"] == "QUEUED"
            assert http.get(f"/shipments/{queued['object_id']}").json()["status"] == "SUCCESS"


def test_an_instant_purchase_rates_and_buys_in_one_call(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    shipment = {"address_from": ADDRESS_FROM, "address_to": ADDRESS_TO, "parcels": [parcel()]}
    body = {
        "shipment": shipment,
        "carrier_account": "sandbox-usps",
        "servicelevel_token": "usps_priority",
        "async": False,
    }
    transaction = client.post("/transactions", json=body).json()
    assert transaction["status"] == "SUCCESS"
    rate = client.get(f"/rates/{transaction['rate']}").json()
    assert rate["servicelevel"]["token"] == "usps_priority"
    assert sandbox.labels(TEST_TOKEN) == 1
    unknown = client.post("/transactions", json=body | {"servicelevel_token": "ups_teleport"})
    assert unknown.status_code == 400 and "servicelevel_token" in unknown.json()
    missing = client.post("/transactions", json={"shipment": shipment})
    assert missing.json() == {
        "carrier_account": ["This field is required."],
        "servicelevel_token": ["This field is required."],
    }
