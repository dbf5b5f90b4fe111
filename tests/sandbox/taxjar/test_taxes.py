"""POST /v2/taxes: the documentation's six scenarios to the cent, the documented
validation (each refusal, then the same request fixed), nexus and the address rule."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.taxjar.conftest import SCENARIOS, fixture, same_json
from tradewind.sandbox.taxjar import TaxJarSandbox

US_ORDER: dict[str, Any] = {
    "to_country": "US",
    "to_zip": "90002",
    "to_state": "CA",
    "to_city": "Los Angeles",
    "amount": 15,
    "shipping": 1.5,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_documented_scenario_reproduced_exactly(http: httpx2.Client, scenario: str) -> None:
    response = http.post("/v2/taxes", json=fixture(f"{scenario}.request"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert same_json(response.json(), fixture(f"{scenario}.response")) == []


def test_scenario_numbers_that_matter(http: httpx2.Client) -> None:
    """Spelled out for the reader: NY exempts clothing from its state share only."""
    tax = http.post("/v2/taxes", json=fixture("taxes_clothing_exemption.request")).json()["tax"]
    assert (tax["amount_to_collect"], tax["rate"], tax["taxable_amount"]) == (1.98, 0.05218, 37.93)
    lines = tax["breakdown"]["line_items"]
    assert [line["state_amount"] for line in lines] == [0, 0]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert tax["breakdown"]["shipping"]["state_amount"] == 0.32


def test_freight_not_taxable_has_no_shipping_breakdown(http: httpx2.Client) -> None:
    tax = http.post("/v2/taxes", json=fixture("taxes_shipping_exemption.request")).json()["tax"]
    assert tax["freight_taxable"] is False
    assert "shipping" not in tax["breakdown"]
    assert tax["taxable_amount"] == 15


def test_origin_sourcing_only_within_the_state(http: httpx2.Client) -> None:
    body = fixture("taxes_origin_based.request")
    body["nexus_addresses"].append({"country": "US", "state": "CA", "zip": "92093"})
    body |= {"from_zip": "92093", "from_state": "CA", "from_city": "La Jolla"}
    tax = http.post("/v2/taxes", json=body).json()["tax"]
    assert tax["tax_source"] == "destination"
    assert tax["jurisdictions"] == {
        "country": "US",
        "state": "TX",
        "county": "HARRIS",
        "city": "HOUSTON",
    }


def test_amount_without_line_items(http: httpx2.Client) -> None:
    tax = http.post("/v2/taxes", json=US_ORDER).json()["tax"]
    assert (tax["amount_to_collect"], tax["order_total_amount"]) == (1.35, 16.5)
    assert "line_items" not in tax["breakdown"]


def test_line_items_win_over_amount_and_discounts_count(http: httpx2.Client) -> None:
    body = US_ORDER | {
        "amount": 999,
        "line_items": [{"id": "a", "quantity": 2, "unit_price": 10, "discount": 5}],
    }
    tax = http.post("/v2/taxes", json=body).json()["tax"]
    assert tax["order_total_amount"] == 16.5
    assert tax["breakdown"]["line_items"][0]["id"] == "a"
    assert tax["breakdown"]["line_items"][0]["taxable_amount"] == 15


def test_unknown_zip_of_a_known_state_takes_the_state_share(http: httpx2.Client) -> None:
    body = US_ORDER | {"to_zip": "94105", "to_city": "San Francisco"}
    tax = http.post("/v2/taxes", json=body).json()["tax"]
    assert tax["rate"] == 0.0625
    assert tax["jurisdictions"] == {"country": "US", "state": "CA", "city": "SAN FRANCISCO"}


def test_exempt_customer_pays_nothing(http: httpx2.Client) -> None:
    tax = http.post("/v2/taxes", json=US_ORDER | {"exemption_type": "wholesale"}).json()["tax"]
    assert (tax["amount_to_collect"], tax["has_nexus"], tax["exemption_type"]) == (
        0,
        True,
        "wholesale",
    )


# --- nexus --------------------------------------------------------------------------------


def test_account_nexus_decides_when_no_nexus_addresses(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    assert http.post("/v2/taxes", json=US_ORDER).json()["tax"]["has_nexus"] is True
    sandbox.set_nexus(token, [("US", "NY")])
    tax = http.post("/v2/taxes", json=US_ORDER).json()["tax"]
    assert same_json(tax, fixture("taxes_no_nexus.response")["tax"]) == []
    sandbox.set_nexus(token, [("US", "CA")])
    assert http.post("/v2/taxes", json=US_ORDER).json()["tax"]["amount_to_collect"] == 1.35


def test_nexus_addresses_replace_the_account_regions(http: httpx2.Client) -> None:
    body = US_ORDER | {"nexus_addresses": [{"country": "US", "state": "TX", "zip": "78701"}]}
    assert http.post("/v2/taxes", json=body).json()["tax"]["has_nexus"] is False


def test_canadian_nexus_is_federal(sandbox: TaxJarSandbox, http: httpx2.Client, token: str) -> None:
    body = fixture("taxes_canada.request")
    del body["nexus_addresses"]
    assert http.post("/v2/taxes", json=body).json()["tax"]["has_nexus"] is False
    sandbox.set_nexus(token, [("CA", "QC")])
    assert http.post("/v2/taxes", json=body).json()["tax"]["amount_to_collect"] == 2.15


# --- validation: each refusal, then the same request made right ------------------------------


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"to_country": None}, 406, "to_country is missing"),
        ({"to_zip": None}, 406, "to_zip is missing"),
        ({"to_state": None}, 406, "to_state is missing"),
        ({"shipping": None}, 406, "shipping is missing"),
        ({"amount": None}, 406, "amount or line_items is missing"),
        ({"shipping": "lots"}, 400, "shipping must be a number"),
        ({"to_zip": "9000"}, 400, "to_zip 9000 isn't a valid postal code for US"),
        ({"to_state": "NY"}, 400, "to_zip 90002 is not used within to_state NY"),
        ({"to_state": "XX"}, 400, "to_zip 90002 is not used within to_state XX"),
        ({"exemption_type": "friends"}, 400, None),
    ],
)
def test_refused_then_accepted(
    http: httpx2.Client, change: dict[str, Any], status: int, detail: str | None
) -> None:
    body = {k: v for k, v in (US_ORDER | change).items() if v is not None}
    response = http.post("/v2/taxes", json=body)
    assert response.status_code == status
    error = response.json()
    assert error["status"] == status
    assert error["error"] == {400: "Bad Request", 406: "Not Acceptable"}[status]
    if detail is not None:
        assert error["detail"] == detail
    assert http.post("/v2/taxes", json=US_ORDER).status_code == 200


def test_canada_requires_a_province_and_a_matching_postal_code(http: httpx2.Client) -> None:
    body = fixture("taxes_canada.request")
    response = http.post("/v2/taxes", json=body | {"to_state": "BC"})
    assert response.status_code == 400
    assert response.json()["detail"] == "to_zip M5V 2T6 is not used within to_state BC"
    del body["to_state"]
    assert http.post("/v2/taxes", json=body).json()["detail"] == "to_state is missing"


def test_unknown_province_without_a_postal_code(http: httpx2.Client) -> None:
    body = fixture("taxes_canada.request")
    del body["to_zip"]
    response = http.post("/v2/taxes", json=body | {"to_state": "XX"})
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "to_state XX isn't a valid state for CA",
    )


def test_to_zip_optional_outside_the_us(http: httpx2.Client) -> None:
    body = fixture("taxes_canada.request")
    del body["to_zip"]
    assert http.post("/v2/taxes", json=body).json()["tax"]["amount_to_collect"] == 2.15


def test_body_must_be_json(http: httpx2.Client) -> None:
    response = http.post(
        "/v2/taxes", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


def test_calculations_are_counted(sandbox: TaxJarSandbox, http: httpx2.Client, token: str) -> None:
    http.post("/v2/taxes", json=US_ORDER)
    http.post("/v2/taxes", json=US_ORDER | {"to_zip": "1"})  # refused: not a calculation
    assert http.get(f"{sandbox.base_url}/_sandbox/accounts/{token}").json()["calculations"] == 1


def test_a_line_of_quantity_zero_is_not_taxed(http: httpx2.Client) -> None:
    body = US_ORDER | {"line_items": [{"quantity": 0, "unit_price": 10}]}
    tax = http.post("/v2/taxes", json=body).json()["tax"]
    assert (tax["amount_to_collect"], tax["order_total_amount"]) == (0, 1.5)


def test_countries_outside_the_table_answer_as_without_nexus(http: httpx2.Client) -> None:
    body = {
        "to_country": "GB",
        "to_zip": "SW1A 1AA",
        "amount": 10,
        "shipping": 0,
        "nexus_addresses": [{"country": "GB", "state": "LND"}],
    }
    tax = http.post("/v2/taxes", json=body).json()["tax"]
    assert same_json(tax, fixture("taxes_no_nexus.response")["tax"]) == []
