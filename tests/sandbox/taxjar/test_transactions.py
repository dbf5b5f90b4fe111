"""Order and refund transactions against the documentation's examples: create, show,
update, delete, list by date; duplicates, missing fields and unknown ids."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.sandbox.taxjar.conftest import fixture, same_json
from tradewind.sandbox.taxjar import TaxJarSandbox

ORDERS = "/v2/transactions/orders"
REFUNDS = "/v2/transactions/refunds"


def as_sent(response: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The docs' response with the line fields the docs got wrong taken from the request
    (see fixtures/README.md)."""
    kind = next(iter(response))
    for shown, sent in zip(response[kind]["line_items"], request["line_items"], strict=True):
        shown["product_identifier"] = sent["product_identifier"]
        shown["description"] = sent.get("description")
    return response


def create_order(http: httpx2.Client) -> dict[str, Any]:
    response = http.post(ORDERS, json=fixture("post_create_an_order_transaction.request"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def create_refund(http: httpx2.Client) -> dict[str, Any]:
    response = http.post(REFUNDS, json=fixture("post_create_a_refund_transaction.request"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_create_order_answers_the_documented_shape(http: httpx2.Client, token: str) -> None:
    got = create_order(http)
    want = as_sent(
        fixture("post_create_an_order_transaction.response"),
        fixture("post_create_an_order_transaction.request"),
    )
    want["order"]["user_id"] = got["order"]["user_id"]  # each account has its own user id
    assert same_json(got, want) == []


def test_show_and_update_order(http: httpx2.Client) -> None:
    create_order(http)
    update = fixture("put_update_an_order_transaction.request")
    got = http.put(f"{ORDERS}/123", json=update)
    assert got.status_code == 200
    want = as_sent(fixture("put_update_an_order_transaction.response"), update)
    want["order"]["user_id"] = got.json()["order"]["user_id"]
    assert same_json(got.json(), want) == []
    shown = http.get(f"{ORDERS}/123").json()
    want = as_sent(fixture("get_show_an_order_transaction.response"), update)
    want["order"]["user_id"] = shown["order"]["user_id"]
    assert same_json(shown, want) == []
    # the update kept what it did not send
    assert (shown["order"]["to_zip"], shown["order"]["transaction_date"]) == (
        "90002",
        "2015-05-14T00:00:00Z",
    )


def test_delete_order_answers_nulls_then_it_is_gone(http: httpx2.Client) -> None:
    created = create_order(http)
    got = http.delete(f"{ORDERS}/123")
    want = fixture("delete_delete_an_order_transaction.response")
    want["order"]["user_id"] = created["order"]["user_id"]
    assert same_json(got.json(), want) == []
    missing = http.get(f"{ORDERS}/123")
    assert missing.status_code == 404
    assert missing.json()["error"] == "Not Found"
    assert http.delete(f"{ORDERS}/123").status_code == 404
    assert http.post(ORDERS, json=fixture("post_create_an_order_transaction.request")).is_success


def test_refund_lifecycle(http: httpx2.Client) -> None:
    got = create_refund(http)
    request = fixture("post_create_a_refund_transaction.request")
    want = as_sent(fixture("post_create_a_refund_transaction.response"), request)
    want["refund"]["user_id"] = got["refund"]["user_id"]
    assert same_json(got, want) == []

    update = fixture("put_update_a_refund_transaction.request")
    updated = http.put(f"{REFUNDS}/321", json=update).json()
    want = as_sent(fixture("get_show_a_refund_transaction.response"), update)
    want["refund"]["user_id"] = got["refund"]["user_id"]
    assert same_json(updated, want) == []
    assert http.get(f"{REFUNDS}/321").json() == updated

    deleted = http.delete(f"{REFUNDS}/321").json()
    want = fixture("delete_delete_a_refund_transaction.response")
    want["refund"]["user_id"] = got["refund"]["user_id"]
    assert same_json(deleted, want) == []


def test_duplicate_transaction_id_is_422_and_changes_nothing(http: httpx2.Client) -> None:
    create_order(http)
    again = fixture("post_create_an_order_transaction.request") | {"amount": 99}
    response = http.post(ORDERS, json=again)
    assert response.status_code == 422
    assert response.json() == {
        "error": "Unprocessable Entity",
        "detail": "Provider tranx already imported for your user account",
        "status": 422,
    }
    assert http.get(f"{ORDERS}/123").json()["order"]["amount"] == "16.5"


def test_an_order_and_a_refund_may_share_an_id(http: httpx2.Client) -> None:
    create_order(http)
    body = fixture("post_create_a_refund_transaction.request") | {"transaction_id": "123"}
    assert http.post(REFUNDS, json=body).status_code == 200


def test_missing_transaction_id_matches_the_documented_error(http: httpx2.Client) -> None:
    body = fixture("post_create_an_order_transaction.request")
    del body["transaction_id"]
    response = http.post(ORDERS, json=body)
    assert response.status_code == 406
    assert response.json() == fixture("error_406_not_acceptable.composed")


@pytest.mark.parametrize(
    ("path", "drop", "detail"),
    [
        (ORDERS, "transaction_date", "transaction_date is missing"),
        (ORDERS, "to_country", "to_country is missing"),
        (ORDERS, "to_zip", "to_zip is missing"),
        (ORDERS, "sales_tax", "sales_tax is missing"),
        (REFUNDS, "transaction_reference_id", "transaction_reference_id is missing"),
    ],
)
def test_required_fields(http: httpx2.Client, path: str, drop: str, detail: str) -> None:
    name = "order" if path == ORDERS else "refund"
    article = "an" if name == "order" else "a"
    body = fixture(f"post_create_{article}_{name}_transaction.request")
    del body[drop]
    response = http.post(path, json=body)
    assert (response.status_code, response.json()["detail"]) == (406, detail)
    assert http.post(
        path, json=fixture(f"post_create_{article}_{name}_transaction.request")
    ).is_success


def test_line_items_need_their_sales_tax(http: httpx2.Client) -> None:
    body = fixture("post_create_an_order_transaction.request")
    del body["line_items"][0]["sales_tax"]
    response = http.post(ORDERS, json=body)
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("change", "status"),
    [({"transaction_id": "12 3"}, 400), ({"transaction_date": "14 May"}, 400)],
)
def test_malformed_fields(http: httpx2.Client, change: dict[str, Any], status: int) -> None:
    body = fixture("post_create_an_order_transaction.request") | change
    assert http.post(ORDERS, json=body).status_code == status


def test_update_of_an_unknown_order_is_404(http: httpx2.Client) -> None:
    response = http.put(f"{ORDERS}/nope", json={"amount": 1})
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_update_cannot_change_the_id(http: httpx2.Client) -> None:
    create_order(http)
    assert http.put(f"{ORDERS}/123", json={"transaction_id": "456"}).status_code == 400


def test_list_by_date_range_answers_ids(http: httpx2.Client) -> None:
    base = fixture("post_create_an_order_transaction.request")
    for transaction_id, day in (
        ("123", "2015/05/14"),
        ("456", "2015/05/31"),
        ("789", "2015/06/01"),
    ):
        http.post(ORDERS, json=base | {"transaction_id": transaction_id, "transaction_date": day})
    got = http.get(
        ORDERS, params={"from_transaction_date": "2015/05/01", "to_transaction_date": "2015/05/31"}
    )
    assert same_json(got.json(), fixture("get_list_order_transactions.response")) == []
    exact = http.get(ORDERS, params={"transaction_date": "2015/06/01"}).json()
    assert exact == {"orders": ["789"]}
    assert http.get(ORDERS, params={"provider": "ebay"}).json() == {"orders": []}


def test_list_refunds(http: httpx2.Client) -> None:
    base = fixture("post_create_a_refund_transaction.request")
    for transaction_id in ("321", "654"):
        http.post(REFUNDS, json=base | {"transaction_id": transaction_id})
    got = http.get(REFUNDS, params={"from_transaction_date": "2015/05/01"})
    assert same_json(got.json(), fixture("get_list_refund_transactions.response")) == []


def test_accounts_do_not_see_each_other(sandbox: TaxJarSandbox, http: httpx2.Client) -> None:
    create_order(http)
    other = sandbox.create_account().token
    response = http.get(f"{ORDERS}/123", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
    state = http.get(f"{sandbox.base_url}/_sandbox/accounts/{other}").json()
    assert state["orders"] == []
