"""Fixtures for the Shippo sandbox tests: a running sandbox on a fake clock with a test
and a live token, an HTTP client holding the test token, and a local webhook receiver
that records exactly what it was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.sandbox.receiver import Receiver, receiving
from tradewind.sandbox.shippo import ShippoSandbox

FIXTURES = Path(__file__).parent / "fixtures"  # copied from the wave-2 reference
TEST_TOKEN = "shippo_test_0000000000000000000000000000000000000001"
LIVE_TOKEN = "shippo_live_0000000000000000000000000000000000000001"
START = 1_800_000_000.0  # the fake clock's first second (a whole minute)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving("/shippo") as listening:
        yield listening


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[ShippoSandbox]:
    with ShippoSandbox(time_scale=100_000, clock=clock) as running:
        running.add_token(True, TEST_TOKEN)
        running.add_token(False, LIVE_TOKEN)
        yield running


def http_client(sandbox: ShippoSandbox, token: str = TEST_TOKEN) -> httpx2.Client:
    return httpx2.Client(
        base_url=sandbox.base_url,
        headers={"Authorization": f"ShippoToken {token}"},
        timeout=10,
    )


@pytest.fixture
def client(sandbox: ShippoSandbox) -> Iterator[httpx2.Client]:
    with http_client(sandbox) as http:
        yield http


ADDRESS_FROM = {
    "name": "Laura Behrens Wu",
    "street1": "215 Clayton St.",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94117",
    "country": "US",
}
ADDRESS_TO = {
    "name": "John Smith",
    "street1": "965 Mission Street",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94103",
    "country": "US",
}


def parcel(weight: str = "2", mass_unit: str = "lb") -> dict[str, str]:
    return {
        "length": "5",
        "width": "5",
        "height": "5",
        "distance_unit": "cm",
        "weight": weight,
        "mass_unit": mass_unit,
    }


def create_shipment(client: httpx2.Client, run_async: bool = False, **extra: Any) -> Any:
    body = {
        "address_from": ADDRESS_FROM,
        "address_to": ADDRESS_TO,
        "parcels": [parcel()],
        "async": run_async,
        **extra,
    }
    response = client.post("/shipments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def cheapest(shipment: Any) -> Any:
    return next(r for r in shipment["rates"] if "CHEAPEST" in r["attributes"])


def buy(client: httpx2.Client, rate_id: str) -> Any:
    response = client.post("/transactions", json={"rate": rate_id, "async": False})
    assert response.status_code == 201, response.text
    return response.json()
