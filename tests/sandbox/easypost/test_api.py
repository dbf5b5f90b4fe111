"""The /v2 contract, route by route: documents shaped as EasyPost's published examples,
the rate table's amounts, and the errors each route answers."""

from __future__ import annotations

import base64
from typing import Any

import httpx2
import pytest

from tests.sandbox.easypost.conftest import (
    PRODUCTION_KEY,
    TEST_KEY,
    create_shipment,
    fixture,
    shipment_body,
)
from tradewind.sandbox.easypost import EasyPostSandbox

# Filled only when asked for (address verification, customs forms): not the sandbox's.
ON_REQUEST = frozenset({"verifications", "customs_info"})


def assert_keys_cover(ours: dict[str, Any], theirs: dict[str, Any], where: str = "") -> None:
    """Every key of EasyPost's example is in the sandbox's document, nested objects too."""
    missing = set(theirs) - set(ours)
    assert not missing, f"{where or 'document'} lacks {sorted(missing)}"
    for key, value in theirs.items():
        if key in ON_REQUEST:
            continue
        if isinstance(value, dict) and value and isinstance(ours.get(key), dict):
            assert_keys_cover(ours[key], value, f"{where}.{key}")


# --- authentication ---------------------------------------------------------------------


def test_basic_auth_with_the_key_as_username(sandbox: EasyPostSandbox) -> None:
    token = base64.b64encode(f"{TEST_KEY}:".encode()).decode()
    response = httpx2.get(
        f"{sandbox.api_base}/shipments", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200
    assert response.json() == {"shipments": [], "has_more": False}


def test_bearer_auth_as_the_client_libraries_send_it(sandbox: EasyPostSandbox) -> None:
    response = httpx2.get(
        f"{sandbox.api_base}/shipments", headers={"Authorization": f"Bearer {TEST_KEY}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "APIKEY.REQUIRED"),
        (("EZTKnobodyhasthiskey", ""), "APIKEY.INVALID"),
        (("sk_not_an_easypost_key", ""), "APIKEY.INVALID"),
    ],
)
def test_missing_or_unknown_key_is_401_with_easypost_error_body(
    sandbox: EasyPostSandbox, auth: tuple[str, str] | None, code: str
) -> None:
    response = httpx2.post(f"{sandbox.api_base}/shipments", json=shipment_body(), auth=auth)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["errors"] == []


def test_a_revoked_key_is_refused_and_works_again_when_re_added(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    assert sandbox.revoke_key(TEST_KEY)
    response = client.get("/shipments")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "APIKEY.INVALID"
    sandbox.add_key("test", TEST_KEY)
    assert client.get("/shipments").status_code == 200


def test_each_key_has_its_own_objects_and_mode(sandbox: EasyPostSandbox) -> None:
    with (
        httpx2.Client(base_url=sandbox.api_base, auth=(TEST_KEY, "")) as test,
        httpx2.Client(base_url=sandbox.api_base, auth=(PRODUCTION_KEY, "")) as live,
    ):
        made = create_shipment(test)
        assert made["mode"] == "test"
        assert {r["mode"] for r in made["rates"]} == {"test"}
        assert made["to_address"]["mode"] == "test"
        assert live.get(f"/shipments/{made['id']}").status_code == 404
        assert create_shipment(live)["mode"] == "production"


# --- shipments and rates ----------------------------------------------------------------

EXPECTED_RATES_66_OZ = {
    ("USPS", "GroundAdvantage"): ("8.30", "9.96", 3),
    ("USPS", "Priority"): ("11.46", "13.75", 2),
    ("USPS", "Express"): ("51.40", "61.68", 1),
    ("UPS", "Ground"): ("11.64", "13.97", 4),
    ("UPS", "NextDayAir"): ("49.80", "59.76", 1),
    ("FedEx", "FEDEX_GROUND"): ("11.30", "13.56", 3),
}


def test_create_shipment_rates_synchronously_from_the_table(client: httpx2.Client) -> None:
    shipment = create_shipment(client, weight="65.9")  # strings, as the docs' curl sends
    assert shipment["id"].startswith("shp_")
    assert shipment["object"] == "Shipment"
    assert shipment["status"] == "unknown"
    assert shipment["messages"] == []
    assert shipment["parcel"]["weight"] == 65.9
    assert shipment["parcel"]["id"].startswith("prcl_")
    assert shipment["to_address"]["id"].startswith("adr_")
    assert shipment["to_address"]["street1"] == "179 N Harbor Dr"
    got = {
        (r["carrier"], r["service"]): (r["rate"], r["retail_rate"], r["delivery_days"])
        for r in shipment["rates"]
    }
    assert got == EXPECTED_RATES_66_OZ
    for rate in shipment["rates"]:
        assert rate["id"].startswith("rate_")
        assert rate["shipment_id"] == shipment["id"]
        assert rate["currency"] == "USD"
        assert rate["carrier_account_id"].startswith("ca_")


def test_documents_carry_every_key_of_easyposts_examples(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    assert_keys_cover(shipment, fixture("shipments-create.response.json"), "shipment")
    assert_keys_cover(shipment["rates"][0], fixture("rates-retrieve.response.json"), "rate")
    bought = client.post(
        f"/shipments/{shipment['id']}/buy",
        json={"rate": {"id": shipment["rates"][0]["id"]}, "insurance": "249.99"},
    ).json()
    assert_keys_cover(bought, fixture("shipments-buy.response.json"), "bought")
    tracker = client.post("/trackers", json=fixture("trackers-create.request.json")).json()
    assert_keys_cover(tracker, fixture("trackers-create.response.json"), "tracker")


def test_a_carrier_that_cannot_rate_answers_in_messages(client: httpx2.Client) -> None:
    shipment = create_shipment(client, weight=10)
    assert {r["carrier"] for r in shipment["rates"]} == {"USPS", "UPS"}
    (message,) = shipment["messages"]
    assert message["carrier"] == "FedEx"
    assert message["type"] == "rate_error"
    assert message["carrier_account_id"].startswith("ca_")
    assert message["message"]


def test_carrier_accounts_restrict_the_rates(client: httpx2.Client) -> None:
    first = create_shipment(client)
    ups = next(r["carrier_account_id"] for r in first["rates"] if r["carrier"] == "UPS")
    shipment = create_shipment(client, carrier_accounts=[ups])
    assert {r["carrier"] for r in shipment["rates"]} == {"UPS"}


def test_one_call_buy_with_service_and_carrier_accounts(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    first = create_shipment(client)
    usps = next(r["carrier_account_id"] for r in first["rates"] if r["carrier"] == "USPS")
    shipment = create_shipment(client, carrier_accounts=[usps], service="Priority")
    assert shipment["selected_rate"]["service"] == "Priority"
    assert shipment["postage_label"]["label_url"]
    assert sandbox.labels(TEST_KEY)["bought"] == 1


def test_one_call_buy_of_a_service_nobody_rated_is_422(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    response = client.post("/shipments", json=shipment_body(service="Teleport"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "SHIPMENT.POSTAGE.FAILURE"
    assert sandbox.labels()["bought"] == 0


def test_form_encoded_bodies_as_curl_sends_them(client: httpx2.Client) -> None:
    form = {
        "shipment[to_address][street1]": "179 N Harbor Dr",
        "shipment[to_address][zip]": "90277",
        "shipment[from_address][street1]": "417 Montgomery Street",
        "shipment[from_address][zip]": "94104",
        "shipment[parcel][weight]": "16",
    }
    response = client.post("/shipments", data=form)
    assert response.status_code == 201, response.text
    assert response.json()["parcel"]["weight"] == 16.0
    ups = next(r for r in response.json()["rates"] if r["carrier"] == "UPS")
    only_ups = client.post(
        "/shipments", data={**form, "shipment[carrier_accounts][]": ups["carrier_account_id"]}
    )
    assert {r["carrier"] for r in only_ups.json()["rates"]} == {"UPS"}


def test_a_shipment_without_a_shipment_is_the_recorded_422(client: httpx2.Client) -> None:
    response = client.post("/shipments", json={})
    assert response.status_code == 422
    assert response.json() == fixture("error_422_parameter_required.json")


def test_a_parcel_without_weight_is_422_parameter_required(client: httpx2.Client) -> None:
    body = shipment_body()
    del body["shipment"]["parcel"]["weight"]
    response = client.post("/shipments", json=body)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "PARAMETER.REQUIRED",
            "message": "Missing required parameter.",
            "errors": [{"field": "shipment.parcel.weight", "message": "cannot be blank"}],
        }
    }


@pytest.mark.parametrize("weight", ["heavy", 0, -3])
def test_a_weight_that_is_not_a_positive_number_is_422(
    client: httpx2.Client, weight: object
) -> None:
    response = client.post("/shipments", json=shipment_body(weight))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "PARAMETER.INVALID"
    assert error["errors"][0]["field"] == "shipment.parcel.weight"


def test_a_missing_address_is_422_naming_it(client: httpx2.Client) -> None:
    body = shipment_body()
    del body["shipment"]["to_address"]
    response = client.post("/shipments", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["errors"] == [
        {"field": "shipment.to_address", "message": "cannot be blank"}
    ]


def test_addresses_and_parcels_made_first_are_reused_by_id(client: httpx2.Client) -> None:
    address = client.post("/addresses", json={"address": {"street1": "1 Main St"}})
    parcel = client.post("/parcels", json={"parcel": {"weight": 12}})
    assert address.status_code == parcel.status_code == 201
    body = shipment_body()
    body["shipment"]["to_address"] = {"id": address.json()["id"]}
    body["shipment"]["parcel"] = {"id": parcel.json()["id"]}
    shipment = client.post("/shipments", json=body).json()
    assert shipment["to_address"]["id"] == address.json()["id"]
    assert shipment["parcel"]["weight"] == 12.0
    body["shipment"]["to_address"] = {"id": "adr_unknown"}
    assert client.post("/shipments", json=body).status_code == 404


def test_retrieve_shipment_rates_and_a_rate(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    got = client.get(f"/shipments/{shipment['id']}")
    assert got.status_code == 200
    assert got.json() == shipment
    rates = client.get(f"/shipments/{shipment['id']}/rates").json()["rates"]
    assert rates == shipment["rates"]
    rate = client.get(f"/rates/{rates[0]['id']}")
    assert rate.json() == rates[0]


def test_rerate_replaces_the_rates(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    rerated = client.post(f"/shipments/{shipment['id']}/rerate").json()["rates"]
    assert {r["rate"] for r in rerated} == {r["rate"] for r in shipment["rates"]}
    assert not {r["id"] for r in rerated} & {r["id"] for r in shipment["rates"]}
    assert client.get(f"/rates/{shipment['rates'][0]['id']}").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/shipments/shp_nope", "/shipments/shp_nope/rates", "/rates/rate_nope", "/trackers/trk_x"],
)
def test_unknown_ids_are_404_not_found(client: httpx2.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_an_unknown_route_is_404_in_easyposts_shape(client: httpx2.Client) -> None:
    response = client.get("/claims")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_body_that_is_not_json_is_400(client: httpx2.Client) -> None:
    response = client.post(
        "/shipments", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


# --- buying and refunding ---------------------------------------------------------------


def buy_cheapest(client: httpx2.Client, shipment: dict[str, Any]) -> httpx2.Response:
    cheapest = min(shipment["rates"], key=lambda r: float(r["rate"]))
    return client.post(f"/shipments/{shipment['id']}/buy", json={"rate": {"id": cheapest["id"]}})


def test_buy_selects_the_rate_and_makes_label_tracking_tracker_and_fees(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    response = buy_cheapest(client, shipment)
    assert response.status_code == 200, response.text
    bought = response.json()
    assert bought["selected_rate"]["service"] == "GroundAdvantage"
    assert bought["selected_rate"]["rate"] == "8.30"
    label = bought["postage_label"]
    assert label["id"].startswith("pl_")
    assert label["label_file_type"] == "image/png"
    assert label["label_url"].startswith(sandbox.base_url)
    image = httpx2.get(label["label_url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert bought["tracking_code"]
    tracker = bought["tracker"]
    assert tracker["id"].startswith("trk_")
    assert tracker["tracking_code"] == bought["tracking_code"]
    assert tracker["shipment_id"] == shipment["id"]
    assert client.get(f"/trackers/{tracker['id']}").json()["id"] == tracker["id"]
    assert bought["fees"] == [
        {
            "object": "Fee",
            "type": "PostageFee",
            "amount": "8.30000",
            "charged": True,
            "refunded": False,
        }
    ]
    assert client.get(f"/shipments/{shipment['id']}").json()["postage_label"] == label
    assert sandbox.labels(TEST_KEY) == {"bought": 1, "refunded": 0}


def test_insurance_adds_the_insurance_fee(client: httpx2.Client) -> None:
    shipment = create_shipment(client)
    bought = client.post(
        f"/shipments/{shipment['id']}/buy",
        json={"rate": {"id": shipment["rates"][0]["id"]}, "insurance": "249.99"},
    ).json()
    assert bought["insurance"] == "249.99"
    assert bought["fees"][1]["type"] == "InsuranceFee"
    assert bought["fees"][1]["amount"] == "1.24995"  # as in EasyPost's example


def test_insurance_that_is_not_a_number_is_422_and_buys_nothing(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    response = client.post(
        f"/shipments/{shipment['id']}/buy",
        json={"rate": {"id": shipment["rates"][0]["id"]}, "insurance": "lots"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["field"] == "insurance"
    after = client.get(f"/shipments/{shipment['id']}").json()
    assert after["postage_label"] is None
    assert after["selected_rate"] is None
    assert after["tracking_code"] is None
    assert sandbox.labels()["bought"] == 0


def test_buying_twice_is_refused_and_buys_no_second_label(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    first = buy_cheapest(client, shipment)
    again = buy_cheapest(client, shipment)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"
    after = client.get(f"/shipments/{shipment['id']}").json()
    assert after["tracking_code"] == first.json()["tracking_code"]
    assert sandbox.labels() == {"bought": 1, "refunded": 0}


def test_buy_without_a_rate_or_with_a_foreign_rate_is_422(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    other = create_shipment(client)
    missing = client.post(f"/shipments/{shipment['id']}/buy", json={})
    assert missing.status_code == 422
    assert missing.json()["error"]["errors"] == [{"field": "rate", "message": "cannot be blank"}]
    foreign = client.post(
        f"/shipments/{shipment['id']}/buy", json={"rate": {"id": other["rates"][0]["id"]}}
    )
    assert foreign.status_code == 422
    assert sandbox.labels()["bought"] == 0


def test_refund_submits_once_and_only_for_a_bought_label(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    early = client.post(f"/shipments/{shipment['id']}/refund")
    assert early.status_code == 422
    buy_cheapest(client, shipment)
    refunded = client.post(f"/shipments/{shipment['id']}/refund")
    assert refunded.status_code == 200
    assert refunded.json()["refund_status"] == "submitted"
    again = client.post(f"/shipments/{shipment['id']}/refund")
    assert again.status_code == 422
    assert sandbox.labels(TEST_KEY) == {"bought": 1, "refunded": 1}


def test_list_shipments_newest_first(client: httpx2.Client) -> None:
    first = create_shipment(client)
    second = create_shipment(client)
    listed = client.get("/shipments").json()
    assert [s["id"] for s in listed["shipments"]] == [second["id"], first["id"]]
    assert listed["has_more"] is False


# --- trackers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "details"),
    [
        ("EZ1000000001", "pre_transit", 1),
        ("EZ2000000002", "in_transit", 2),
        ("EZ3000000003", "out_for_delivery", 3),
        ("EZ4000000004", "delivered", 4),
        ("EZ5000000005", "return_to_sender", 3),
        ("EZ6000000006", "failure", 3),
        ("EZ7000000007", "unknown", 0),
    ],
)
def test_test_tracking_codes_report_their_status(
    client: httpx2.Client, code: str, status: str, details: int
) -> None:
    response = client.post(
        "/trackers", json={"tracker": {"tracking_code": code, "carrier": "USPS"}}
    )
    assert response.status_code == 201
    tracker = response.json()
    assert tracker["id"].startswith("trk_")
    assert tracker["object"] == "Tracker"
    assert tracker["mode"] == "test"
    assert tracker["status"] == status
    assert len(tracker["tracking_details"]) == details
    if details:
        assert tracker["tracking_details"][-1]["status"] == status
        assert tracker["tracking_details"][0]["object"] == "TrackingDetail"


def test_a_tracker_is_created_once_per_code_and_carrier(client: httpx2.Client) -> None:
    body = {"tracker": {"tracking_code": "EZ1000000001", "carrier": "USPS"}}
    first = client.post("/trackers", json=body).json()
    assert client.post("/trackers", json=body).json()["id"] == first["id"]
    assert [t["id"] for t in client.get("/trackers").json()["trackers"]] == [first["id"]]


def test_trackers_are_listed_by_tracking_code_and_carrier(client: httpx2.Client) -> None:
    one = client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}}).json()
    two = client.post("/trackers", json={"tracker": {"tracking_code": "EZ2000000002"}}).json()
    ups = client.post(
        "/trackers", json={"tracker": {"tracking_code": "EZ2000000002", "carrier": "UPS"}}
    ).json()

    def listed(**query: str) -> list[str]:
        return [t["id"] for t in client.get("/trackers", params=query).json()["trackers"]]

    assert listed() == [ups["id"], two["id"], one["id"]]
    assert listed(tracking_code="EZ2000000002") == [ups["id"], two["id"]]
    assert listed(tracking_code="EZ2000000002", carrier="USPS") == [two["id"]]
    several = client.get(
        "/trackers", params=[("tracking_codes[]", "EZ1000000001"), ("tracking_codes[]", "EZ9")]
    )
    assert [t["id"] for t in several.json()["trackers"]] == [one["id"]]


def test_an_unknown_label_file_is_404(sandbox: EasyPostSandbox) -> None:
    assert httpx2.get(f"{sandbox.base_url}/files/postage_label/pl_nope.png").status_code == 404


def test_a_tracker_without_tracking_code_is_422(client: httpx2.Client) -> None:
    response = client.post("/trackers", json={"tracker": {"carrier": "USPS"}})
    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["field"] == "tracker.tracking_code"


def test_advancing_a_tracker_walks_the_ladder_and_moves_the_shipment(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    tracker = buy_cheapest(client, shipment).json()["tracker"]
    assert tracker["status"] == "unknown"
    seen = [sandbox.advance_tracker(tracker["id"])["status"] for _ in range(5)]
    assert seen == ["pre_transit", "in_transit", "out_for_delivery", "delivered", "delivered"]
    got = client.get(f"/trackers/{tracker['id']}").json()
    assert [d["status"] for d in got["tracking_details"]] == seen[:4]
    assert got["finalized"] is True
    assert client.get(f"/shipments/{shipment['id']}").json()["status"] == "delivered"


def test_a_returned_or_failed_tracker_does_not_move_on_its_own(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    made = client.post("/trackers", json={"tracker": {"tracking_code": "EZ5000000005"}})
    assert sandbox.advance_tracker(made.json()["id"])["status"] == "return_to_sender"


def test_the_control_api_advances_a_tracker_over_http(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    tracker = client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}}).json()
    control = f"{sandbox.base_url}/_sandbox/trackers"
    moved = httpx2.post(f"{control}/{tracker['id']}/advance", json={})
    assert moved.json()["status"] == "in_transit"
    jumped = httpx2.post(f"{control}/{tracker['id']}/advance", json={"status": "delivered"})
    assert jumped.json()["status"] == "delivered"
    assert httpx2.post(f"{control}/trk_nope/advance").status_code == 404
    bad = httpx2.post(f"{control}/{tracker['id']}/advance", json={"status": "lost"})
    assert bad.status_code == 422


# --- webhooks and events ----------------------------------------------------------------


def test_webhook_create_list_retrieve_update_delete(client: httpx2.Client) -> None:
    created = client.post("/webhooks", json=fixture("webhooks-create.request.json"))
    assert created.status_code == 201
    hook = created.json()
    expected = fixture("webhooks-create.response.json")
    assert set(hook) == set(expected)
    assert hook["url"] == expected["url"] == "http://example.com"
    assert hook["custom_headers"] == expected["custom_headers"]
    assert "webhook_secret" not in hook
    assert hook["id"].startswith("hook_")
    assert client.get("/webhooks").json() == {"webhooks": [hook]}
    assert client.get(f"/webhooks/{hook['id']}").json() == hook
    assert client.get("/webhooks/hook_nope").status_code == 404
    updated = client.patch(f"/webhooks/{hook['id']}", json={"webhook_secret": "new"})
    assert updated.status_code == 200
    assert updated.json() == hook
    replaced = client.put(
        f"/webhooks/{hook['id']}",
        json={"webhook": {"custom_headers": [{"name": "X-Other", "value": "1"}]}},
    )
    assert replaced.json()["custom_headers"] == [{"name": "X-Other", "value": "1"}]
    assert client.delete(f"/webhooks/{hook['id']}").json() == {}
    assert client.get(f"/webhooks/{hook['id']}").status_code == 404
    assert client.get("/webhooks").json() == {"webhooks": []}


def test_a_webhook_without_url_is_422(client: httpx2.Client) -> None:
    response = client.post("/webhooks", json={"webhook": {"webhook_secret": "x"}})
    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["field"] == "webhook.url"


def test_events_are_listed_and_retrieved_without_result(client: httpx2.Client) -> None:
    client.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
    (event,) = client.get("/events").json()["events"]
    assert event["description"] == "tracker.created"
    assert "result" not in event
    got = client.get(f"/events/{event['id']}").json()
    assert set(got) == set(fixture("events-retrieve.response.json"))
    assert client.get("/events/evt_nope").status_code == 404


def test_a_method_the_route_does_not_have_is_405(client: httpx2.Client) -> None:
    response = client.delete("/shipments")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
