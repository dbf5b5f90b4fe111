"""Injected faults (429/5xx, delays, ``after``, revoked tokens) with recovery, and the
per-minute rate limits with their headers on a fake clock."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.shippo.conftest import (
    LIVE_TOKEN,
    START,
    TEST_TOKEN,
    FakeClock,
    cheapest,
    create_shipment,
    http_client,
)
from tradewind.sandbox.shippo import Limits, RateClass, ShippoSandbox


@pytest.mark.parametrize("status", [429, 500, 503])
def test_the_next_n_requests_fail_then_recover(
    sandbox: ShippoSandbox, client: httpx2.Client, status: int
) -> None:
    kind = "rate_limit" if status == 429 else "server_error"
    sandbox.inject_fault(kind, count=2, status=status)
    for _ in range(2):
        failed = client.get("/shipments")
        assert failed.status_code == status
        assert "detail" in failed.json()
    assert client.get("/shipments").status_code == 200


def test_a_fault_can_target_a_path_and_a_token(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    sandbox.inject_fault(
        "server_error", count=None, path_contains="/transactions", token=TEST_TOKEN
    )
    assert client.get("/shipments").status_code == 200
    assert client.get("/transactions").status_code == 500
    with http_client(sandbox, LIVE_TOKEN) as live:
        assert live.get("/transactions").status_code == 200
    sandbox.clear_faults()
    assert client.get("/transactions").status_code == 200


def test_after_makes_the_change_and_loses_the_answer(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    rate = cheapest(create_shipment(client))
    sandbox.inject_fault("server_error", status=503, after=True, path_contains="/transactions")
    lost = client.post("/transactions", json={"rate": rate["object_id"], "async": False})
    assert lost.status_code == 503
    assert sandbox.labels(TEST_TOKEN) == 1  # the label was bought all the same
    retry = client.post("/transactions", json={"rate": rate["object_id"], "async": False})
    assert retry.json()["status"] == "ERROR"  # a retry does not buy a second label
    assert sandbox.labels(TEST_TOKEN) == 1


def test_a_latency_fault_still_answers(sandbox: ShippoSandbox, client: httpx2.Client) -> None:
    sandbox.inject_fault("latency", latency_ms=1)
    assert client.get("/shipments").status_code == 200
    assert sandbox.sandbox.faults.active() == []


def test_the_control_api_injects_lists_and_clears_faults(
    sandbox: ShippoSandbox, client: httpx2.Client
) -> None:
    control = f"{sandbox.base_url}/_sandbox"
    made = httpx2.post(f"{control}/faults", json={"kind": "server_error", "status": 503})
    assert made.status_code == 201
    assert httpx2.get(f"{control}/faults").json()["faults"][0]["status"] == 503
    assert httpx2.post(f"{control}/faults", json={"kind": "bogus"}).status_code == 422
    assert client.get("/shipments").status_code == 503
    httpx2.post(f"{control}/faults", json={"kind": "rate_limit", "count": None})
    httpx2.delete(f"{control}/faults")
    assert client.get("/shipments").status_code == 200


def test_the_control_api_adds_and_revokes_tokens(sandbox: ShippoSandbox) -> None:
    control = f"{sandbox.base_url}/_sandbox"
    made = httpx2.post(f"{control}/tokens", json={"test": False})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("shippo_live_") and made.json()["test"] is False
    assert httpx2.post(f"{control}/tokens", json={"token": "bad"}).status_code == 422
    with http_client(sandbox, token) as http:
        assert http.get("/shipments").status_code == 200
        assert httpx2.delete(f"{control}/tokens/{token}").json() == {"revoked": True}
        assert http.get("/shipments").status_code == 401
    assert httpx2.delete(f"{control}/tokens/unknown").status_code == 404
    assert httpx2.get(f"{control}/tokens/{TEST_TOKEN}/labels").json() == {"labels": 0}
    assert httpx2.get(f"{control}/tokens/unknown/labels").status_code == 404


def test_test_tokens_may_post_50_times_a_minute(
    sandbox: ShippoSandbox, client: httpx2.Client, clock: FakeClock
) -> None:
    for used in range(50):
        response = client.post("/addresses", json={})
        assert response.status_code == 400  # counted, even though refused
        assert response.headers["X-RateLimit-Limit"] == "50"
        assert response.headers["X-RateLimit-Remaining"] == str(49 - used)
        assert response.headers["X-RateLimit-Reset"] == str(int(START) + 60)
    limited = client.post("/addresses", json={})
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == "60"
    assert "throttled" in limited.json()["detail"]
    assert client.get("/shipments/nope").status_code == 404  # another class is unaffected
    clock.advance(60)
    recovered = client.post("/addresses", json={})
    assert recovered.status_code == 400
    assert recovered.headers["X-RateLimit-Reset"] == str(int(START) + 120)


def test_test_tokens_may_get_single_objects_400_times_a_minute(
    sandbox: ShippoSandbox, client: httpx2.Client, clock: FakeClock
) -> None:
    for _ in range(400):
        assert client.get("/rates/nope").status_code == 404
    assert client.get("/rates/nope").status_code == 429
    clock.advance(30)
    limited = client.get("/rates/nope")
    assert limited.headers["Retry-After"] == "30"


def test_live_tokens_have_the_live_limits(sandbox: ShippoSandbox) -> None:
    with http_client(sandbox, LIVE_TOKEN) as live:
        assert live.get("/shipments").headers["X-RateLimit-Limit"] == "50"
        assert live.get("/rates/nope").headers["X-RateLimit-Limit"] == "4000"
        assert live.get("/tracks/shippo/SHIPPO_TRANSIT").headers["X-RateLimit-Limit"] == "750"
    limits = Limits()
    assert limits.limit(RateClass.get_list, test=True) == 10
    assert limits.limit(RateClass.tracking, test=True) == 50


def test_limits_can_be_switched_off(clock: FakeClock) -> None:
    with ShippoSandbox(limits=Limits(enabled=False), clock=clock) as sandbox:
        token = sandbox.add_token()
        with http_client(sandbox, token) as http:
            for _ in range(11):
                response = http.get("/shipments")
                assert response.status_code == 200
                assert "X-RateLimit-Limit" not in response.headers
        assert httpx2.get(f"{sandbox.base_url}/_sandbox/limits").json()["enabled"] is False
