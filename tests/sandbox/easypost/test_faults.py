"""Faults on demand and the rate limit, each followed by the recovery: the same call
succeeding once the fault is spent or cleared."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from tests.sandbox.easypost.conftest import TEST_KEY, create_shipment, shipment_body
from tradewind.sandbox.easypost import EasyPostSandbox, FaultKind, Limits


@pytest.mark.parametrize(
    ("kind", "status", "expected", "code"),
    [
        (FaultKind.rate_limit, 500, 429, "RATE_LIMITED"),
        (FaultKind.server_error, 500, 500, "INTERNAL_SERVER_ERROR"),
        (FaultKind.server_error, 503, 503, "SERVICE_UNAVAILABLE"),
        (FaultKind.server_error, 504, 504, "GATEWAY_TIMEOUT"),
    ],
)
def test_the_next_n_requests_fail_then_the_same_call_succeeds(
    sandbox: EasyPostSandbox,
    client: httpx2.Client,
    kind: FaultKind,
    status: int,
    expected: int,
    code: str,
) -> None:
    sandbox.inject_fault(kind, count=2, status=status)
    for _ in range(2):
        response = client.post("/shipments", json=shipment_body())
        assert response.status_code == expected
        assert response.json()["error"]["code"] == code
    assert client.post("/shipments", json=shipment_body()).status_code == 201


def test_a_fault_can_target_one_path_and_one_key(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    other = sandbox.add_key("test")
    sandbox.inject_fault("server_error", count=None, path_contains="/buy", key=TEST_KEY)
    shipment = create_shipment(client)  # not /buy: unaffected
    buy = {"rate": {"id": shipment["rates"][0]["id"]}}
    assert client.post(f"/shipments/{shipment['id']}/buy", json=buy).status_code == 500
    with httpx2.Client(base_url=sandbox.api_base, auth=(other, "")) as theirs:
        mine = create_shipment(theirs)
        bought = theirs.post(
            f"/shipments/{mine['id']}/buy", json={"rate": {"id": mine["rates"][0]["id"]}}
        )
        assert bought.status_code == 200
    sandbox.clear_faults()
    assert client.post(f"/shipments/{shipment['id']}/buy", json=buy).status_code == 200


def test_a_5xx_during_buy_buys_no_label_and_the_retry_buys_exactly_one(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    buy = {"rate": {"id": shipment["rates"][0]["id"]}}
    sandbox.inject_fault("server_error", status=503, path_contains="/buy")
    assert client.post(f"/shipments/{shipment['id']}/buy", json=buy).status_code == 503
    assert sandbox.labels(TEST_KEY) == {"bought": 0, "refunded": 0}
    assert client.post(f"/shipments/{shipment['id']}/buy", json=buy).status_code == 200
    assert client.post(f"/shipments/{shipment['id']}/buy", json=buy).status_code == 422
    assert sandbox.labels(TEST_KEY) == {"bought": 1, "refunded": 0}


def test_a_5xx_after_the_buy_took_effect_leaves_one_label_and_refuses_a_second(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    shipment = create_shipment(client)
    buy = {"rate": {"id": shipment["rates"][0]["id"]}}
    sandbox.inject_fault("server_error", status=500, path_contains="/buy", after=True)
    lost = client.post(f"/shipments/{shipment['id']}/buy", json=buy)
    assert lost.status_code == 500
    assert lost.json()["error"]["code"] == "INTERNAL_SERVER_ERROR"
    assert sandbox.labels(TEST_KEY)["bought"] == 1
    assert client.get(f"/shipments/{shipment['id']}").json()["tracking_code"]
    again = client.post(f"/shipments/{shipment['id']}/buy", json=buy)
    assert again.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"
    assert sandbox.labels(TEST_KEY)["bought"] == 1


def test_a_429_after_the_request_took_effect(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    sandbox.inject_fault("rate_limit", after=True)
    assert client.post("/shipments", json=shipment_body()).status_code == 429
    assert len(client.get("/shipments").json()["shipments"]) == 1


def test_latency_delays_the_answer_but_answers(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    sandbox.inject_fault("latency", latency_ms=1)
    assert client.get("/shipments").status_code == 200
    assert sandbox.sandbox.faults.active() == []


def test_a_latency_longer_than_the_client_waits_is_a_timeout(sandbox: EasyPostSandbox) -> None:
    sandbox.inject_fault("latency", latency_ms=2_000)
    with (
        httpx2.Client(base_url=sandbox.api_base, auth=(TEST_KEY, ""), timeout=0.2) as hasty,
        pytest.raises(httpx2.ReadTimeout),
    ):
        hasty.get("/shipments")


def test_faults_through_the_control_api(sandbox: EasyPostSandbox, client: httpx2.Client) -> None:
    control = f"{sandbox.base_url}/_sandbox/faults"
    made = httpx2.post(control, json={"kind": "server_error", "status": 503, "count": 1})
    assert made.status_code == 201
    assert made.json()["after"] is False
    assert httpx2.get(control).json()["faults"][0]["status"] == 503
    assert client.get("/shipments").status_code == 503
    assert httpx2.get(control).json()["faults"] == []
    httpx2.post(control, json={"kind": "rate_limit", "count": None})
    assert client.get("/shipments").status_code == 429
    assert httpx2.delete(control).json() == {"faults": []}
    assert client.get("/shipments").status_code == 200
    assert httpx2.post(control, json={"kind": "meteor"}).status_code == 422


def test_keys_and_labels_through_the_control_api(
    sandbox: EasyPostSandbox, client: httpx2.Client
) -> None:
    control = f"{sandbox.base_url}/_sandbox"
    made = httpx2.post(f"{control}/keys", json={"mode": "production"}).json()
    assert made["key"].startswith("EZAK")
    assert made["mode"] == "production"
    assert httpx2.post(f"{control}/keys", json={"key": "sk_bad"}).status_code == 422
    shipment = create_shipment(client)
    client.post(
        f"/shipments/{shipment['id']}/buy", json={"rate": {"id": shipment["rates"][0]["id"]}}
    )
    assert httpx2.get(f"{control}/keys/{TEST_KEY}/labels").json() == {"bought": 1, "refunded": 0}
    assert httpx2.get(f"{control}/labels").json() == {"bought": 1, "refunded": 0}
    assert httpx2.delete(f"{control}/keys/{TEST_KEY}").json() == {"revoked": True}
    assert client.get("/shipments").status_code == 401
    assert httpx2.delete(f"{control}/keys/EZTKnobody").status_code == 404


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> Iterator[tuple[EasyPostSandbox, httpx2.Client]]:
    with EasyPostSandbox(limits=Limits(per_second=3, index_per_second=2), clock=clock) as running:
        running.add_key("test", TEST_KEY)
        with httpx2.Client(base_url=running.api_base, auth=(TEST_KEY, "")) as http:
            yield running, http


def test_the_rate_limit_answers_429_within_a_second_and_resets(
    limited: tuple[EasyPostSandbox, httpx2.Client], clock: Clock
) -> None:
    _, client = limited
    statuses = [client.post("/shipments", json=shipment_body()).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = client.post("/shipments", json=shipment_body())
    assert refused.json() == {
        "error": {"code": "RATE_LIMITED", "message": "Too Many Requests", "errors": []}
    }
    clock.now += 1
    assert client.post("/shipments", json=shipment_body()).status_code == 201


def test_index_endpoints_have_their_own_lower_limit(
    limited: tuple[EasyPostSandbox, httpx2.Client], clock: Clock
) -> None:
    sandbox, client = limited
    assert [client.get("/shipments").status_code for _ in range(3)] == [200, 200, 429]
    assert client.post("/shipments", json=shipment_body()).status_code == 201
    assert httpx2.get(f"{sandbox.base_url}/_sandbox/limits").json() == {
        "enabled": True,
        "per_second": 3,
        "index_per_second": 2,
    }


def test_the_rate_limit_counts_each_key_apart(
    limited: tuple[EasyPostSandbox, httpx2.Client],
) -> None:
    sandbox, client = limited
    assert [client.get("/shipments").status_code for _ in range(3)] == [200, 200, 429]
    other = sandbox.add_key("test")
    with httpx2.Client(base_url=sandbox.api_base, auth=(other, "")) as theirs:
        assert theirs.get("/shipments").status_code == 200


def test_limits_can_be_switched_off(clock: Clock) -> None:
    with EasyPostSandbox(limits=Limits(index_per_second=1, enabled=False), clock=clock) as sb:
        key = sb.add_key()
        with httpx2.Client(base_url=sb.api_base, auth=(key, "")) as http:
            assert {http.get("/shipments").status_code for _ in range(5)} == {200}
