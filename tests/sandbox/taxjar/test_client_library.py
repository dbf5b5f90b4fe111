"""TaxJar's official Python package (``taxjar`` on PyPI), unmodified, pointed at the
sandbox over plain HTTP on 127.0.0.1: only its ``api_url`` changes."""

from __future__ import annotations

import pytest
import taxjar
from taxjar.exceptions import TaxJarResponseError

from tests.sandbox.taxjar.conftest import SCENARIOS, fixture
from tradewind.sandbox.taxjar import TaxJarSandbox


@pytest.fixture
def client(sandbox: TaxJarSandbox, token: str) -> taxjar.Client:
    made = taxjar.Client(
        api_key=token,
        api_url=sandbox.base_url,
        options={"headers": {"x-api-version": "2020-08-07"}},
    )
    assert made.api_url == f"{sandbox.base_url}/v2/"
    return made


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tax_for_order(client: taxjar.Client, scenario: str) -> None:
    tax = client.tax_for_order(fixture(f"{scenario}.request"))
    want = fixture(f"{scenario}.response")["tax"]
    assert tax.amount_to_collect == want["amount_to_collect"]
    assert tax.rate == want["rate"]
    assert tax.has_nexus is want["has_nexus"]
    assert tax.tax_source == want["tax_source"]
    if "breakdown" in want:
        assert tax.breakdown.tax_collectable == want["breakdown"]["tax_collectable"]
        assert [line.tax_collectable for line in tax.breakdown.line_items] == [
            line["tax_collectable"] for line in want["breakdown"]["line_items"]
        ]
        assert tax.jurisdictions.state == want["jurisdictions"]["state"]


def test_canada_breakdown_fields(client: taxjar.Client) -> None:
    tax = client.tax_for_order(fixture("taxes_canada.request"))
    assert (tax.breakdown.gst, tax.breakdown.pst, tax.breakdown.qst) == (0.83, 1.32, 0)
    assert tax.breakdown.shipping.tax_collectable == 0.2


def test_order_transactions(client: taxjar.Client) -> None:
    created = client.create_order(fixture("post_create_an_order_transaction.request"))
    assert (created.transaction_id, created.amount, created.to_city) == ("123", 16.5, "LOS ANGELES")
    assert created.transaction_date == "2015-05-14T00:00:00Z"
    assert created.line_items[0].product_identifier == "12-34234-9"

    updated = client.update_order("123", fixture("put_update_an_order_transaction.request"))
    assert (updated.amount, updated.shipping, updated.sales_tax) == (17.0, 2.0, 0.95)
    assert client.show_order("123").amount == 17.0
    listed = client.list_orders(
        {"from_transaction_date": "2015/05/01", "to_transaction_date": "2015/05/31"}
    )
    assert list(listed) == ["123"]
    deleted = client.delete_order("123")
    assert (deleted.transaction_id, deleted.amount) == ("123", None)
    assert list(client.list_orders()) == []


def test_refund_transactions(client: taxjar.Client) -> None:
    created = client.create_refund(fixture("post_create_a_refund_transaction.request"))
    assert (created.transaction_id, created.amount, created.sales_tax) == ("321", -16.5, -0.95)
    updated = client.update_refund("321", fixture("put_update_a_refund_transaction.request"))
    assert updated.amount == -17.0
    assert client.show_refund("321").shipping == -2.0
    assert list(client.list_refunds({"from_transaction_date": "2015/05/01"})) == ["321"]
    assert client.delete_refund("321").transaction_id == "321"


def test_nexus_regions(client: taxjar.Client) -> None:
    regions = client.nexus_regions()
    assert [(r.country_code, r.region_code, r.region) for r in regions] == [
        ("US", "CA", "California"),
        ("US", "NY", "New York"),
        ("US", "WA", "Washington"),
    ]


def test_categories(client: taxjar.Client) -> None:
    assert "20010" in [c.product_tax_code for c in client.categories()]


def test_errors_reach_the_client_as_taxjar_errors(client: taxjar.Client) -> None:
    body = fixture("post_create_an_order_transaction.request")
    client.create_order(body)
    with pytest.raises(TaxJarResponseError) as duplicate:
        client.create_order(body)
    assert str(duplicate.value) == "422 Unprocessable Entity"
    assert duplicate.value.full_response["status_code"] == 422
    with pytest.raises(TaxJarResponseError) as refused:
        client.tax_for_order(fixture("taxes_us_ca_destination.request") | {"to_state": "NY"})
    assert refused.value.full_response["detail"] == "to_zip 90002 is not used within to_state NY"


def test_revoked_key_is_401_in_the_client(
    sandbox: TaxJarSandbox, client: taxjar.Client, token: str
) -> None:
    sandbox.revoke(token)
    with pytest.raises(TaxJarResponseError) as refused:
        client.nexus_regions()
    assert str(refused.value) == "401 Unauthorized"


def test_expected_response_through_the_client(sandbox: TaxJarSandbox, token: str) -> None:
    client = taxjar.Client(
        api_key=token,
        api_url=sandbox.base_url,
        options={"headers": {"X-TJ-Expected-Response": "503"}},
    )
    with pytest.raises(TaxJarResponseError) as refused:
        client.tax_for_order(fixture("taxes_canada.request"))
    assert str(refused.value) == "503 Service Unavailable"
