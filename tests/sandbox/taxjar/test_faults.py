"""Injected faults (the next N requests answer 429/500/503) and the per-token rate limit,
each followed by the recovery."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.taxjar.conftest import fixture
from tradewind.sandbox.taxjar import TaxJarSandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 60_000_020.0  # 20 s into a minute window

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("status", "reason"),
    [(429, "Too Many Requests"), (500, "Internal Server Error"), (503, "Service Unavailable")],
)
def test_next_requests_fail_then_recover(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str, status: int, reason: str
) -> None:
    made = http.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"token": token, "status": status, "count": 2}
    )
    assert made.status_code == 201
    for _ in range(2):
        response = http.get("/v2/nexus/regions")
        assert response.status_code == status
        assert (response.json()["error"], response.json()["status"]) == (reason, status)
    if status == 429:
        assert response.headers["retry-after"] == "1"
    assert http.get("/v2/nexus/regions").status_code == 200


def test_fault_during_create_writes_nothing(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    sandbox.inject_fault(token, 500, path_contains="transactions")
    assert http.get("/v2/nexus/regions").status_code == 200  # another path: untouched
    body = fixture("post_create_an_order_transaction.request")
    assert http.post("/v2/transactions/orders", json=body).status_code == 500
    assert http.get("/v2/transactions/orders/123").status_code == 404
    assert http.post("/v2/transactions/orders", json=body).status_code == 200


def test_faults_are_per_token_and_can_be_cleared(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    other = sandbox.create_account().token
    sandbox.inject_fault(token, 503, count=5)
    assert http.get("/v2/categories", headers={"Authorization": f"Bearer {other}"}).is_success
    assert http.get("/v2/categories").status_code == 503
    cleared = http.delete(f"{sandbox.base_url}/_sandbox/faults/{token}")
    assert cleared.status_code == 200
    assert http.get("/v2/categories").status_code == 200


def test_rate_limit_per_token_with_retry_after() -> None:
    clock = FakeClock()
    with TaxJarSandbox(clock=clock) as sandbox:
        limited = sandbox.create_account("limited", per_minute=3).token
        free = sandbox.create_account("free", per_minute=3).token
        with httpx2.Client(base_url=sandbox.base_url, timeout=10) as http:

            def get(token: str) -> httpx2.Response:
                return http.get("/v2/categories", headers={"Authorization": f"Bearer {token}"})

            assert [get(limited).status_code for _ in range(3)] == [200, 200, 200]
            refused = get(limited)
            assert refused.status_code == 429
            assert refused.json() == {
                "error": "Too Many Requests",
                "detail": "Rate limit exceeded for this API token",
                "status": 429,
            }
            assert refused.headers["retry-after"] == "40"
            assert get(free).status_code == 200
            clock.now += 40
            assert get(limited).status_code == 200


def test_a_slow_answer_trips_the_client_timeout_then_recovers(
    sandbox: TaxJarSandbox, token: str
) -> None:
    sandbox.inject_fault(token, None, delay_ms=2_000)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=sandbox.base_url, headers=headers, timeout=0.2) as impatient:
        with pytest.raises(httpx2.TimeoutException):
            impatient.get("/v2/categories")
        assert impatient.get("/v2/categories").status_code == 200


def test_a_delayed_error_still_answers_its_status(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    made = http.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"token": token, "status": 503, "delay_ms": 20},
    )
    assert made.status_code == 201
    assert http.get("/v2/categories").status_code == 503
    assert http.get("/v2/categories").status_code == 200


def test_a_fault_needs_a_status_or_a_delay(
    sandbox: TaxJarSandbox, http: httpx2.Client, token: str
) -> None:
    made = http.post(f"{sandbox.base_url}/_sandbox/faults", json={"token": token, "status": None})
    assert made.status_code == 422
    assert http.get("/v2/categories").status_code == 200
