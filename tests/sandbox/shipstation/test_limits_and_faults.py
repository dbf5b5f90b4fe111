"""The 40-a-minute window with its three headers, on a clock the test moves, and the
faults injected through the control API, each followed by the recovery."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.shipstation.conftest import KEY, SECRET, Clock, create_order, fixture
from tradewind.sandbox.shipstation import Limits, ShipStationSandbox


def _headers(answer: httpx2.Response) -> tuple[int, int, int]:
    return (
        int(answer.headers["X-Rate-Limit-Limit"]),
        int(answer.headers["X-Rate-Limit-Remaining"]),
        int(answer.headers["X-Rate-Limit-Reset"]),
    )


def test_forty_requests_a_minute_then_429_until_the_window_resets(
    client: httpx2.Client, clock: Clock
) -> None:
    first = client.get("/orders")
    assert _headers(first) == (40, 39, 60)
    clock.advance(15)
    for expected in range(38, -1, -1):
        assert _headers(client.get("/orders"))[:2] == (40, expected)
    refused = client.get("/orders")
    assert refused.status_code == 429
    assert refused.json() == {"Message": "Too Many Requests"}
    assert _headers(refused) == (40, 0, 45)
    clock.advance(44.5)
    assert client.get("/orders").status_code == 429
    clock.advance(0.5)
    again = client.get("/orders")
    assert again.status_code == 200
    assert _headers(again) == (40, 39, 60)


def test_the_window_is_per_key_and_secret(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    for _ in range(40):
        client.get("/orders")
    assert client.get("/orders").status_code == 429
    other = sandbox.add_account()
    with httpx2.Client(base_url=sandbox.base_url, auth=other) as http:
        assert _headers(http.get("/orders"))[:2] == (40, 39)


def test_errors_carry_the_headers_too(client: httpx2.Client) -> None:
    assert _headers(client.get("/orders/999"))[:2] == (40, 39)
    assert "X-Rate-Limit-Remaining" in client.post("/orders/createorder", json={}).headers


@pytest.mark.parametrize(
    ("limits", "allowed"), [(Limits(per_minute=3), 3), (Limits(enabled=False), 60)]
)
def test_the_limit_can_be_changed_or_switched_off(limits: Limits, allowed: int) -> None:
    with ShipStationSandbox(limits=limits, clock=Clock()) as sandbox:
        sandbox.add_account(KEY, SECRET)
        with httpx2.Client(base_url=sandbox.base_url, auth=(KEY, SECRET)) as http:
            statuses = [http.get("/orders").status_code for _ in range(allowed)]
            assert statuses == [200] * allowed
            if limits.enabled:
                assert http.get("/orders").status_code == 429


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("rate_limit", 429, "Too Many Requests"),
        ("server_error", 500, "An error has occurred."),
        ("server_error", 503, "The service is unavailable."),
    ],
)
def test_injected_faults_answer_the_next_requests_then_clear(
    client: httpx2.Client, sandbox: ShipStationSandbox, kind: str, status: int, message: str
) -> None:
    control = httpx2.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"kind": kind, "status": status, "count": 2}
    )
    assert control.status_code == 201
    for _ in range(2):
        answer = client.get("/orders")
        assert (answer.status_code, answer.json()) == (status, {"Message": message})
        assert "X-Rate-Limit-Limit" in answer.headers
    assert client.get("/orders").status_code == 200


def test_a_fault_may_be_limited_to_a_path(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    sandbox.inject_fault("server_error", count=None, path_contains="createlabel")
    order = create_order(client)
    body = fixture("orders_createlabelfororder.request.json") | {"orderId": order["orderId"]}
    assert client.post("/orders/createlabelfororder", json=body).status_code == 500
    assert sandbox.labels(KEY) == {"bought": 0, "voided": 0}
    assert httpx2.get(f"{sandbox.base_url}/_sandbox/faults").json()["faults"][0]["count"] is None
    httpx2.delete(f"{sandbox.base_url}/_sandbox/faults")
    assert client.post("/orders/createlabelfororder", json=body).status_code == 200
    assert httpx2.get(f"{sandbox.base_url}/_sandbox/labels").json() == {"bought": 1, "voided": 0}


def test_a_delay_answers_normally(client: httpx2.Client, sandbox: ShipStationSandbox) -> None:
    sandbox.inject_fault("latency", latency_ms=1)
    assert client.get("/orders").status_code == 200
    assert sandbox.sandbox.faults.active() == []


def test_revoked_credentials_answer_401(client: httpx2.Client, sandbox: ShipStationSandbox) -> None:
    assert client.get("/orders").status_code == 200
    revoked = httpx2.delete(f"{sandbox.base_url}/_sandbox/accounts/{KEY}")
    assert revoked.json() == {"revoked": True}
    assert client.get("/orders").status_code == 401


def test_the_control_api_makes_accounts_and_counts_their_labels(
    sandbox: ShipStationSandbox,
) -> None:
    base = f"{sandbox.base_url}/_sandbox"
    made = httpx2.post(f"{base}/accounts", json={"manual_store": False}).json()
    assert len(made["key"]) == 32 and len(made["secret"]) == 32
    auth = (made["key"], made["secret"])
    label = fixture("shipments_createlabel.request.json")
    with httpx2.Client(base_url=sandbox.base_url, auth=auth) as http:
        assert http.post("/shipments/createlabel", json=label).status_code == 500
        switch = httpx2.put(f"{base}/accounts/{made['key']}/manual-store", json={"enabled": True})
        assert switch.json() == {"manual_store": True}
        assert http.post("/shipments/createlabel", json=label).status_code == 200
    assert httpx2.get(f"{base}/accounts/{made['key']}/labels").json() == {"bought": 1, "voided": 0}
    assert httpx2.get(f"{base}/accounts/nobody/labels").status_code == 404
    assert httpx2.get(f"{base}/limits").json() == {"enabled": True, "per_minute": 40}
    assert httpx2.post(f"{base}/faults", json={"kind": "nope"}).status_code == 422


def test_a_fault_for_one_key_spares_the_others(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    other = sandbox.add_account()
    sandbox.inject_fault("server_error", status=503, key=other[0])
    assert client.get("/orders").status_code == 200
    with httpx2.Client(base_url=sandbox.base_url, auth=other) as http:
        assert http.get("/orders").status_code == 503
        assert http.get("/orders").status_code == 200


def test_revoked_credentials_can_be_replaced(
    client: httpx2.Client, sandbox: ShipStationSandbox
) -> None:
    sandbox.revoke(KEY)
    new_secret = "0" * 32
    sandbox.add_account(KEY, new_secret)
    assert client.get("/orders").status_code == 401  # the old secret
    with httpx2.Client(base_url=sandbox.base_url, auth=(KEY, new_secret)) as http:
        assert http.get("/orders").json()["total"] == 0  # a fresh account
