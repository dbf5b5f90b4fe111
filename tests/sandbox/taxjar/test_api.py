"""Authentication, API versions, the routes besides taxes and transactions, unknown routes
and ``X-TJ-Expected-Response``."""

from __future__ import annotations

import httpx2
import pytest
from starlette.testclient import TestClient

from tests.sandbox.taxjar.conftest import fixture, same_json
from tradewind.sandbox.taxjar import Faults, RateLimiter, State, TaxJarSandbox, create_app
from tradewind.sandbox.taxjar.state import Account


def test_no_token_is_401_with_taxjar_body(anonymous: httpx2.Client) -> None:
    response = anonymous.get("/v2/nexus/regions")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unauthorized",
        "detail": "Not authorized for route 'GET /v2/nexus/regions'",
        "status": 401,
    }


@pytest.mark.parametrize("scheme", ["Bearer {}", 'Token token="{}"', "Token token={}"])
def test_both_documented_header_forms(anonymous: httpx2.Client, token: str, scheme: str) -> None:
    response = anonymous.get("/v2/nexus/regions", headers={"Authorization": scheme.format(token)})
    assert response.status_code == 200


def test_unknown_token_is_401(anonymous: httpx2.Client) -> None:
    response = anonymous.get("/v2/categories", headers={"Authorization": "Bearer nobody"})
    assert (response.status_code, response.json()["error"]) == (401, "Unauthorized")


def test_revoked_token_is_401_and_others_still_work(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    other = sandbox.create_account().token
    assert http.get("/v2/nexus/regions").status_code == 200
    revoked = http.post(f"{sandbox.base_url}/_sandbox/accounts/{token}/revoke")
    assert revoked.status_code == 200
    response = http.get("/v2/nexus/regions")
    assert (response.status_code, response.json()["status"]) == (401, 401)
    good = http.get("/v2/nexus/regions", headers={"Authorization": f"Bearer {other}"})
    assert good.status_code == 200


@pytest.mark.parametrize("version", ["2020-08-07", "2012-01-01"])
def test_api_versions_accepted(http: httpx2.Client, version: str) -> None:
    assert http.get("/v2/categories", headers={"x-api-version": version}).status_code == 200


def test_unknown_api_version_refused(http: httpx2.Client) -> None:
    response = http.get("/v2/categories", headers={"x-api-version": "1999-01-01"})
    assert (response.status_code, response.json()["error"]) == (400, "Bad Request")


def test_nexus_regions_as_documented(http: httpx2.Client) -> None:
    got = http.get("/v2/nexus/regions").json()
    assert same_json(got, fixture("get_list_nexus_regions.response")) == []


def test_nexus_regions_follow_the_control_api(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    response = http.put(
        f"{sandbox.base_url}/_sandbox/accounts/{token}/nexus",
        json={"regions": [{"country_code": "CA", "region_code": "ON"}, {"region_code": "tx"}]},
    )
    assert response.status_code == 200
    assert http.get("/v2/nexus/regions").json() == {
        "regions": [
            {"country_code": "CA", "country": "Canada", "region_code": "ON", "region": "Ontario"},
            {
                "country_code": "US",
                "country": "United States",
                "region_code": "TX",
                "region": "Texas",
            },
        ]
    }


def test_categories_list_clothing(http: httpx2.Client) -> None:
    categories = http.get("/v2/categories").json()["categories"]
    assert {"name", "product_tax_code", "description"} <= set(categories[0])
    assert "20010" in {c["product_tax_code"] for c in categories}


def test_unknown_route_and_wrong_method(http: httpx2.Client) -> None:
    missing = http.get("/v2/summary_rates")
    assert (missing.status_code, missing.json()["error"]) == (404, "Not Found")
    wrong = http.delete("/v2/taxes")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "Method Not Allowed")


@pytest.mark.parametrize(
    ("code", "reason"),
    [(400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
     (405, "Method Not Allowed"), (406, "Not Acceptable"), (410, "Gone"),
     (422, "Unprocessable Entity"), (429, "Too Many Requests"), (500, "Internal Server Error"),
     (503, "Service Unavailable")],
)  # fmt: skip
def test_expected_response_header(http: httpx2.Client, code: int, reason: str) -> None:
    body = fixture("taxes_us_ca_destination.request")
    response = http.post("/v2/taxes", json=body, headers={"X-TJ-Expected-Response": str(code)})
    assert response.status_code == code
    error = response.json()
    assert (error["error"], error["status"]) == (reason, code)
    assert isinstance(error["detail"], str)
    assert http.post("/v2/taxes", json=body).status_code == 200


def test_expected_response_changes_nothing(http: httpx2.Client) -> None:
    body = fixture("post_create_an_order_transaction.request")
    http.post("/v2/transactions/orders", json=body, headers={"X-TJ-Expected-Response": "500"})
    assert http.get("/v2/transactions/orders/123").status_code == 404


def test_expected_response_needs_a_valid_token(anonymous: httpx2.Client) -> None:
    response = anonymous.get("/v2/categories", headers={"X-TJ-Expected-Response": "500"})
    assert response.status_code == 401


def test_control_api_creates_accounts(anonymous: httpx2.Client) -> None:
    made = anonymous.post(
        "/_sandbox/accounts",
        json={"token": "made-here", "nexus": [{"country_code": "US", "region_code": "TX"}]},
    )
    assert made.status_code == 201
    assert made.json()["nexus"] == [{"country_code": "US", "region_code": "TX"}]
    assert anonymous.post("/_sandbox/accounts", json={"token": "made-here"}).status_code == 409
    regions = anonymous.get("/v2/nexus/regions", headers={"Authorization": "Bearer made-here"})
    assert [r["region_code"] for r in regions.json()["regions"]] == ["TX"]
    assert anonymous.get("/_sandbox/accounts/nobody").status_code == 404
    assert anonymous.post("/_sandbox/accounts", json={"per_minute": 0}).status_code == 422


class BrokenState(State):
    """An account store that fails after a calculation, as a sandbox bug would."""

    def count_calculation(self, account: Account) -> None:
        raise RuntimeError("boom")


def test_a_sandbox_failure_still_answers_in_taxjar_shape() -> None:
    state = BrokenState()
    state.create_account("tok")
    app = create_app(state, Faults(), RateLimiter())
    with TestClient(app) as client:
        response = client.post(
            "/v2/taxes",
            json=fixture("taxes_us_ca_destination.request"),
            headers={"Authorization": "Bearer tok"},
        )
    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"
